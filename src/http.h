/*
 * http.h - pure HTTP/1.x request parsing and formatting helpers.
 *
 * Nothing here allocates, does I/O, or keeps state between calls: every
 * function is a pure function of its arguments (the chunked body decoder's
 * state is a struct the caller owns), safe from any thread, and easy to unit
 * test and fuzz.  Parsed strings point into the caller's buffer and are not
 * NUL-terminated.
 */
#ifndef TINYHTTPD_HTTP_H
#define TINYHTTPD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define HTTP_MAX_HEADERS 64
#define HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

struct http_header {
    const char *name;
    size_t name_len;
    const char *value; /* leading and trailing OWS removed */
    size_t value_len;
};

struct http_request {
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    int minor_version; /* 0 or 1 (HTTP/1.2..1.9 parse as 1); -1 until
                                      the request line has parsed */
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t num_headers;
    int error_status; /* set when HTTP_PARSE_ERROR is returned */
};

enum { HTTP_PARSE_ERROR = -1, HTTP_PARSE_INCOMPLETE = -2 };

/*
 * Parse a request head (request line and header fields up to and including
 * the empty line) at the start of buf[0..len).  last_len is len at the
 * previous call on the same request (0 at the first), so a head that is
 * still incomplete is not re-parsed from the start.
 *
 * Returns the number of bytes of the head (> 0) when it is complete,
 * HTTP_PARSE_INCOMPLETE when more bytes are needed, or HTTP_PARSE_ERROR with
 * req->error_status set to the status to answer:
 *   400  malformed request line or header line (bad token, bare CR, control
 *        byte, whitespace before ':', obs-fold, missing version, ...)
 *   431  more than HTTP_MAX_HEADERS header fields
 *   505  HTTP major version other than 1
 * Empty lines before the request line are skipped (RFC 9112 section 2.2).
 * A bare LF is accepted as a line terminator.  Never reads buf[len], never
 * writes to buf.
 */
int http_parse_request(const char *buf, size_t len, size_t last_len, struct http_request *req);

/*
 * When the caller's head buffer is full (len bytes) and the head is still
 * incomplete: 414 if the request line has not ended yet, 431 otherwise.
 */
int http_overflow_status(const char *buf, size_t len);

enum http_method {
    HTTP_METHOD_GET,
    HTTP_METHOD_HEAD,
    HTTP_METHOD_KNOWN,   /* a registered method we do not allow: 405 */
    HTTP_METHOD_UNKNOWN, /* 501 */
};

/* What the rest of the server needs to know about a parsed request. */
struct http_req_info {
    enum http_method method;
    bool keep_alive; /* the client allows a persistent connection */
    bool chunked;    /* Transfer-Encoding: chunked */
    bool has_content_length;
    uint64_t content_length;
    bool expect_continue; /* Expect: 100-continue */
    /* NULL when absent */
    const struct http_header *host;
    const struct http_header *if_match;
    const struct http_header *if_none_match;
    const struct http_header *if_modified_since;
    const struct http_header *if_unmodified_since;
    const struct http_header *if_range;
    const struct http_header *range;
    const struct http_header *referer;
    const struct http_header *user_agent;
};

/*
 * Apply RFC 9110/9112 message rules to a parsed request and fill *info.
 * Returns 0 when the request may be served, or the status to answer, after
 * which the connection must be closed:
 *   400  HTTP/1.1 without Host, more than one Host, an invalid Host value,
 *        an absolute-form target ("scheme://authority...") whose authority
 *        is not a valid Host value with a non-empty host (RFC 9112 3.2.2),
 *        Transfer-Encoding together with Content-Length, an invalid or
 *        conflicting Content-Length, Transfer-Encoding in HTTP/1.0
 *   501  a transfer coding other than chunked
 * The method is classified in info->method; answering 405/501 for it is up
 * to the caller.
 */
int http_request_check(const struct http_request *req, struct http_req_info *info);

/* State of a chunked request body being skipped (RFC 9112 section 7.1). */
struct http_chunked {
    /* private to http.c; zero-initialised by http_chunked_init */
    int state;
    uint64_t chunk_left; /* data bytes left in the current chunk */
    uint64_t data_total; /* data bytes seen so far */
    uint32_t line_len;   /* bytes of the current size/trailer line so far */
    uint32_t trailers;   /* trailer field lines seen so far */
};

void http_chunked_init(struct http_chunked *st);

/*
 * Feed buf[0..len) of the body to the decoder; the chunk data is skipped,
 * nothing is copied.  Returns the number of bytes consumed (<= len): when it
 * is < len, the body ended inside buf (the rest is the next request) and
 * *done is true.  Returns HTTP_PARSE_ERROR for a malformed body or one past
 * the limits (chunk-size line or a trailer line longer than max_line, total
 * data over max_data, overlong chunk-size hex, bad CRLF after data, ...).
 * *done is set true when the last chunk (size 0), its trailer section and
 * the final CRLF have been consumed.
 *
 * Details: the grammar of RFC 9112 section 7.1 is enforced strictly -- chunk-size is 1*HEXDIG
 * (any case, leading zeros allowed, a value above UINT64_MAX or above what is left of max_data is
 * an error), chunk extensions are BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ],
 * trailer fields are field-name ":" field-value lines as in the head (no obs-fold) and at most
 * HTTP_MAX_HEADERS of them.  Like http_parse_request, a bare LF ends a line and a bare CR is an
 * error.  max_line counts a line's bytes without its line terminator.  The result is the same
 * whichever way the body is split across calls.  After the end (*done), further calls consume
 * nothing; after an error, they return HTTP_PARSE_ERROR again.
 */
ssize_t http_chunked_skip(struct http_chunked *st, const char *buf, size_t len, uint64_t max_data,
                          size_t max_line, bool *done);

/* The first header named name (case-insensitive), or NULL. */
const struct http_header *http_find_header(const struct http_request *req, const char *name);

/* Whether the comma-separated list value contains token (case-insensitive). */
bool http_has_token(const char *value, size_t len, const char *token);

/* The reason phrase of a status ("Not Found"); "Unknown" for others. */
const char *http_reason(int status);

/* Write t as an IMF-fixdate and a NUL to out; returns HTTP_DATE_LEN. */
size_t http_format_date(char out[HTTP_DATE_LEN + 1], time_t t);

/*
 * Parse an HTTP-date (IMF-fixdate, RFC 850 or asctime format, RFC 9110
 * section 5.6.7).  Returns false if s[0..len) is not a valid date.
 */
bool http_parse_date(const char *s, size_t len, time_t *out);

/*
 * Whether the entity-tag etag (with its quotes, e.g. "\"5f-1a\"") matches
 * the If-Match / If-None-Match list in value[0..len).  "*" matches any.
 * strong: strong comparison (If-Match, If-Range); otherwise weak comparison
 * (If-None-Match), where W/ prefixes are ignored.  A malformed list matches
 * nothing.
 */
bool http_etag_match(const char *value, size_t len, const char *etag, bool strong);

#endif
