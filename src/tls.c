/*
 * tls.c - HTTPS over OpenSSL 3: the context built from the configuration,
 * and the non-blocking reads and writes of each connection (see tls.h).
 *
 * Defaults follow Mozilla's "intermediate" profile: TLS 1.2 and 1.3 only,
 * forward-secret AEAD suites, X25519/P-256/P-384.  No renegotiation, no
 * compression; ALPN offers http/1.1 only.  Resumption by TLS 1.3 tickets
 * (stateless unless tls_session_tickets is off) and TLS 1.2 session IDs
 * (the server's cache).  OpenSSL gives its read and write buffers back
 * while a connection is idle (SSL_MODE_RELEASE_BUFFERS).  Where the kernel
 * has TLS (the tls module is loaded), OpenSSL hands it the record layer
 * after the handshake and files go out with SSL_sendfile.  Elsewhere files
 * go through SSL_write, and a connection writes through tls_wbio.c, which
 * sends the records of a response together instead of one send() each.
 * Reads take what the socket has (read-ahead), not a record at a time, and
 * a callback on the read BIO notes whether the last one emptied the socket.
 *
 * The write BIO's method is made once and kept for the life of the process,
 * since connections of a replaced context go on using it: a constant after
 * its first use, not state.
 */
#include "config.h"

#include "tls.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conf.h"
#include "log.h"
#include "tls_wbio.h"

struct tls_ctx {
    SSL_CTX *ssl;
    bool ktls; /* the kernel has TLS: OpenSSL may hand it the records */
};

struct tls_conn {
    SSL *ssl;
    BIO *wbio;   /* the gathering write BIO, or NULL with kernel TLS */
    bool failed; /* a fatal error: no close_notify */
    bool got_http;
    bool notified;
    bool dry; /* the last read from the socket emptied it (see tls_drained) */
};

static const unsigned char alpn_http11[] = "\x08http/1.1";

static BIO_METHOD *wbio_method;
static pthread_once_t wbio_once = PTHREAD_ONCE_INIT;

static void make_wbio_method(void)
{
    wbio_method = tls_wbio_method();
}

/* Whether the kernel offers TLS to sockets now (the tls module is loaded;
 * a daemon without CAP_NET_ADMIN cannot load it on demand). */
static bool kernel_has_tls(void)
{
    char line[256], *save = NULL;
    bool yes = false;
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "re");

    if (f == NULL)
        return false;
    if (fgets(line, sizeof line, f) != NULL)
        for (char *w = strtok_r(line, " \n", &save); w != NULL && !yes;
             w = strtok_r(NULL, " \n", &save))
            yes = strcmp(w, "tls") == 0;
    fclose(f);
    return yes;
}

bool tls_available(void)
{
    return true;
}

/* The oldest queued OpenSSL error as text, or fallback. */
static const char *ssl_error(char *buf, size_t len, const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        return fallback;
    ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    unsigned char *sel;
    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&sel, outlen, alpn_http11, sizeof alpn_http11 - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* Protocols, ciphers, resumption, modes: everything but the key pair. */
static int set_policy(SSL_CTX *ssl, const struct conf *c, bool ktls, char *err, size_t errlen,
                      const char **bad_key)
{
    char e[256];
    bool v12 = strstr(c->tls_protocols, "TLSv1.2") != NULL;
    bool v13 = strstr(c->tls_protocols, "TLSv1.3") != NULL;

    if (!SSL_CTX_set_min_proto_version(ssl, v12 ? TLS1_2_VERSION : TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ssl, v13 ? TLS1_3_VERSION : TLS1_2_VERSION)) {
        *bad_key = "tls_protocols";
        snprintf(err, errlen, "%s", ssl_error(e, sizeof e, "cannot set the protocols"));
        return -1;
    }
    if (!SSL_CTX_set_cipher_list(ssl, c->tls_ciphers)) {
        *bad_key = "tls_ciphers";
        snprintf(err, errlen, "no usable cipher in '%s'", c->tls_ciphers);
        ERR_clear_error();
        return -1;
    }
    SSL_CTX_set_options(ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF | (ktls ? SSL_OP_ENABLE_KTLS : 0) |
                                 (c->tls_session_tickets ? 0 : SSL_OP_NO_TICKET));
    SSL_CTX_set_read_ahead(ssl, 1);
    SSL_CTX_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!SSL_CTX_set1_groups_list(ssl, "X25519:prime256v1:secp384r1") ||
        !SSL_CTX_set_dh_auto(ssl, 1) ||
        !SSL_CTX_set_session_id_context(ssl, (const unsigned char *)PACKAGE_NAME,
                                        sizeof PACKAGE_NAME - 1)) {
        *bad_key = "tls_ciphers";
        snprintf(err, errlen, "%s", ssl_error(e, sizeof e, "cannot set the key exchange"));
        return -1;
    }
    SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_SERVER);
    /* One ticket per handshake: stateless with tickets on, a session-cache
     * reference (stateful TLS 1.3 resumption) with SSL_OP_NO_TICKET. */
    SSL_CTX_set_num_tickets(ssl, 1);
    SSL_CTX_set_alpn_select_cb(ssl, select_alpn, NULL);
    return 0;
}

