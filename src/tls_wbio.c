/*
 * tls_wbio.c - the write side of a TLS connection without kernel TLS: an
 * OpenSSL BIO that gathers the records of a response into one buffer and
 * sends them together (see tls_wbio.h).
 *
 * OpenSSL writes one record (at most 16 KiB of plaintext) per BIO write,
 * which on a socket is one send() per record.  While the caller says more
 * is coming (tls_wbio_set_more), records go into a buffer of
 * TLS_WBIO_CAP bytes instead, which is sent when the next record does not
 * fit.  Otherwise (the last write of a response, heads and small bodies,
 * the handshake, alerts) what is gathered is sent first, all of it, and
 * then the record goes straight to the socket; so a write without more
 * succeeds only once nothing waits in the buffer (the one rule: gathered
 * records never outlive the writes of a response), and a small response
 * costs no copy and no allocation.  The buffer is allocated when first
 * needed and freed when it empties with no more coming, so an idle
 * connection holds none.
 *
 * The BIO never closes the socket and never blocks: when the socket is
 * full it asks OpenSSL to retry (BIO_set_retry_write), and OpenSSL calls
 * write again with the same record later.  A write error is kept and
 * reported by every later write and flush.
 */
#include "config.h"

#include "tls_wbio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/bio.h>

struct wbio {
    int fd;
    bool more;  /* the caller has more to write before it flushes */
    int err;    /* a send() error (errno), once one happened */
    char *buf;  /* NULL, or TLS_WBIO_CAP bytes */
    size_t off; /* buf[off, len) is still to be sent */
    size_t len;
};

/* send() without blocking; the bytes sent, or -1 with errno (EAGAIN). */
static ssize_t send_some(struct wbio *w, const char *p, size_t n)
{
    ssize_t r;
    do
        r = send(w->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno != EAGAIN)
        w->err = errno;
    return r;
}

/* Send what is buffered: 1 when all of it went (the buffer is then freed
 * unless more is coming), 0 when the socket is full, -1 on an error. */
static int drain(struct wbio *w)
{
    while (w->off < w->len) {
        ssize_t r = send_some(w, w->buf + w->off, w->len - w->off);
        if (r < 0) {
            errno = w->err != 0 ? w->err : EAGAIN;
            return w->err != 0 ? -1 : 0;
        }
        w->off += (size_t)r;
    }
    w->off = w->len = 0;
    if (!w->more) {
        free(w->buf);
        w->buf = NULL;
    }
    return 1;
}

static int wbio_write(BIO *b, const char *data, size_t n, size_t *written)
{
    struct wbio *w = BIO_get_data(b);

    BIO_clear_retry_flags(b);
    if (w->err != 0) {
        errno = w->err;
        return 0;
    }
    /* Records gathered earlier go first: all of them before a record that
     * ends the batch, or enough of them to make room for this one. */
    if (w->off < w->len && (!w->more || w->len + n > TLS_WBIO_CAP)) {
        if (drain(w) < 0)
            return 0;
        if (w->off > 0 && w->off < w->len) { /* partly sent: the rest to the front */
            memmove(w->buf, w->buf + w->off, w->len - w->off);
            w->len -= w->off;
            w->off = 0;
        }
        if (w->len > 0 && (!w->more || w->len + n > TLS_WBIO_CAP)) {
            BIO_set_retry_write(b);
            return 0;
        }
    }
    if (w->len == 0 && (!w->more || n > TLS_WBIO_CAP)) {
        ssize_t r = send_some(w, data, n);
        if (r < 0) {
            if (w->err == 0)
                BIO_set_retry_write(b);
            return 0;
        }
        *written = (size_t)r;
        return 1;
    }
    if (w->buf == NULL && (w->buf = malloc(TLS_WBIO_CAP)) == NULL) {
        w->err = ENOMEM;
        errno = ENOMEM;
        return 0;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
    *written = n;
    return 1;
}

static long wbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct wbio *w = BIO_get_data(b);
    (void)num;
    (void)ptr;

    switch (cmd) {
    case BIO_CTRL_FLUSH:
        BIO_clear_retry_flags(b);
        switch (drain(w)) {
        case 1:
            return 1;
        case 0:
            BIO_set_retry_write(b);
            return 0;
        default:
            return 0;
        }
    case BIO_CTRL_WPENDING:
        return (long)(w->len - w->off);
    case BIO_CTRL_PENDING:
        return 0;
    default:
        return 0; /* kernel TLS and the rest: not here */
    }
}

static int wbio_destroy(BIO *b)
{
    struct wbio *w = BIO_get_data(b);
    if (w != NULL) {
        free(w->buf);
        free(w);
        BIO_set_data(b, NULL);
    }
    return 1;
}

BIO_METHOD *tls_wbio_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tinyhttpd write");
    if (m == NULL || !BIO_meth_set_write_ex(m, wbio_write) || !BIO_meth_set_ctrl(m, wbio_ctrl) ||
        !BIO_meth_set_destroy(m, wbio_destroy)) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

BIO *tls_wbio_new(const BIO_METHOD *m, int fd)
{
    struct wbio *w = calloc(1, sizeof *w);
    BIO *b = w != NULL ? BIO_new(m) : NULL;

    if (b == NULL) {
        free(w);
        errno = ENOMEM;
        return NULL;
    }
    w->fd = fd;
    BIO_set_data(b, w);
    BIO_set_init(b, 1);
    return b;
}

void tls_wbio_set_more(BIO *b, bool more)
{
    struct wbio *w = BIO_get_data(b);
    w->more = more;
}
