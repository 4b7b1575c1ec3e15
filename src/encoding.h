/*
 * encoding.h - the Accept-Encoding field (RFC 9110 section 12.5.3), for
 * choosing among precompressed siblings of a file.
 *
 * A pure parser: no allocation, no global state.  The content codings it
 * knows are the ones tinyhttpd can serve from a sibling file: br, zstd and
 * gzip ("x-gzip" counts as gzip, section 8.4.1.3).  Weights are kept in
 * thousandths (q=0.5 is 500); q=0 means "not acceptable".
 */
#ifndef TINYHTTPD_ENCODING_H
#define TINYHTTPD_ENCODING_H

#include <stdbool.h>
#include <stddef.h>

/* In the server's order of preference. */
enum encoding { ENCODING_BR, ENCODING_ZSTD, ENCODING_GZIP, ENCODING_COUNT };

/* The weights a request gave; -1 where a coding was not listed. */
struct encoding_accept {
    short q[ENCODING_COUNT];
    short star;     /* "*" */
    short identity; /* "identity" */
    bool present;   /* at least one Accept-Encoding field was seen */
};

void encoding_accept_init(struct encoding_accept *a);

/*
 * Add one Accept-Encoding field value v[0..len) to *a (several fields
 * combine as one comma-separated list).  Tokens are case-insensitive, OWS
 * is allowed around commas and semicolons, the weight is ";q=" followed by
 * a qvalue ("0" to "1" with at most three decimals).  An element whose
 * weight does not parse, or that has another parameter, is taken as q=0:
 * nothing is sent that the client might not understand.  When a coding is
 * listed twice the lower weight counts.  Empty list elements are skipped.
 */
void encoding_accept_parse(struct encoding_accept *a, const char *v, size_t len);

/* The weight (0..1000) the client gives coding e: its own, else that of
 * "*", else 0.  Without any Accept-Encoding field, 0: a client that did
 * not ask for a coding gets the identity file, as from nginx and h2o. */
int encoding_weight(const struct encoding_accept *a, enum encoding e);

/* The coding's name as sent in Content-Encoding, and the suffix of its
 * sibling file (".br", ".zst", ".gz"). */
const char *encoding_name(enum encoding e);
const char *encoding_suffix(enum encoding e);

#endif
