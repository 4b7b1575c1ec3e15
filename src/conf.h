/*
 * conf.h - the configuration file (libconfig syntax) and its settings.
 *
 * One table in conf.c lists every key with its type, default, range and
 * whether a reload (SIGHUP) may change it; parsing, defaults, validation,
 * what a reload keeps, and the documentation test (`tinyhttpd
 * --print-keys`) all come from that table.  A struct conf is
 * filled completely or not at all, so a bad file never half-applies.
 */
#ifndef TINYHTTPD_CONF_H
#define TINYHTTPD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define CONF_MAX_LISTEN 32

struct headers;

struct conf_listen {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char text[64]; /* as written: "127.0.0.1:8080", "[::1]:80" */
};

enum conf_log_target { CONF_LOG_AUTO, CONF_LOG_STDERR, CONF_LOG_JOURNAL };

struct conf {
    char *path; /* the file this came from */
    struct conf_listen listen[CONF_MAX_LISTEN];
    size_t nlisten;
    struct conf_listen tls_listen[CONF_MAX_LISTEN]; /* HTTPS; none by default */
    size_t ntls_listen;
    struct conf_listen metrics_listen[CONF_MAX_LISTEN]; /* Prometheus; none by default */
    size_t nmetrics_listen;
    char *document_root; /* an existing directory, as written */
    char *index;         /* index file name, no '/' */
    char *mime_types;    /* mime.types file; "" for built-in only */
    char *user;          /* privileges dropped to when started as root */
    char *group;
    unsigned defer_accept; /* seconds TCP_DEFER_ACCEPT waits for data; 0: off */
    bool reuse_port;       /* SO_REUSEPORT on the listeners */
    unsigned pool_size;    /* worker threads */
    bool cpu_affinity;     /* pin worker i to the i-th allowed CPU */
    unsigned queue_size;   /* jobs waiting for a worker */
    unsigned max_connections;
    unsigned max_header_size;   /* bytes; larger heads get 414/431 */
    unsigned header_timeout;    /* seconds for a whole request head */
    unsigned keepalive_timeout; /* seconds idle between requests; 0: no keep-alive */
    unsigned send_timeout;      /* seconds without progress sending a response */
    unsigned shutdown_timeout;  /* seconds to finish requests on SIGTERM */
    unsigned shutdown_grace;    /* seconds idle connections stay open after SIGTERM */
    int log_level;              /* LOG_ERR .. LOG_DEBUG (syslog.h) */
    enum conf_log_target log_target;
    bool access_log;
    bool directory_listing;    /* an HTML listing for a directory without index */
    unsigned max_ranges;       /* ranges per request before the whole file is sent */
    bool precompressed;        /* serve F.br, F.zst, F.gz siblings by Accept-Encoding */
    struct headers *headers;   /* response fields by path (headers.h); NULL: none */
    char *charset;             /* added to text types' Content-Type; "" for none */
    char *tls_certificate;     /* PEM: the certificate, then its chain; "" if none */
    char *tls_certificate_key; /* PEM private key; "" if none */
    char *tls_protocols;       /* "TLSv1.2 TLSv1.3" or either one */
    char *tls_ciphers;         /* OpenSSL cipher list for TLS 1.2 */
    bool tls_session_tickets;  /* resumption by stateless tickets */
    bool tls_redirect;         /* plain-HTTP requests get a 301 to https:// */
    unsigned tls_hsts;         /* Strict-Transport-Security max-age; 0: not sent */
    char tls_warning[256];     /* set by conf_load: the certificate expires soon */
};

/* Fill c with every default; document_root and path are NULL.  String
 * fields point at static default texts: do not free or write through them
 * (conf_free knows them and is safe, but not needed). */
void conf_defaults(struct conf *c);

/*
 * Read and validate the file at path into *c (which need not be
 * initialised); the configuration boundary, so failures come with a message
 * (see log.h).  On success returns 0 and *c owns its strings (conf_free).
 * On failure returns -1, leaves *c empty (safe to conf_free) and writes one
 * line to err, without a newline, in the form "FILE:LINE: message" (or
 * "FILE: message" when there is no line: an unreadable file, a missing
 * required key).  Unknown keys, wrong types, out-of-range values, addresses
 * that do not parse and a document_root that is not an existing directory
 * are all errors.  @include paths are relative to the file's directory;
 * an error in an included file names that file.  Never prints, never exits.
 */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void conf_free(struct conf *c);

/*
 * Parse "ADDRESS:PORT", "[IPv6]:PORT", "*:PORT" or "PORT" (numeric
 * addresses only) into *l.  Returns 0, or -EINVAL if text is not such an
 * address (then *l is unchanged); text is at most 63 characters.
 */
int conf_parse_listen(const char *text, struct conf_listen *l);

/* The port of a listen address. */
unsigned conf_listen_port(const struct conf_listen *l);

/* The table of keys, for -t, reload and the documentation tests. */
size_t conf_key_count(void);
const char *conf_key_name(size_t i);
bool conf_key_reloadable(size_t i);

/*
 * For a reload: carry the running configuration's restart-only settings
 * over into the one just loaded.  Afterwards next holds running's value of
 * every key that is not reloadable (string fields are swapped between the
 * two, so conf_free of either stays right), and `changed` (when len > 0)
 * names the keys whose values differed, comma-separated in the table's
 * order ("" if none; a name that does not fit is left out whole).
 */
void conf_keep_restart(struct conf *next, struct conf *running, char *changed, size_t len);

/* Level name ("err", "warning", "notice", "info", "debug", and the aliases
 * "error" and "warn") to a syslog priority, or -EINVAL. */
int conf_log_level_parse(const char *name);

#endif
