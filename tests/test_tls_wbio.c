/*
 * test_tls_wbio.c - the gathering write BIO of tls_wbio.c over a real
 * socket pair: records wait only while more follows, a write without more
 * succeeds only once nothing waits, a full socket asks for a retry, every
 * byte arrives once and in order, and an error sticks.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>

#include "test.h"
#include "tls_wbio.h"

#define REC 16384

static uint8_t pattern(uint64_t i)
{
    return (uint8_t)(i * 131 + (i >> 9));
}

/* The next n bytes of the stream, from position *pos. */
static void fill(uint8_t *buf, size_t n, uint64_t *pos)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern((*pos)++);
}

/* Read what the peer has without blocking; check it against the stream.
 * Returns the bytes read. */
static size_t take(int fd, uint64_t *seen, int *bad)
{
    uint8_t buf[65536];
    size_t total = 0;
    ssize_t n;

    while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != pattern((*seen)++))
                (*bad)++;
        total += (size_t)n;
    }
    return total;
}

static void pair(int sv[2])
{
    int small = 4096;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        abort();
    }
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
}

/* Small writes without more go straight out; with more they wait until a
 * write without more, which sends them first. */
static void test_gather(const BIO_METHOD *m)
{
    int sv[2], bad = 0;
    uint8_t rec[1000];
    uint64_t pos = 0, seen = 0;

    pair(sv);
    BIO *b = tls_wbio_new(m, sv[0]);
    CHECK(b != NULL);

    fill(rec, 100, &pos);
    CHECK_INT(BIO_write(b, rec, 100), 100);
    CHECK_INT(BIO_wpending(b), 0);
    CHECK_INT(take(sv[1], &seen, &bad), 100);

    tls_wbio_set_more(b, true);
    for (int i = 0; i < 3; i++) {
        fill(rec, sizeof rec, &pos);
        CHECK_INT(BIO_write(b, rec, sizeof rec), (int)sizeof rec);
    }
    CHECK_INT(BIO_wpending(b), 3000);
    CHECK_INT(take(sv[1], &seen, &bad), 0); /* nothing sent yet */

    tls_wbio_set_more(b, false);
    fill(rec, 10, &pos);
    CHECK_INT(BIO_write(b, rec, 10), 10);
    CHECK_INT(BIO_wpending(b), 0);
    CHECK_INT(take(sv[1], &seen, &bad), 3010);
    CHECK_INT(bad, 0);

    BIO_free(b);
    close(sv[0]);
    close(sv[1]);
}

/*
 * A slow reader: records of 16 KiB with more, then a last one without.
 * The writer retries whenever the BIO asks, reading a little between
 * tries; a write without more must never succeed with bytes still
 * waiting, and the reader must get the whole stream exactly.
 */
static void test_full_socket(const BIO_METHOD *m)
{
    int sv[2], bad = 0, retries = 0, early = 0;
    static uint8_t rec[REC];
    uint64_t pos = 0, seen = 0;
    const int records = 40;

    pair(sv);
    BIO *b = tls_wbio_new(m, sv[0]);
    CHECK(b != NULL);

    for (int i = 0; i < records; i++) {
        bool last = i == records - 1;
        fill(rec, REC, &pos);
        tls_wbio_set_more(b, !last);
        size_t done = 0;
        while (done < REC) {
            int n = BIO_write(b, rec + done, (int)(REC - done));
            if (n > 0) {
                done += (size_t)n;
                continue;
            }
            CHECK(BIO_should_retry(b) && BIO_should_write(b));
            if (!BIO_should_retry(b))
                goto out;
            retries++;
            uint8_t buf[2048]; /* the reader takes a little */
            ssize_t r = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
            for (ssize_t k = 0; k < r; k++)
                if (buf[k] != pattern(seen++))
                    bad++;
        }
        if (last && BIO_wpending(b) != 0)
            early++;
    }
    CHECK(retries > 0); /* the socket did fill up */
    CHECK_INT(early, 0);
    take(sv[1], &seen, &bad);
    CHECK_INT(seen, (uint64_t)records * REC);
    CHECK_INT(bad, 0);
out:
    BIO_free(b);
    close(sv[0]);
    close(sv[1]);
}

/* BIO_flush with a full socket asks for a retry, and sends it all later. */
static void test_flush(const BIO_METHOD *m)
{
    int sv[2], bad = 0;
    static uint8_t rec[REC];
    uint64_t pos = 0, seen = 0;

    pair(sv);
    BIO *b = tls_wbio_new(m, sv[0]);
    tls_wbio_set_more(b, true);
    for (int i = 0; i < 3; i++) {
        fill(rec, REC, &pos);
        CHECK_INT(BIO_write(b, rec, REC), REC);
    }
    CHECK_INT(BIO_flush(b), 0);
    CHECK(BIO_should_retry(b));
    CHECK(BIO_wpending(b) > 0);
    for (int i = 0; i < 1000 && BIO_wpending(b) > 0; i++) {
        take(sv[1], &seen, &bad);
        (void)BIO_flush(b);
    }
    take(sv[1], &seen, &bad);
    CHECK_INT(BIO_wpending(b), 0);
    CHECK_INT(seen, 3 * REC);
    CHECK_INT(bad, 0);
    BIO_free(b);
    close(sv[0]);
    close(sv[1]);
}

/* A reader that is gone: the write fails without a retry, and so does
 * every later one. */
static void test_error(const BIO_METHOD *m)
{
    int sv[2];
    uint8_t rec[100] = { 0 };

    pair(sv);
    BIO *b = tls_wbio_new(m, sv[0]);
    close(sv[1]);
    CHECK(BIO_write(b, rec, sizeof rec) <= 0);
    CHECK(!BIO_should_retry(b));
    tls_wbio_set_more(b, true);
    CHECK(BIO_write(b, rec, sizeof rec) <= 0);
    CHECK(!BIO_should_retry(b));
    BIO_free(b);
    close(sv[0]);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    BIO_METHOD *m = tls_wbio_method();
    CHECK(m != NULL);
    if (m == NULL)
        return test_done();
    test_gather(m);
    test_full_socket(m);
    test_flush(m);
    test_error(m);
    BIO_meth_free(m);
    return test_done();
}
