/*
 * headers.h - response header fields from the configuration (key headers),
 * and the charset parameter (key charset).
 *
 * The configuration is a list of rules; each has an optional path prefix,
 * an optional file name extension, a list of fields to set, and whether it
 * also applies to error responses.  conf.c builds a struct headers while
 * it reads the file (headers_add_rule, headers_add_field check each field);
 * after that it is immutable and shared by reference, so the request path
 * only compares a prefix and an extension per rule and copies prepared
 * lines: no parsing.
 *
 * Every rule whose conditions all hold applies; a response gets their
 * fields in the order of the list, and when two matching rules set a field
 * of the same name, the later rule's replaces the earlier one's (within one
 * rule, a name may repeat).
 */
#ifndef TINYHTTPD_HEADERS_H
#define TINYHTTPD_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEADERS_MAX_RULES 64    /* a match is a bit of a uint64_t */
#define HEADERS_MAX_BYTES 2048  /* of all the fields of all the rules, CRLFs included */
#define HEADERS_MAX_PREFIX 1024 /* bytes of a prefix */

struct headers;

/* An empty set of rules (one reference); NULL with errno set. */
struct headers *headers_new(void);
struct headers *headers_ref(struct headers *h);
void headers_unref(struct headers *h); /* NULL accepted */

/*
 * Append a rule: prefix (NULL or "": every path; else it starts with '/'),
 * extension (NULL or "": every file; else without a leading dot, no '/'),
 * error_pages (the fields also go on error responses).  0, or -1 with *why
 * set to a message ("too many rules", "out of memory", ...).
 */
int headers_add_rule(struct headers *h, const char *prefix, const char *extension, bool error_pages,
                     const char **why);

/*
 * Append the field text "Name: value" to the last rule.  The name must be a
 * token (RFC 9110 section 5.6.2) and not one the server sets itself
 * (headers_owned); the value must not be empty, and must hold no CR, LF,
 * NUL or other control character but HTAB; spaces around it are dropped.
 * 0, or -1 with *why set.
 */
int headers_add_field(struct headers *h, const char *text, const char **why);

/* Whether the field name[0..len) is one the server owns (any case). */
bool headers_owned(const char *name, size_t len);

/* Whether a and b hold the same rules (NULL is the empty set). */
bool headers_equal(const struct headers *a, const struct headers *b);

/*
 * The rules that apply, as a bit mask: path[0..path_len) is the normalised
 * request path (prefixes are compared with it), file[0..file_len) the path
 * of the file that answers it (extensions are compared with its end, in any
 * case); for an error response (error true) only rules with error_pages.
 * path NULL: no request path is known, only rules without a prefix or an
 * extension can apply.  h NULL: 0.
 */
uint64_t headers_match(const struct headers *h, const char *path, size_t path_len, const char *file,
                       size_t file_len, bool error);

/* The most bytes headers_write can write for h. */
size_t headers_size(const struct headers *h);

/* Write the fields of the rules in mask ("Name: value\r\n" each) to out,
 * which has room for headers_size(h) bytes; returns the length. */
size_t headers_write(const struct headers *h, uint64_t mask, char *out);

/*
 * Whether a charset parameter belongs on the media type: text/\*,
 * JavaScript, JSON, XML and the +json and +xml types (image/svg+xml
 * included), when the type has no parameter yet.
 */
bool headers_charset_applies(const char *type);

#endif
