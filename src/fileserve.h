/*
 * fileserve.h - map a request onto a file below the document root and
 * decide the response: status, validators, body slice.
 *
 * A struct site holds what a reload may change (document root, index name,
 * media types, timeouts, access log); it is immutable once built and
 * reference-counted, so a reload swaps in a new one while connections that
 * hold the old one finish with it.
 */
#ifndef TINYHTTPD_FILESERVE_H
#define TINYHTTPD_FILESERVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http.h"
#include "range.h"

struct conf;
struct fcache;
struct fwatch;
struct headers;
struct metrics;
struct mime;

struct site {
    atomic_uint refs;
    int root_fd; /* O_PATH|O_DIRECTORY descriptor of document_root */
    char *root;  /* document_root as configured, for messages */
    char *index;
    struct mime *mime;
    struct fwatch *watch;    /* inotify on what the cache holds, or NULL */
    struct fcache *cache;    /* small files and absent paths */
    unsigned header_timeout; /* seconds */
    unsigned keepalive_timeout;
    unsigned send_timeout;
    bool access_log;
    bool precompressed;      /* serve F.br, F.zst, F.gz for F (Accept-Encoding) */
    struct headers *headers; /* configured response fields, or NULL */
    char *charset;           /* for text types' Content-Type, or NULL */
    bool https;              /* a certificate is configured */
    bool tls_redirect;       /* plain-HTTP requests get a 301 to https:// */
    unsigned tls_hsts;       /* Strict-Transport-Security max-age; 0: none */
    unsigned tls_port;       /* for that redirect: the first tls_listen's, or 443 */

    unsigned max_ranges;    /* ranges one request may ask for (<= FILESERVE_MAX_PARTS) */
    bool directory_listing; /* list a directory that has no index file */

    struct metrics *metrics; /* where cache lookups count: the server's, not the
                                site's; NULL (as built): nowhere */
};

/*
 * Build a site from a validated configuration (one reference).  Returns
 * NULL and writes a message to err when the document root cannot be opened
 * or memory runs out.
 */
struct site *fileserve_site_new(const struct conf *c, char *err, size_t errlen);
struct site *fileserve_site_ref(struct site *s);
void fileserve_site_unref(struct site *s); /* NULL accepted */

#define FILESERVE_ETAG_LEN 64
#define FILESERVE_MAX_PARTS 64 /* the largest max_ranges */

/* What to answer.  fd, when >= 0, belongs to the caller (close it). */
struct fileserve_plan {
    int status;       /* 200, 206, 301, 304, or an error status */
    int fd;           /* body source, or -1 */
    const char *data; /* or the whole file in memory (the caller's buffer) */
    uint64_t offset;  /* body slice [offset, offset + length) of fd */
    uint64_t length;
    uint64_t size;                 /* size of the whole representation */
    const char *content_type;      /* NULL: none */
    time_t mtime;                  /* Last-Modified, when has_validators */
    bool has_validators;           /* send Last-Modified and ETag */
    char etag[FILESERVE_ETAG_LEN]; /* quoted */
    const char *content_encoding;  /* a precompressed sibling is sent: "br", "zstd", "gzip" */
    bool vary;                     /* the file has such siblings: Vary: Accept-Encoding */
    const char *charset;           /* add "; charset=" this to content_type, or NULL */
    uint64_t header_rules;         /* the configured rules that apply (headers_match) */
    /* A 206 of several ranges (multipart/byteranges) has nparts >= 2 sorted,
     * disjoint parts, and offset and length are then those of the first and
     * of the whole span (offset to the end of the last part); otherwise
     * nparts is 0 and parts is not set. */
    unsigned nparts;
    struct range_span parts[FILESERVE_MAX_PARTS];
};

/*
 * Resolve the GET or HEAD request req against site and fill *plan.  A small
 * file (up to FCACHE_MAX_FILE bytes, and at most body_cap) comes back in
 * memory: plan->data points at body, which holds the whole file, and
 * plan->fd is -1; a larger one comes back as an open fd.  Never
 * follows a path out of the document root (openat2 with RESOLVE_BENEATH),
 * never serves a hidden segment (except under /.well-known/), and never
 * blocks on a FIFO or device.  Always fills a plan; errors become 400, 403,
 * 404, 416 or 500 plans with fd = -1 (see fileserve_error_page).  A target
 * whose path is too long to name a file (PATH_MAX or more) is 404.
 * status 301 means "append a slash": the caller builds the Location.
 */
void fileserve_resolve(const struct site *site, const struct http_request *req,
                       const struct http_req_info *info, struct fileserve_plan *plan, char *body,
                       size_t body_cap);

/*
 * Find the custom page "<status>.html" at the top of the document root, if
 * there is a regular file of that name, and fill plan: length, type, and
 * either data (body, when it is small enough for body_cap and the cache)
 * or an open fd.  Otherwise leave plan->data NULL and plan->fd at -1.  The
 * status is unchanged.
 */
void fileserve_error_page(const struct site *site, struct fileserve_plan *plan, char *body,
                          size_t body_cap);

/*
 * The descriptor that becomes readable when files below the document root
 * change (for epoll), or -1 when there is none.  The event loop then calls
 * fileserve_site_changes, which drops what the changes make stale from the
 * cache; it must do so before it hands on requests that arrived with them.
 */
int fileserve_site_watch_fd(const struct site *site);
void fileserve_site_changes(struct site *site);

/* Whether changes are being read in another thread (a worker reads them
 * too, see conn.c): then the loop calls fileserve_site_changes as well,
 * which waits until they have been acted on. */
bool fileserve_site_busy(struct site *site);

/* The site is being replaced (reload) and its changes are no longer read:
 * stop caching in it. */
void fileserve_site_retire(struct site *site);

#endif
