/*
 * tls_none.c - the TLS interface in a build without OpenSSL
 * (./configure --without-openssl): HTTPS is not available, and the
 * configuration check rejects the tls_* keys before any of this is called.
 */
#include "config.h"

#include "tls.h"

#include <errno.h>
#include <stdio.h>

bool tls_available(void)
{
    return false;
}

struct tls_ctx *tls_ctx_new(const struct conf *c, char *err, size_t errlen, const char **bad_key,
                            char *warn, size_t warnlen)
{
    (void)c;
    if (warnlen > 0)
        warn[0] = '\0';
    *bad_key = "tls_certificate";
    snprintf(err, errlen, "HTTPS is not available: tinyhttpd was built without OpenSSL");
    return NULL;
}

void tls_ctx_free(struct tls_ctx *ctx)
{
    (void)ctx;
}

struct tls_conn *tls_conn_new(struct tls_ctx *ctx, int fd)
{
    (void)ctx;
    (void)fd;
    errno = ENOTSUP;
    return NULL;
}

void tls_conn_free(struct tls_conn *t)
{
    (void)t;
}

ssize_t tls_read(struct tls_conn *t, void *buf, size_t len)
{
    (void)t;
    (void)buf;
    (void)len;
    return TLS_FAILED;
}

ssize_t tls_write(struct tls_conn *t, const void *buf, size_t len, bool more)
{
    (void)t;
    (void)buf;
    (void)len;
    (void)more;
    return TLS_FAILED;
}

bool tls_kernel_send(const struct tls_conn *t)
{
    (void)t;
    return false;
}

ssize_t tls_sendfile(struct tls_conn *t, int fd, off_t off, size_t len)
{
    (void)t;
    (void)fd;
    (void)off;
    (void)len;
    return TLS_FAILED;
}

bool tls_ready(const struct tls_conn *t)
{
    (void)t;
    return false;
}

bool tls_drained(const struct tls_conn *t)
{
    (void)t;
    return false;
}

void tls_close_notify(struct tls_conn *t)
{
    (void)t;
}

const char *tls_protocol(const struct tls_conn *t)
{
    (void)t;
    return NULL;
}

const char *tls_cipher(const struct tls_conn *t)
{
    (void)t;
    return NULL;
}

bool tls_got_http(const struct tls_conn *t)
{
    (void)t;
    return false;
}
