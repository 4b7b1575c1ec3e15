/*
 * tls_wbio.h - a write BIO for OpenSSL that sends the records of a
 * response together rather than one send() per record (tls_wbio.c).
 * Used by tls.c only, where the kernel has no TLS.
 */
#ifndef TINYHTTPD_TLS_WBIO_H
#define TINYHTTPD_TLS_WBIO_H

#include <stdbool.h>

#include <openssl/bio.h>

/* Four whole records of 16 KiB with TLS 1.2's or 1.3's overhead. */
#define TLS_WBIO_CAP (4u * (16384u + 256u))

/* The method (made once per process by the caller; NULL: out of memory). */
BIO_METHOD *tls_wbio_method(void);

/* A BIO that writes to socket fd (never closing it); NULL with errno. */
BIO *tls_wbio_new(const BIO_METHOD *m, int fd);

/* Whether more follows the next writes: their records are then gathered
 * in the buffer rather than sent one by one.  Without more, a write
 * succeeds only once everything gathered before it has been sent. */
void tls_wbio_set_more(BIO *b, bool more);

#endif
