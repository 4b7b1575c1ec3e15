/*
 * conn.h - client connections: the table that holds them, and each one's
 * whole life from accept to close.
 *
 * The event loop (server.c) owns the listeners, signals, timers, reload and
 * shutdown; it hands conn.c every accepted socket (conn_accept) and every
 * epoll event of a connection (conn_on_event), and calls the sweep on its
 * timer.  Everything else, including which thread owns a connection at any
 * moment, is private to conn.c (see the state table at its top).  Both
 * struct conn and struct conn_table are opaque.
 *
 * Every object whose address the loop gives epoll as data.ptr starts with
 * an enum poll_kind, so the loop can tell what an event is for without
 * comparing unrelated pointers.
 */
#ifndef TINYHTTPD_CONN_H
#define TINYHTTPD_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct conn;
struct conn_table;
struct pool;
struct site;

enum poll_kind {
    POLL_CONN = 1, /* a struct conn */
    POLL_LISTENER,
    POLL_SIGNAL,
    POLL_WAKE,
    POLL_WATCH,
    POLL_METRICS, /* the metrics listener's (metrics.c) */
};

/*
 * A table of capacity connection slots, allocated once.  epfd is the loop's
 * epoll set, wake_fd an eventfd the loop polls (with data.ptr at a
 * POLL_WAKE tag).  Returns NULL with errno set.
 */
struct conn_table *conn_table_new(unsigned capacity, unsigned max_header_size, int epfd,
                                  int wake_fd);

/* Close whatever is still open and free the table; NULL accepted.  Only
 * after the pool's workers have been joined. */
void conn_table_free(struct conn_table *t);

/* Loop thread, after the pool's workers have been joined: close every
 * connection still open; returns how many there were. */
unsigned conn_table_close_all(struct conn_table *t);

/* The pool that runs connection jobs and its queue size (for messages);
 * before the first conn_accept. */
void conn_table_set_pool(struct conn_table *t, struct pool *pool, unsigned queue_size);

/* Where connections count what they do (metrics.h; NULL: nowhere); before
 * the first conn_accept.  The caller keeps it alive while the table lives. */
struct metrics;
void conn_table_set_metrics(struct conn_table *t, struct metrics *m);

/* The site that connections between requests move to (after a reload);
 * loop thread.  The caller keeps its own reference for as long as it is set. */
void conn_table_set_site(struct conn_table *t, struct site *site);

/* Loop thread: the TLS context of new HTTPS connections (NULL: none).  The
 * caller keeps it alive while it is set; connections keep their own. */
struct tls_ctx;
void conn_table_set_tls(struct conn_table *t, struct tls_ctx *ctx);

/* Loop thread: a new socket fd (non-blocking) from a listener, HTTPS when
 * https.  It is handed to the pool at once, since its request (or
 * ClientHello) has usually arrived with it.  Without a free slot, or
 * without a TLS context for HTTPS, fd is closed. */
void conn_accept(struct conn_table *t, int fd, const struct sockaddr *peer, bool https,
                 int64_t now_ms);

/* Loop thread: epoll reported events for c (its data.ptr). */
void conn_on_event(struct conn_table *t, struct conn *c, uint32_t events, int64_t now_ms);

/* Loop thread: hand the pool the jobs its full queue refused earlier.
 * Returns whether some are still waiting (poll again soon). */
bool conn_table_retry(struct conn_table *t);

/*
 * Loop thread, a few times a second: close connections whose deadline
 * passed (408 for a head that did not arrive in time), give idle
 * connections' buffers back, and once conn_table_close_idle was called
 * close idle connections (all connections once forced).
 */
void conn_table_sweep(struct conn_table *t, int64_t now_ms);

/* Shutting down: no more keep-alive (a response says Connection: close and
 * its connection closes after it).  forced: close everything now, in jobs
 * too. */
void conn_table_stop(struct conn_table *t, bool forced);

/* Stopping, the grace is over: idle connections close at the next sweep
 * (loop thread). */
void conn_table_close_idle(struct conn_table *t);

/* Whether every close should wake the loop (it waits for a free slot, or
 * for the last connection while stopping). */
void conn_table_wake_on_close(struct conn_table *t, bool on);

/* Loop thread, for the metrics: of the connections the loop holds (not
 * those a job is serving), how many wait for a request (idle) and how many
 * wait for the client to read a response (slow). */
void conn_table_census(const struct conn_table *t, unsigned *idle, unsigned *slow);

unsigned conn_table_active(const struct conn_table *t); /* open connections */
unsigned conn_table_capacity(const struct conn_table *t);
unsigned long conn_table_requests(const struct conn_table *t); /* responses completed */

#endif