/* Whether path can be opened for reading; err says why not. */
static bool readable(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    fclose(f);
    return true;
}

/* The certificate is valid now; warn when it expires soon. */
static int check_dates(SSL_CTX *ssl, const struct conf *c, char *err, size_t errlen, char *warn,
                       size_t warnlen)
{
    X509 *x = SSL_CTX_get0_certificate(ssl);
    int days = 0, secs = 0;

    if (x == NULL) {
        snprintf(err, errlen, "%s holds no certificate", c->tls_certificate);
        return -1;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) {
        snprintf(err, errlen, "the certificate in %s is not valid yet", c->tls_certificate);
        return -1;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
        snprintf(err, errlen, "the certificate in %s has expired", c->tls_certificate);
        return -1;
    }
    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) && days < TLS_EXPIRY_WARN_DAYS)
        snprintf(warn, warnlen, "the certificate in %s expires in %d day%s", c->tls_certificate,
                 days, days == 1 ? "" : "s");
    return 0;
}

/* The certificate chain and the private key, which must match. */
static int load_pair(SSL_CTX *ssl, const struct conf *c, char *err, size_t errlen,
                     const char **bad_key)
{
    char e[256];

    *bad_key = "tls_certificate";
    if (!readable(c->tls_certificate, err, errlen))
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ssl, c->tls_certificate) != 1) {
        snprintf(err, errlen, "%s: %s", c->tls_certificate,
                 ssl_error(e, sizeof e, "not a PEM certificate"));
        return -1;
    }
    *bad_key = "tls_certificate_key";
    if (!readable(c->tls_certificate_key, err, errlen))
        return -1;
    if (SSL_CTX_use_PrivateKey_file(ssl, c->tls_certificate_key, SSL_FILETYPE_PEM) != 1 &&
        ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
        snprintf(err, errlen, "%s: %s", c->tls_certificate_key,
                 ssl_error(e, sizeof e, "not a PEM private key"));
        return -1;
    }
    if (ERR_peek_last_error() != 0 || SSL_CTX_check_private_key(ssl) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "%s does not match the certificate in %s", c->tls_certificate_key,
                 c->tls_certificate);
        return -1;
    }
    return 0;
}

