/*
 * test_metrics.c - unit tests for the counters of src/metrics.c: NULL
 * counts nothing, two struct metrics count independently, each thread has
 * a block of its own (threads beyond the blocks share one) and a render
 * sums them, and the exposition of known counts has the expected lines.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* Whether text[0..len) has line as one whole line. */
static bool has_line(const char *text, size_t len, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; p < text + len;) {
        const char *end = memchr(p, '\n', (size_t)(text + len - p));
        if (end == NULL)
            end = text + len;
        if ((size_t)(end - p) == n && memcmp(p, line, n) == 0)
            return true;
        p = end + 1;
    }
    return false;
}

/* The exposition of m with gauges g (all 0 when NULL), NUL-terminated. */
static char *render(struct metrics *m, const struct metrics_gauges *g, size_t *len)
{
    struct metrics_gauges zero;

    memset(&zero, 0, sizeof zero);
    char *text = metrics_render(m, g ? g : &zero, len);
    CHECK(text != NULL);
    return text;
}

#define CHECK_LINE(text, len, line)                                                       \
    do {                                                                                  \
        test_checks++;                                                                    \
        if (!has_line((text), (len), (line))) {                                           \
            test_failures++;                                                              \
            fprintf(stderr, "FAIL: %s:%d: no line \"%s\"\n", __FILE__, __LINE__, (line)); \
        }                                                                                 \
    } while (0)

static void test_null(void)
{
    size_t len;

    metrics_count(NULL, METRICS_ACCEPTED);
    metrics_request(NULL, "GET", 3, 200, 10, 10);
    metrics_free(NULL);
    char *text = render(NULL, NULL, &len);
    if (text == NULL)
        return;
    CHECK_LINE(text, len, "tinyhttpd_connections_accepted_total 0");
    CHECK_LINE(text, len, "tinyhttpd_requests_total{method=\"GET\",code=\"2xx\"} 0");
    CHECK_LINE(text, len, "tinyhttpd_request_duration_seconds_count 0");
    free(text);
}

static void test_two(void)
{
    struct metrics *a = metrics_new(2), *b = metrics_new(2);
    size_t la, lb;

    CHECK(a != NULL && b != NULL);
    if (a == NULL || b == NULL)
        return;
    /* Back and forth: the thread comes back to the block it had. */
    for (int i = 0; i < 5; i++) {
        metrics_count(a, METRICS_ACCEPTED);
        metrics_count(b, METRICS_QUEUE_FULL);
        metrics_count(b, METRICS_QUEUE_FULL);
    }
    metrics_request(b, "HEAD", 4, 304, 0, 1);
    CHECK_INT(metrics_threads(a), 1);
    CHECK_INT(metrics_threads(b), 1);
    char *ta = render(a, NULL, &la), *tb = render(b, NULL, &lb);
    if (ta != NULL && tb != NULL) {
        CHECK_LINE(ta, la, "tinyhttpd_connections_accepted_total 5");
        CHECK_LINE(ta, la, "tinyhttpd_queue_full_total 0");
        CHECK_LINE(ta, la, "tinyhttpd_requests_total{method=\"HEAD\",code=\"3xx\"} 0");
        CHECK_LINE(tb, lb, "tinyhttpd_connections_accepted_total 0");
        CHECK_LINE(tb, lb, "tinyhttpd_queue_full_total 10");
        CHECK_LINE(tb, lb, "tinyhttpd_requests_total{method=\"HEAD\",code=\"3xx\"} 1");
    }
    free(ta);
    free(tb);
    metrics_free(a);
    metrics_free(b);
}

/* A struct metrics made where one this thread counted into was freed: the
 * thread's cache of the old one is not trusted. */
static void test_reuse(void)
{
    struct metrics *old = metrics_new(8);
    size_t len;

    CHECK(old != NULL);
    if (old == NULL)
        return;
    metrics_count(old, METRICS_ACCEPTED);
    uintptr_t was = (uintptr_t)old;
    metrics_free(old);
    /* Smaller ones fit where old was; the allocator decides where they go. */
    struct metrics *c = NULL, *other[16];
    size_t nother = 0;
    while (nother < 16 && (c = metrics_new(1)) != NULL && (uintptr_t)c != was) {
        other[nother++] = c;
        c = NULL;
    }
    while (nother > 0)
        metrics_free(other[--nother]);
    if (c == NULL)
        c = metrics_new(1);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    printf("# the new struct metrics is %s\n",
           (uintptr_t)c == was ? "where the old one was" : "elsewhere (reuse not exercised)");
    metrics_count(c, METRICS_CACHE_HIT);
    CHECK_INT(metrics_threads(c), 1);
    char *tc = render(c, NULL, &len);
    if (tc != NULL) {
        CHECK_LINE(tc, len, "tinyhttpd_cache_hits_total 1");
        CHECK_LINE(tc, len, "tinyhttpd_connections_accepted_total 0");
    }
    free(tc);
    metrics_free(c);
}

#define NTHREADS 6
#define PER_THREAD 1000000

struct run {
    struct metrics *m;
    pthread_barrier_t start; /* the threads count at the same time */
};

static void *counter(void *arg)
{
    struct run *r = arg;
    struct metrics *m = r->m;

    pthread_barrier_wait(&r->start);
    for (int i = 0; i < PER_THREAD; i++) {
        metrics_count(m, METRICS_ACCEPTED);
        metrics_request(m, "GET", 3, 200, 3, 100);
    }
    return NULL;
}

