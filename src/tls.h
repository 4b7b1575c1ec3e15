/*
 * tls.h - HTTPS: the server's TLS context and each connection's TLS state,
 * over OpenSSL 3 (tls.c), or nothing at all in a build without it
 * (tls_none.c, where every function fails or does nothing).
 *
 * Sockets stay non-blocking: every call here returns at once, and when
 * OpenSSL needs the socket to become readable or writable the call says so
 * (TLS_WANT_READ, TLS_WANT_WRITE) and the caller parks the connection in
 * epoll as it would a plain socket that would block.  A context is
 * immutable once built; each connection's SSL object holds a reference to
 * the context it was made from, so a reload swaps in a new certificate for
 * new connections while the ones in flight finish on the old one.
 */
#ifndef TINYHTTPD_TLS_H
#define TINYHTTPD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct conf;
struct tls_ctx;
struct tls_conn;

/* Mozilla's "intermediate" cipher suites for TLS 1.2 (TLS 1.3's are
 * OpenSSL's defaults, which are the same profile's). */
#define TLS_DEFAULT_CIPHERS                                      \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

/* Days left before a certificate expires below which a warning is given. */
#define TLS_EXPIRY_WARN_DAYS 14

/* Whether this build can serve HTTPS. */
bool tls_available(void);

/*
 * Build a context from c's tls_* keys: load and check the certificate chain
 * and the key (they parse, they match, the certificate is valid now),
 * protocols, ciphers, tickets, ALPN.  The start-up and configuration
 * boundary, so failures come with a message: returns NULL, writes err and
 * sets *bad_key to the name of the key at fault.  When the certificate
 * expires within TLS_EXPIRY_WARN_DAYS, warn gets a message (else "").
 */
struct tls_ctx *tls_ctx_new(const struct conf *c, char *err, size_t errlen, const char **bad_key,
                            char *warn, size_t warnlen);
void tls_ctx_free(struct tls_ctx *ctx); /* NULL accepted; connections keep theirs */

/* A connection's TLS state over the non-blocking socket fd, as the server
 * side of a handshake that has not started.  NULL with errno set. */
struct tls_conn *tls_conn_new(struct tls_ctx *ctx, int fd);
void tls_conn_free(struct tls_conn *t); /* NULL accepted */

enum {
    TLS_WANT_READ = -2,  /* park until the socket is readable */
    TLS_WANT_WRITE = -3, /* park until the socket is writable */
    TLS_CLOSED = -4,     /* the peer closed (close_notify or EOF) */
    TLS_FAILED = -5,     /* a handshake or protocol error; give up */
};

/* Read application data (the handshake first, when it is not done).
 * Returns bytes read (> 0) or one of the codes above. */
ssize_t tls_read(struct tls_conn *t, void *buf, size_t len);

/* Write application data; partial writes happen.  After TLS_WANT_*, call
 * again with the same bytes.  Returns bytes written (> 0) or a code.  With
 * more (more of the response follows), the records may wait in a buffer
 * to go out with the next ones; a write without more succeeds only once
 * all of them, its own included, are in the kernel. */
ssize_t tls_write(struct tls_conn *t, const void *buf, size_t len, bool more);

/* Whether the kernel encrypts what is sent (kernel TLS): then files go out
 * with tls_sendfile, else through tls_write from a buffer. */
bool tls_kernel_send(const struct tls_conn *t);

/* Send len bytes of file fd from offset off through kernel TLS.  Returns
 * bytes sent (> 0), 0 at the end of the file, or a code. */
ssize_t tls_sendfile(struct tls_conn *t, int fd, off_t off, size_t len);

/* Whether the handshake is complete. */
bool tls_ready(const struct tls_conn *t);

/* Whether the last tls_read emptied the socket and nothing read is left
 * in OpenSSL's buffers, so that, as after a short read of a plain socket,
 * the connection can wait for the next edge-triggered event without
 * another read.  False when unsure. */
bool tls_drained(const struct tls_conn *t);

/* Send close_notify once, without waiting for the peer's. */
void tls_close_notify(struct tls_conn *t);

/* The negotiated protocol ("TLSv1.3") and cipher, for the logs; NULL
 * before the handshake is done. */
const char *tls_protocol(const struct tls_conn *t);
const char *tls_cipher(const struct tls_conn *t);

/* Whether the handshake failed because plain HTTP came instead of a
 * ClientHello (the caller may then answer 400 in plain text). */
bool tls_got_http(const struct tls_conn *t);

#endif
