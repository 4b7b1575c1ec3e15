/*
 * metrics.h - counters of what the daemon does, and the optional listener
 * that serves them to Prometheus (metrics_listen in tinyhttpd.conf(5)).
 *
 * Counting: the counters are a struct metrics, which the server makes once
 * and hands to whatever counts (the connection table, each site it builds);
 * it lives for the whole process, not in anything a reload replaces, so the
 * counters only grow.  Every thread adds to a block of counters of its own
 * in it (a worker or the loop), so the request path takes no lock and
 * shares no cache line; a scrape sums the blocks.  Wherever a struct
 * metrics * is taken, NULL means "count nothing".
 *
 * Serving: the metrics listener answers GET and HEAD /metrics from the loop
 * thread, in the text exposition format 0.0.4, and nothing else: no file
 * is ever served from it.  Each of its connections is bounded (a small
 * request, one response, a deadline) and never blocks the loop.
 */
#ifndef TINYHTTPD_METRICS_H
#define TINYHTTPD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf_listen;

/* Events counted one at a time; any thread. */
enum metrics_event {
    METRICS_ACCEPTED,         /* connections accepted */
    METRICS_MAX_CONNECTIONS,  /* accept paused at max_connections */
    METRICS_QUEUE_FULL,       /* 503 answered because the job queue was full */
    METRICS_CACHE_HIT,        /* a file answered from the file cache */
    METRICS_CACHE_MISS,       /* a cache lookup that found nothing usable */
    METRICS_TLS_HANDSHAKE,    /* TLS handshakes completed */
    METRICS_TLS_HANDSHAKE_ERR /* TLS handshakes that failed or were cut */
};
#define METRICS_NEVENTS (METRICS_TLS_HANDSHAKE_ERR + 1)

struct metrics;

/*
 * Counters for threads threads that count (the workers) and one more (the
 * loop), each in a block of its own, plus a block that threads beyond
 * those share.  NULL with errno set (ENOMEM) on failure.
 */
struct metrics *metrics_new(unsigned threads);

/* NULL accepted; no thread may count into m afterwards. */
void metrics_free(struct metrics *m);

/* How many threads have a block of their own in m (for the tests). */
unsigned metrics_threads(struct metrics *m);

/* Count one event in the calling thread's block of m (NULL: nothing). */
void metrics_count(struct metrics *m, enum metrics_event e);

/* Count one response in m (NULL: nothing): its method (method_len bytes,
 * not NUL-terminated; NULL or 0 for a request line that did not parse),
 * status, body bytes sent and duration. */
void metrics_request(struct metrics *m, const char *method, size_t method_len, int status,
                     uint64_t bytes, uint64_t duration_usec);

/* What only the loop knows, read at each scrape (the loop thread). */
struct metrics_gauges {
    unsigned open;         /* connections open */
    unsigned idle;         /* waiting for a request */
    unsigned slow_client;  /* a response waits for the client to read */
    unsigned capacity;     /* max_connections in effect */
    size_t queued;         /* jobs waiting for a worker */
    unsigned workers;      /* worker threads */
    unsigned workers_busy; /* workers running a job */
    double start_time;     /* seconds since the Epoch */
};
typedef void metrics_gauges_fn(void *arg, struct metrics_gauges *g);

/*
 * The whole exposition (text format 0.0.4) of the counters (all zero when
 * NULL) and g into a malloc'd string of *len bytes; NULL with errno
 * set on failure.  Any thread.
 */
char *metrics_render(struct metrics *counters, const struct metrics_gauges *g, size_t *len);

/* The metrics listener. */
struct metrics_server;

/*
 * Bind the n addresses of list (n may be 0: then NULL is returned with
 * err empty, and there is nothing to serve).  NULL with a message in err
 * on failure.
 */
struct metrics_server *metrics_server_new(const struct conf_listen *list, size_t n, char *err,
                                          size_t errlen);

/* Poll the listeners in the loop's epoll set (data.ptr: objects whose
 * first field is POLL_METRICS, see conn.h); each scrape renders counters
 * (the caller keeps them alive while m runs) and what gauges(arg, g)
 * gives.  0, or -1 with errno set. */
int metrics_server_start(struct metrics_server *m, int epfd, struct metrics *counters,
                         metrics_gauges_fn *gauges, void *arg);

/* Loop thread: epoll reported events for ptr, one of m's objects. */
void metrics_server_event(struct metrics_server *m, void *ptr, uint32_t events, int64_t now_ms);

/* Loop thread: close connections whose deadline passed. */
void metrics_server_sweep(struct metrics_server *m, int64_t now_ms);

/* Close everything; NULL accepted. */
void metrics_server_free(struct metrics_server *m);

#endif