struct tls_ctx *tls_ctx_new(const struct conf *c, char *err, size_t errlen, const char **bad_key,
                            char *warn, size_t warnlen)
{
    struct tls_ctx *ctx = calloc(1, sizeof *ctx);
    char e[256];

    if (warnlen > 0)
        warn[0] = '\0';
    *bad_key = "tls_certificate";
    if (ctx == NULL || (ctx->ssl = SSL_CTX_new(TLS_server_method())) == NULL) {
        snprintf(err, errlen, "%s", ssl_error(e, sizeof e, strerror(ENOMEM)));
        free(ctx);
        return NULL;
    }
    ctx->ktls = kernel_has_tls();
    if (set_policy(ctx->ssl, c, ctx->ktls, err, errlen, bad_key) < 0 ||
        load_pair(ctx->ssl, c, err, errlen, bad_key) < 0 ||
        (*bad_key = "tls_certificate", check_dates(ctx->ssl, c, err, errlen, warn, warnlen) < 0)) {
        tls_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void tls_ctx_free(struct tls_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

/* The read BIO's callback: after each read from the socket, whether it
 * emptied the socket (it gave less than asked, or nothing for now). */
static long note_read(BIO *b, int oper, const char *argp, size_t len, int argi, long argl,
                      int ret, size_t *processed)
{
    (void)argp;
    (void)argi;
    (void)argl;
    if (oper == (BIO_CB_READ | BIO_CB_RETURN)) {
        struct tls_conn *t = (struct tls_conn *)BIO_get_callback_arg(b);
        t->dry = ret > 0 ? processed != NULL && *processed < len : BIO_should_retry(b);
    }
    return ret;
}

/* Reads from the socket, writes through the gathering BIO. */
static bool set_bios(struct tls_conn *t, int fd)
{
    BIO *r, *w;

    if (pthread_once(&wbio_once, make_wbio_method) != 0 || wbio_method == NULL)
        return false;
    r = BIO_new_socket(fd, BIO_NOCLOSE);
    w = r != NULL ? tls_wbio_new(wbio_method, fd) : NULL;
    if (w == NULL) {
        BIO_free(r);
        return false;
    }
    BIO_set_callback_ex(r, note_read);
    BIO_set_callback_arg(r, (char *)t);
    SSL_set_bio(t->ssl, r, w);
    t->wbio = w;
    return true;
}

struct tls_conn *tls_conn_new(struct tls_ctx *ctx, int fd)
{
    struct tls_conn *t = calloc(1, sizeof *t);

    if (t == NULL)
        return NULL;
    t->ssl = SSL_new(ctx->ssl);
    if (t->ssl == NULL || (ctx->ktls ? SSL_set_fd(t->ssl, fd) != 1 : !set_bios(t, fd))) {
        ERR_clear_error();
        SSL_free(t->ssl);
        free(t);
        errno = ENOMEM;
        return NULL;
    }
    SSL_set_accept_state(t->ssl);
    return t;
}

void tls_conn_free(struct tls_conn *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl);
    free(t);
}

/* What a failed SSL_read or SSL_write (result n) means. */
static ssize_t tls_result(struct tls_conn *t, int n)
{
    int e = SSL_get_error(t->ssl, n);
    unsigned long err;

    switch (e) {
    case SSL_ERROR_WANT_READ:
        return TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return TLS_CLOSED;
    case SSL_ERROR_SYSCALL:
        t->failed = true;
        ERR_clear_error();
        return TLS_CLOSED;
    default:
        t->failed = true;
        err = ERR_peek_last_error();
        if (ERR_GET_LIB(err) == ERR_LIB_SSL && ERR_GET_REASON(err) == SSL_R_HTTP_REQUEST)
            t->got_http = true;
        if (log_get_level() >= LOG_DEBUG) {
            char buf[256];
            log_debug("TLS: %s", ssl_error(buf, sizeof buf, "error"));
        }
        ERR_clear_error();
        return TLS_FAILED;
    }
}

ssize_t tls_read(struct tls_conn *t, void *buf, size_t len)
{
    int n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    return n > 0 ? n : tls_result(t, n);
}

ssize_t tls_write(struct tls_conn *t, const void *buf, size_t len, bool more)
{
    if (t->wbio != NULL)
        tls_wbio_set_more(t->wbio, more);
    int n = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    return n > 0 ? n : tls_result(t, n);
}

bool tls_kernel_send(const struct tls_conn *t)
{
    return BIO_get_ktls_send(SSL_get_wbio(t->ssl)) > 0;
}

ssize_t tls_sendfile(struct tls_conn *t, int fd, off_t off, size_t len)
{
    ossl_ssize_t n = SSL_sendfile(t->ssl, fd, off, len, 0);
    if (n > 0)
        return n;
    return n == 0 ? 0 : tls_result(t, (int)n);
}

bool tls_drained(const struct tls_conn *t)
{
    /* With kernel TLS a read returns a record at a time: never sure. */
    return t->wbio != NULL && t->dry && !SSL_has_pending(t->ssl);
}

bool tls_ready(const struct tls_conn *t)
{
    return SSL_is_init_finished(t->ssl);
}

void tls_close_notify(struct tls_conn *t)
{
    if (t->failed || t->notified || !SSL_is_init_finished(t->ssl))
        return;
    t->notified = true;
    if (t->wbio != NULL)
        tls_wbio_set_more(t->wbio, false);
    if (SSL_shutdown(t->ssl) < 0)
        ERR_clear_error(); /* the socket may be full or gone: never wait */
}

const char *tls_protocol(const struct tls_conn *t)
{
    return SSL_is_init_finished(t->ssl) ? SSL_get_version(t->ssl) : NULL;
}

const char *tls_cipher(const struct tls_conn *t)
{
    return SSL_is_init_finished(t->ssl) ? SSL_get_cipher_name(t->ssl) : NULL;
}

bool tls_got_http(const struct tls_conn *t)
{
    return t->got_http;
}