/* threads threads count into a struct metrics made for blocks threads. */
static void run_threads(unsigned blocks, unsigned threads)
{
    struct run r = { .m = metrics_new(blocks) };
    struct metrics *m = r.m;
    pthread_t tid[NTHREADS];
    char want[128];
    size_t len;

    CHECK(m != NULL && threads <= NTHREADS);
    if (m == NULL || pthread_barrier_init(&r.start, NULL, threads) != 0) {
        CHECK(!"pthread_barrier_init");
        metrics_free(m);
        return;
    }
    for (unsigned i = 0; i < threads; i++)
        if (pthread_create(&tid[i], NULL, counter, &r) != 0) {
            perror("pthread_create");
            abort(); /* the others would wait at the barrier for ever */
        }
    for (unsigned i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&r.start);
    /* blocks workers and a loop have one each; the rest share one. */
    CHECK_INT(metrics_threads(m), threads < blocks + 1 ? threads : blocks + 1);
    char *text = render(m, NULL, &len);
    if (text != NULL) {
        unsigned long long n = (unsigned long long)threads * PER_THREAD;
        snprintf(want, sizeof want, "tinyhttpd_connections_accepted_total %llu", n);
        CHECK_LINE(text, len, want);
        snprintf(want, sizeof want, "tinyhttpd_requests_total{method=\"GET\",code=\"2xx\"} %llu",
                 n);
        CHECK_LINE(text, len, want);
        snprintf(want, sizeof want, "tinyhttpd_response_body_bytes_total %llu", 3 * n);
        CHECK_LINE(text, len, want);
        snprintf(want, sizeof want, "tinyhttpd_request_duration_seconds_bucket{le=\"0.0001\"} %llu",
                 n);
        CHECK_LINE(text, len, want);
    }
    free(text);
    metrics_free(m);
}

static void test_threads(void)
{
    run_threads(NTHREADS, NTHREADS); /* a block each, one left over */
    run_threads(2, NTHREADS);        /* three blocks of their own, three share block 0 */
}

static void test_render(void)
{
    struct metrics *m = metrics_new(1);
    struct metrics_gauges g = { .open = 7,
                                .idle = 3,
                                .slow_client = 1,
                                .capacity = 1000,
                                .queued = 2,
                                .workers = 4,
                                .workers_busy = 2,
                                .start_time = 1234.5 };
    size_t len;

    CHECK(m != NULL);
    if (m == NULL)
        return;
    metrics_request(m, "GET", 3, 200, 100, 50);      /* le 0.0001 */
    metrics_request(m, "GET", 3, 206, 200, 2000);    /* le 0.0025 */
    metrics_request(m, "HEAD", 4, 404, 0, 20000000); /* above every bound */
    metrics_request(m, "POST", 4, 405, 0, 0);        /* other */
    metrics_request(m, NULL, 0, 400, 11, 0);         /* no request line */
    metrics_request(m, "GET", 3, 600, 0, 0);         /* no class: not in requests */
    for (int i = 0; i < 3; i++)
        metrics_count(m, METRICS_CACHE_MISS);
    metrics_count(m, METRICS_TLS_HANDSHAKE);
    metrics_count(m, METRICS_TLS_HANDSHAKE_ERR);
    metrics_count(m, METRICS_TLS_HANDSHAKE_ERR);
    metrics_count(m, METRICS_MAX_CONNECTIONS);
    char *text = render(m, &g, &len);
    if (text != NULL) {
        static const char *const want[] = {
            ("# HELP tinyhttpd_requests_total Responses sent (completely or as far as the client "
             "took them), by method and status class."),
            "# TYPE tinyhttpd_requests_total counter",
            "tinyhttpd_requests_total{method=\"GET\",code=\"2xx\"} 2",
            "tinyhttpd_requests_total{method=\"GET\",code=\"4xx\"} 0",
            "tinyhttpd_requests_total{method=\"HEAD\",code=\"4xx\"} 1",
            "tinyhttpd_requests_total{method=\"other\",code=\"4xx\"} 2",
            "tinyhttpd_requests_total{method=\"other\",code=\"5xx\"} 0",
            "tinyhttpd_response_body_bytes_total 311",
            "# TYPE tinyhttpd_request_duration_seconds histogram",
            "tinyhttpd_request_duration_seconds_bucket{le=\"0.0001\"} 4",
            "tinyhttpd_request_duration_seconds_bucket{le=\"0.001\"} 4",
            "tinyhttpd_request_duration_seconds_bucket{le=\"0.0025\"} 5",
            "tinyhttpd_request_duration_seconds_bucket{le=\"10\"} 5",
            "tinyhttpd_request_duration_seconds_bucket{le=\"+Inf\"} 6",
            "tinyhttpd_request_duration_seconds_sum 20.002050",
            "tinyhttpd_request_duration_seconds_count 6",
            "tinyhttpd_connections_accepted_total 0",
            "tinyhttpd_connections_open 7",
            "tinyhttpd_connections_idle 3",
            "tinyhttpd_connections_slow_client 1",
            "tinyhttpd_connections_max 1000",
            "tinyhttpd_max_connections_reached_total 1",
            "tinyhttpd_queue_full_total 0",
            "tinyhttpd_queue_jobs 2",
            "tinyhttpd_workers 4",
            "tinyhttpd_workers_busy 2",
            "tinyhttpd_cache_hits_total 0",
            "tinyhttpd_cache_misses_total 3",
            "tinyhttpd_tls_handshakes_total 1",
            "tinyhttpd_tls_handshake_failures_total 2",
            "# TYPE tinyhttpd_start_time_seconds gauge",
            "tinyhttpd_start_time_seconds 1234.500",
        };
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
            CHECK_LINE(text, len, want[i]);
        CHECK(len > 0 && text[len - 1] == '\n');
    }
    free(text);
    metrics_free(m);
}

int main(void)
{
    test_null();
    test_two();
    test_reuse();
    test_threads();
    test_render();
    return test_done();
}
