/*
 * conn.c - a client connection's whole life: accepted, handed between the
 * event loop and the pool, read, answered, written, parked, closed.
 *
 * Design: the event loop (server.c) passes every accepted socket and every
 * epoll event of a connection to this file.  A connection that is ready is
 * handed to the pool, and conn_job() runs on a worker: it reads what the
 * socket has (never waiting), parses with the pure parser, resolves the
 * file (fileserve.c), builds the head into the connection's buffer and
 * writes as much as the socket takes: send() for the head, sendfile() for
 * the body.  When the socket would block, the job parks the connection back
 * in epoll with a deadline and returns; a worker never sleeps on a client.
 * Pipelined requests are answered in order from the same buffer; a request
 * body (Content-Length or chunked) is read and dropped so the connection
 * stays in step.
 *
 * Ownership.  A connection belongs to the loop thread or to exactly one pool
 * job, never to both, so its fields need no lock; the owner field says which,
 * and only the transitions below change it:
 *
 *   owner      who touches the slot          leaves by (thread: operation)
 *   FREE       nobody; slot on free list     loop: conn_accept -> LOOP
 *   LOOP       the loop thread               loop: dispatch, store -> JOB, then
 *                                              pool_execute (its queue lock publishes)
 *                                            loop: conn_close -> FREE
 *   JOB        the one job holding it        job: park, CAS JOB -> LOOP (release)
 *                                            job: conn_close -> FREE (release)
 *                                            loop: epoll event, CAS JOB -> JOB_EVENT
 *                                              (acq_rel; event_in stored before it)
 *   JOB_EVENT  the same job                  job: its park CAS fails (acquire, so it
 *                                              sees event_in), stores JOB, reads again
 *
 * The loop reads owner with acquire before it touches a connection, so it
 * sees everything the job wrote before parking or closing.  After a
 * successful park or a close the job does not touch the connection again.
 * Sockets stay in epoll, edge-triggered, for their whole life (for input;
 * for output space only while a response waits for it).  The slots are
 * allocated once, so a slot the loop looks at (a stale event) is never freed
 * under it; per-connection buffers are allocated while a request is in
 * progress and given back when the connection idles.  The table's free list
 * is the only structure shared between threads, under free_lock.
 */
#include "config.h"

#include "conn.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fcache.h"
#include "fileserve.h"
#include "headers.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "multipart.h"
#include "path.h"
#include "pool.h"
#include "tls.h"

/* head fields and built-in bodies, beyond the target; configured fields */
#define OUT_CAP_EXTRA (2048 + HEADERS_MAX_BYTES)
#define HEAD_ROOM (1024 + HEADERS_MAX_BYTES) /* the longest head of a file response */
#define LINGER_MS 5000                       /* how long a closing connection is drained */
#define TRIM_AT_CONNECTIONS 256 /* above this many open, idle buffers go back at once */
#define SEND_SLICE (4u << 20)   /* bytes one job sends before yielding the worker */
#define TLS_PIECE (64u << 10)   /* a file's piece over TLS: four whole records */
#define DISCARD_MAX (64u << 10) /* larger request bodies close the connection instead */
#define SERVER_NAME PACKAGE_NAME "/" PACKAGE_VERSION

enum conn_owner { CONN_FREE, CONN_LOOP, CONN_JOB, CONN_JOB_EVENT };

enum conn_state {
    CONN_READ,   /* waiting for (more of) a request head or body */
    CONN_SEND,   /* a response is partly written */
    CONN_LINGER, /* closing: our side shut, draining what the client sends */
};

struct conn {
    enum poll_kind kind;  /* POLL_CONN; first, see conn.h */
    atomic_int owner;     /* enum conn_owner */
    atomic_bool event_in; /* the CONN_JOB_EVENT event was input (see serve()) */
    int fd;
    struct tls_conn *tls; /* HTTPS, or NULL */
    bool tls_want_out;    /* TLS waits for output space, not input */
    bool tls_counted;     /* the handshake is in the metrics, as done or failed */
    uint32_t tls_piece;   /* body bytes (a file piece, a part head) in the out
                             buffer, not yet written */
    bool peer_gone;       /* the client closed or reset: no close_notify */
    enum conn_state state;
    bool registered; /* added to epoll (it is not until it first waits) */
    bool armed_out;  /* epoll also reports output space */
    bool drained;    /* the last read emptied the socket */
    unsigned index;  /* slot in the table */
    struct conn_table *table;
    struct site *site;   /* reference held while open */
    int64_t deadline_ms; /* monotonic; meaningful while parked */
    int64_t accepted_ms;

    /* request input: the head being read, then kept until its response is done */
    char *buf; /* in (max_header_size) followed by out */
    uint32_t in_len;
    uint32_t parse_last; /* in_len at the previous incomplete parse */
    uint32_t head_len;   /* bytes of the head being answered, 0 if none */
    uint64_t discard;    /* Content-Length body bytes still to drop */
    bool chunked_body;   /* a chunked body is being dropped (chunked) */
    struct http_chunked chunked;
    int64_t head_start_us; /* first byte of the current head; 0: none yet */
    unsigned requests;     /* answered on this connection */

    /* response output */
    uint32_t out_len, out_off;
    uint32_t inline_len; /* bytes at the end of out that are body */
    uint64_t hdr_rules;  /* configured field rules for an error response (headers.h) */
    int file_fd;
    uint64_t file_off, file_end;
    struct conn_parts *parts; /* several ranges from file_fd, or NULL; see send_parts */
    uint64_t body_sent;
    int status;
    bool keep_alive;
    bool linger_after; /* close by lingering (unread input may remain) */
    bool head_only;
    int8_t minor_version; /* -1: the request line did not parse */

    /* the request being answered, for the access log (offsets into buf) */
    uint16_t method_off, method_len;
    uint16_t target_off, target_len;
    uint16_t referer_off, referer_len; /* len 0: absent */
    uint16_t agent_off, agent_len;

    char peer[INET6_ADDRSTRLEN];
    struct conn *next_retry; /* loop-private list of jobs the full queue refused */
    bool retry_queued;       /* on that list (and not armed in epoll) */
    bool from_event;         /* the job was started by an epoll event (serve()) */
};

struct conn_table {
    int epfd;
    int wake_fd; /* eventfd that wakes the loop */
    struct pool *pool;
    unsigned queue_size; /* the pool's, for messages */
    unsigned max_header_size;
    unsigned capacity;         /* max_connections */
    struct conn *slots;        /* capacity slots, allocated once */
    pthread_mutex_t free_lock; /* guards free_stack and free_top */
    unsigned *free_stack;
    unsigned free_top;
    atomic_uint active;        /* open connections */
    atomic_bool stopping;      /* shutting down: no more keep-alive */
    atomic_bool forced;        /* shutdown timeout passed: close everything now */
    atomic_bool wake_on_close; /* the loop wants to hear of every close */
    atomic_ulong requests;     /* responses completed */
    atomic_ulong bytes;        /* body bytes sent */
    struct metrics *metrics;   /* where to count, or NULL; set before the first accept */

    /* loop thread only */
    struct tls_ctx *tls_ctx; /* new HTTPS connections' context */
    unsigned high_water;     /* slots [0, high_water) have been used */
    struct site *site;       /* where connections between requests move */
    struct conn *retry_head; /* connections the full queue refused, to resubmit */
    struct conn *retry_tail;
    bool close_idle;         /* stopping, and the grace for idle connections is over */
    unsigned rejected;       /* 503s not yet logged */
    int64_t rejected_log_ms; /* when they were last logged */
};

enum send_result { SEND_DONE, SEND_AGAIN, SEND_YIELD, SEND_ERROR };

static void conn_job(void *arg);
static void conn_close(struct conn *c);
static void conn_reject(struct conn *c, int status, int64_t now_ms);
static bool conn_is_gone(const struct conn *c);
static void conn_linger_read(struct conn *c);
static void conn_trim(struct conn *c);
static void plain_http_on_tls(struct conn *c);
static void linger_in_job(struct conn *c);
static void log_request(struct conn *c);
static void drop_parts(struct conn *c);
static void count_handshake(struct conn *c, ssize_t r);

/* The out buffer: heads and small bodies, and over TLS without kernel TLS
 * the pieces of a file, four whole TLS records (64 KiB) each. */
static size_t out_cap(const struct conn *c)
{
    size_t n = c->table->max_header_size + OUT_CAP_EXTRA;
    return c->tls != NULL && n < TLS_PIECE ? TLS_PIECE : n;
}

static char *out_buf(struct conn *c)
{
    return c->buf + c->table->max_header_size;
}

/* ------------------------------------------------------------------ table */

static void conn_table_release(struct conn_table *t)
{
    free(t->slots);
    free(t->free_stack);
    free(t);
}

struct conn_table *conn_table_new(unsigned capacity, unsigned max_header_size, int epfd,
                                  int wake_fd)
{
    struct conn_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->capacity = capacity;
    t->max_header_size = max_header_size;
    t->epfd = epfd;
    t->wake_fd = wake_fd;
    t->slots = calloc(capacity, sizeof *t->slots);
    t->free_stack = malloc(capacity * sizeof *t->free_stack);
    int r = t->slots && t->free_stack ? pthread_mutex_init(&t->free_lock, NULL) : ENOMEM;
    if (r != 0) {
        conn_table_release(t);
        errno = r;
        return NULL;
    }
    /* Slots are handed out lowest first, so high_water stays small. */
    for (unsigned i = 0; i < capacity; i++) {
        t->free_stack[i] = capacity - 1 - i;
        t->slots[i].kind = POLL_CONN;
    }
    t->free_top = capacity;
    return t;
}

void conn_table_free(struct conn_table *t)
{
    if (t == NULL)
        return;
    conn_table_close_all(t);
    pthread_mutex_destroy(&t->free_lock);
    conn_table_release(t);
}

unsigned conn_table_close_all(struct conn_table *t)
{
    unsigned left = 0;

    for (unsigned i = 0; i < t->high_water; i++) {
        struct conn *c = &t->slots[i];
        if (atomic_load_explicit(&c->owner, memory_order_acquire) != CONN_FREE) {
            conn_close(c);
            left++;
        }
    }
    t->retry_head = t->retry_tail = NULL;
    return left;
}

void conn_table_set_pool(struct conn_table *t, struct pool *pool, unsigned queue_size)
{
    t->pool = pool;
    t->queue_size = queue_size;
}

void conn_table_set_metrics(struct conn_table *t, struct metrics *m)
{
    t->metrics = m;
}

void conn_table_set_site(struct conn_table *t, struct site *site)
{
    t->site = site;
}

void conn_table_set_tls(struct conn_table *t, struct tls_ctx *ctx)
{
    t->tls_ctx = ctx;
}

void conn_table_stop(struct conn_table *t, bool forced)
{
    atomic_store(&t->stopping, true);
    atomic_store(&t->wake_on_close, true);
    if (forced)
        atomic_store(&t->forced, true);
}

void conn_table_close_idle(struct conn_table *t)
{
    t->close_idle = true;
}

void conn_table_wake_on_close(struct conn_table *t, bool on)
{
    atomic_store(&t->wake_on_close, on);
}

unsigned conn_table_active(const struct conn_table *t)
{
    return atomic_load(&t->active);
}

unsigned conn_table_capacity(const struct conn_table *t)
{
    return t->capacity;
}

unsigned long conn_table_requests(const struct conn_table *t)
{
    return atomic_load(&t->requests);
}

static void wake_loop(struct conn_table *t)
{
    uint64_t one = 1;
    if (write(t->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_err("eventfd write: %s", strerror(errno));
}

static void format_peer(char *out, size_t len, const struct sockaddr *peer)
{
    if (peer->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, out, (socklen_t)len);
    } else if (peer->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)peer)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)len);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)len);
    } else {
        snprintf(out, len, "-");
    }
}

/* Loop thread: a free slot for fd, owned by the loop and not yet in epoll
 * (the job adds it only if it has to wait).  NULL, with fd closed, when no
 * slot is free. */
static struct conn *conn_open(struct conn_table *t, int fd, const struct sockaddr *peer, bool https,
                              int64_t now_ms)
{
    struct tls_conn *tls = NULL;
    unsigned idx;

    if (https && (t->tls_ctx == NULL || (tls = tls_conn_new(t->tls_ctx, fd)) == NULL)) {
        log_err("cannot set up TLS for a new connection: %s",
                t->tls_ctx ? strerror(errno) : "no certificate");
        close(fd);
        return NULL;
    }

    pthread_mutex_lock(&t->free_lock); /* free_stack/free_top */
    if (t->free_top == 0) {
        pthread_mutex_unlock(&t->free_lock);
        if (tls != NULL)
            metrics_count(t->metrics, METRICS_TLS_HANDSHAKE_ERR); /* it cannot take place */
        tls_conn_free(tls);
        close(fd);
        return NULL;
    }
    idx = t->free_stack[--t->free_top];
    pthread_mutex_unlock(&t->free_lock);

    /* The slot is FREE: no other thread touches it (table above). */
    struct conn *c = &t->slots[idx];
    memset(c, 0, sizeof *c); /* conn_close left no buffer behind */
    c->kind = POLL_CONN;
    c->fd = fd;
    c->tls = tls;
    c->index = idx;
    c->table = t;
    c->site = fileserve_site_ref(t->site);
    c->file_fd = -1;
    c->state = CONN_READ;
    c->accepted_ms = now_ms;
    c->deadline_ms = now_ms + (int64_t)c->site->header_timeout * 1000;
    c->minor_version = -1;
    format_peer(c->peer, sizeof c->peer, peer);
    if (idx >= t->high_water)
        t->high_water = idx + 1;
    atomic_fetch_add(&t->active, 1);
    atomic_store_explicit(&c->owner, CONN_LOOP, memory_order_relaxed);
    return c;
}

/* Close and free the slot; from whichever thread owns c.  The caller must
 * not touch c afterwards. */
static void conn_close(struct conn *c)
{
    struct conn_table *t = c->table;

    if (c->file_fd >= 0)
        close(c->file_fd);
    c->file_fd = -1;
    drop_parts(c);
    if (c->tls != NULL) {
        if (!c->peer_gone)
            tls_close_notify(c->tls);
        count_handshake(c, TLS_CLOSED);
        tls_conn_free(c->tls);
        c->tls = NULL;
    }
    if (close(c->fd) < 0)
        log_debug("close fd %d: %s", c->fd, strerror(errno));
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    fileserve_site_unref(c->site);
    c->site = NULL;
    atomic_store_explicit(&c->owner, CONN_FREE, memory_order_release);

    pthread_mutex_lock(&t->free_lock); /* free_stack/free_top */
    t->free_stack[t->free_top++] = c->index;
    pthread_mutex_unlock(&t->free_lock);

    atomic_fetch_sub(&t->active, 1);
    if (atomic_load(&t->wake_on_close))
        wake_loop(t);
}

/* ------------------------------------------------------------------ hand-over */

/*
 * Make sure epoll watches c for input, and for output space when out is
 * set.  A connection is added once, edge-triggered, and modified only when
 * a response has to wait for output space (and once more when the next
 * request is awaited), so a request costs no epoll_ctl, and the loop is not
 * woken for output space nobody waits for.  Edge-triggered means an event
 * comes only when something new happens, so whoever parks a connection
 * must first have read until EAGAIN (or be waiting for write space after a
 * short write); adding or modifying reports what is ready at once, so
 * nothing is missed in between.  0, or -1 with errno set.
 */
static int conn_arm(struct conn *c, bool out)
{
    if (c->registered && c->armed_out == out)
        return 0;
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLRDHUP | EPOLLET | (out ? EPOLLOUT : 0u),
        .data.ptr = c,
    };
    if (epoll_ctl(c->table->epfd, c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0)
        return -1;
    c->registered = true;
    c->armed_out = out;
    return 0;
}

/*
 * Job: hand the connection back to the loop until its next event or
 * deadline.  Returns true when the job is done with c: it was parked (from
 * then on we must not touch it) or, if epoll refused it, closed.  Returns
 * false when an event arrived while we held the connection (the loop marked
 * it CONN_JOB_EVENT instead of dispatching it): we still own it and must
 * look at the socket again, since that event will not come a second time.
 */
static bool conn_park(struct conn *c, int64_t deadline, bool out)
{
    c->deadline_ms = deadline;
    if (conn_arm(c, out) < 0) {
        log_err("epoll_ctl fd %d: %s", c->fd, strerror(errno));
        conn_close(c);
        return true;
    }
    int expected = CONN_JOB;
    /* Release: the loop sees all we wrote.  Acquire on failure: we see the
     * event_in the loop stored before its CAS. */
    if (atomic_compare_exchange_strong_explicit(&c->owner, &expected, CONN_LOOP,
                                                memory_order_acq_rel, memory_order_acquire))
        return true;
    assert(expected == CONN_JOB_EVENT);
    atomic_store_explicit(&c->owner, CONN_JOB, memory_order_relaxed);
    return false;
}

static void retry_push(struct conn_table *t, struct conn *c)
{
    c->retry_queued = true;
    c->next_retry = NULL;
    if (t->retry_tail)
        t->retry_tail->next_retry = c;
    else
        t->retry_head = c;
    t->retry_tail = c;
}

/* The queue was full for a connection that waits for its request: 503. */
static void reject_busy(struct conn_table *t, struct conn *c, int64_t now)
{
    if (conn_is_gone(c)) {
        conn_close(c); /* nobody to answer: the client left */
        return;
    }
    metrics_count(t->metrics, METRICS_QUEUE_FULL);
    /* One line a second at most, however hard the flood. */
    t->rejected++;
    if (now - t->rejected_log_ms >= 1000) {
        log_warn("job queue full (%u jobs): answered %u request%s with 503", t->queue_size,
                 t->rejected, t->rejected == 1 ? "" : "s");
        t->rejected = 0;
        t->rejected_log_ms = now;
    }
    conn_reject(c, 503, now);
}

/* Loop: hand a connection it owns to the pool.  from_event: epoll reported
 * input on it, in a batch whose file changes were read first; false for one
 * just accepted, or ready only for output. */
static void dispatch(struct conn_table *t, struct conn *c, bool from_event, int64_t now)
{
    if (c->state == CONN_LINGER) {
        conn_linger_read(c);
        return;
    }
    if (atomic_load_explicit(&t->forced, memory_order_relaxed)) {
        conn_close(c);
        return;
    }
    if (c->site != t->site && c->state == CONN_READ) {
        /* A reload happened: the connection moves to the new site. */
        fileserve_site_unref(c->site);
        c->site = fileserve_site_ref(t->site);
    }
    c->from_event = from_event;
    atomic_store_explicit(&c->event_in, false, memory_order_relaxed);
    /* The pool's queue lock publishes this and every field to the job. */
    atomic_store_explicit(&c->owner, CONN_JOB, memory_order_relaxed);
    if (pool_execute(t->pool, conn_job, c) == 0)
        return;
    atomic_store_explicit(&c->owner, CONN_LOOP, memory_order_relaxed);
    if (c->state == CONN_READ)
        reject_busy(t, c, now);
    else
        retry_push(t, c); /* a response is under way: it must go on */
}

void conn_accept(struct conn_table *t, int fd, const struct sockaddr *peer, bool https,
                 int64_t now_ms)
{
    struct conn *c = conn_open(t, fd, peer, https, now_ms);
    metrics_count(t->metrics, METRICS_ACCEPTED);
    if (c != NULL)
        dispatch(t, c, false, now_ms);
}

bool conn_table_retry(struct conn_table *t)
{
    while (t->retry_head != NULL) {
        struct conn *c = t->retry_head;
        if (atomic_load_explicit(&t->forced, memory_order_relaxed)) {
            t->retry_head = c->next_retry;
            c->retry_queued = false;
            conn_close(c);
            continue;
        }
        atomic_store_explicit(&c->owner, CONN_JOB, memory_order_relaxed);
        if (pool_execute(t->pool, conn_job, c) != 0) {
            atomic_store_explicit(&c->owner, CONN_LOOP, memory_order_relaxed);
            break;
        }
        t->retry_head = c->next_retry;
        c->retry_queued = false;
    }
    if (t->retry_head == NULL)
        t->retry_tail = NULL;
    return t->retry_head != NULL;
}

void conn_on_event(struct conn_table *t, struct conn *c, uint32_t events, int64_t now_ms)
{
    int owner = atomic_load_explicit(&c->owner, memory_order_acquire);

    /* A job holds c: tell it an event came, never wait for it.  The CAS
     * publishes event_in (release); when it fails because the job parked,
     * it reads what the job wrote (acquire) and the loop owns c. */
    if (owner == CONN_JOB && (events & EPOLLIN))
        atomic_store_explicit(&c->event_in, true, memory_order_relaxed);
    while (owner == CONN_JOB) {
        if (atomic_compare_exchange_weak_explicit(&c->owner, &owner, CONN_JOB_EVENT,
                                                  memory_order_acq_rel, memory_order_acquire))
            return;
    }
    /* FREE: a stale event of a connection closed since epoll_wait returned;
     * JOB_EVENT: already noted; retry_queued: it goes to the pool from the
     * retry list. */
    if (owner != CONN_LOOP || c->retry_queued)
        return;
    /* Only input says the client sent something before this batch. */
    dispatch(t, c, (events & EPOLLIN) != 0, now_ms);
}

/* ------------------------------------------------------------------ socket I/O */

/* A TLS result as recv()/send() would give it: n > 0, 0 at the end of the
 * stream, or -1 with errno (EAGAIN: park; tls_want_out says for what). */
static ssize_t tls_as_socket(struct conn *c, ssize_t n)
{
    switch (n) {
    case TLS_WANT_READ:
        c->tls_want_out = false;
        errno = EAGAIN;
        return -1;
    case TLS_WANT_WRITE:
        c->tls_want_out = true;
        errno = EAGAIN;
        return -1;
    case TLS_CLOSED:
        return 0;
    case TLS_FAILED:
        errno = EPROTO;
        return -1;
    default:
        return n;
    }
}

/* Count c's TLS handshake once, as done or as failed (r: the result of
 * a TLS read or write, or TLS_CLOSED when the connection ends without a
 * complete handshake).  Only reads and writes can complete one. */
static void count_handshake(struct conn *c, ssize_t r)
{
    if (c->tls_counted)
        return;
    if (tls_ready(c->tls)) {
        c->tls_counted = true;
        metrics_count(c->table->metrics, METRICS_TLS_HANDSHAKE);
    } else if (r == TLS_FAILED || r == TLS_CLOSED) {
        c->tls_counted = true;
        metrics_count(c->table->metrics, METRICS_TLS_HANDSHAKE_ERR);
    }
}

/* Read what the client sent, through TLS over HTTPS. */
static ssize_t conn_read(struct conn *c, void *buf, size_t len)
{
    if (c->tls != NULL) {
        ssize_t r = tls_read(c->tls, buf, len);
        count_handshake(c, r);
        return tls_as_socket(c, r);
    }
    return recv(c->fd, buf, len, MSG_DONTWAIT);
}

/* Write to the client, through TLS over HTTPS (where, with more, the
 * records may wait for what follows; see tls_write). */
static ssize_t conn_write(struct conn *c, const void *buf, size_t len, bool more)
{
    if (c->tls != NULL) {
        ssize_t n = tls_write(c->tls, buf, len, more);
        count_handshake(c, n);
        n = tls_as_socket(c, n);
        if (n == 0) {
            /* The client closed or reset the connection. */
            c->peer_gone = true;
            errno = EPIPE;
            return -1;
        }
        return n;
    }
    return send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0));
}

/* Whether a connection that must wait for the socket waits for output
 * space (otherwise for input). */
static bool waits_for_output(const struct conn *c, bool plain)
{
    return c->tls != NULL ? c->tls_want_out : plain;
}

/* ------------------------------------------------------------------ closing */

/*
 * Shut our side and drain what the client still sends, so that the kernel
 * does not answer unread data with a reset that destroys our response.
 * Returns false when the connection was closed instead (the caller must not
 * touch it).
 */
static bool conn_linger(struct conn *c, int64_t now_ms)
{
    if (c->tls != NULL && !c->peer_gone)
        tls_close_notify(c->tls);
    if (shutdown(c->fd, SHUT_WR) < 0) {
        conn_close(c);
        return false;
    }
    free(c->buf);
    c->buf = NULL;
    c->in_len = 0;
    c->state = CONN_LINGER;
    c->deadline_ms = now_ms + LINGER_MS;
    return true;
}

/* Read and drop what a lingering connection has; false when it is over
 * (closed by the client, an error, or more than we care to drain). */
static bool linger_drain(struct conn *c)
{
    char sink[16384];

    for (int i = 0; i < 8; i++) {
        ssize_t n = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 && errno == EAGAIN;
    }
    return false;
}

/* Loop: drain a LINGER connection that epoll reported readable. */
static void conn_linger_read(struct conn *c)
{
    if (!linger_drain(c) || conn_arm(c, false) < 0)
        conn_close(c);
}

/* Job: linger until the client has gone or the connection is parked. */
static void linger_in_job(struct conn *c)
{
    if (!conn_linger(c, clock_ms()))
        return;
    for (;;) {
        if (!linger_drain(c)) {
            conn_close(c);
            return;
        }
        if (conn_park(c, c->deadline_ms, false))
            return;
    }
}

/* Whether the client has closed or reset the connection (a peek, no data
 * is consumed). */
static bool conn_is_gone(const struct conn *c)
{
    char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/* ------------------------------------------------------------------ responses */

static _Thread_local struct {
    time_t sec;
    char text[HTTP_DATE_LEN + 1];
} date_cache;

static const char *date_now(void)
{
    time_t now = time(NULL);
    if (now != date_cache.sec) {
        http_format_date(date_cache.text, now);
        date_cache.sec = now;
    }
    return date_cache.text;
}

/* Append formatted text to the output buffer; false if it does not fit. */
__attribute__((format(printf, 2, 3))) static bool out_add(struct conn *c, const char *fmt, ...)
{
    size_t cap = out_cap(c);
    va_list ap;

    if (c->out_len >= cap)
        return false;
    va_start(ap, fmt);
    int n = vsnprintf(out_buf(c) + c->out_len, cap - c->out_len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - c->out_len) {
        c->out_len = (uint32_t)cap;
        return false;
    }
    c->out_len += (uint32_t)n;
    return true;
}

static bool out_mem(struct conn *c, const char *p, size_t len)
{
    size_t cap = out_cap(c);
    if (len > cap - c->out_len)
        return false;
    memcpy(out_buf(c) + c->out_len, p, len);
    c->out_len += (uint32_t)len;
    return true;
}

/* Append a string literal. */
#define out_lit(c, lit) out_mem((c), (lit), sizeof(lit) - 1)

static bool out_str(struct conn *c, const char *str)
{
    return out_mem(c, str, strlen(str));
}

/* Append v in decimal, without printf (this runs for every response). */
static bool out_u64(struct conn *c, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do
        tmp[sizeof tmp - ++n] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return out_mem(c, tmp + sizeof tmp - n, n);
}

/* Last-Modified text for t; the last one formatted is kept per thread. */
static const char *date_of(time_t t)
{
    static _Thread_local struct {
        time_t t;
        bool valid;
        char text[HTTP_DATE_LEN + 1];
    } cache;
    if (!cache.valid || cache.t != t) {
        http_format_date(cache.text, t);
        cache.t = t;
        cache.valid = true;
    }
    return cache.text;
}

/* The status line and the fields every response has. */
static void head_begin(struct conn *c, int status)
{
    c->status = status;
    c->out_len = 0;
    c->out_off = 0;
    c->inline_len = 0;
    c->tls_piece = 0;
    out_lit(c, "HTTP/1.1 ");
    out_u64(c, (uint64_t)status);
    out_lit(c, " ");
    out_str(c, http_reason(status));
    out_lit(c, "\r\nDate: ");
    out_mem(c, date_now(), HTTP_DATE_LEN);
    out_lit(c, "\r\nServer: " SERVER_NAME "\r\n");
    if (c->tls != NULL && c->site->tls_hsts > 0) {
        out_lit(c, "Strict-Transport-Security: max-age=");
        out_u64(c, c->site->tls_hsts);
        out_lit(c, "\r\n");
    }
}

/* The configured fields of the rules in mask. */
static void out_headers(struct conn *c, uint64_t mask)
{
    const struct headers *h = c->site->headers;

    if (mask == 0 || headers_size(h) > out_cap(c) - c->out_len)
        return;
    c->out_len += (uint32_t)headers_write(h, mask, out_buf(c) + c->out_len);
}

/* "; charset=X" after a Content-Type, when one is configured and applies. */
static void out_charset(struct conn *c, const char *charset)
{
    if (charset != NULL) {
        out_lit(c, "; charset=");
        out_str(c, charset);
    }
}

static void head_end(struct conn *c)
{
    if (!c->keep_alive)
        out_lit(c, "Connection: close\r\n\r\n");
    else if (c->minor_version == 0)
        out_lit(c, "Connection: keep-alive\r\n\r\n");
    else
        out_lit(c, "\r\n");
}

/* The built-in page for status; *len gets its length.  The last one made
 * is kept per thread (a flood of 404s formats it once). */
static const char *builtin_page(int status, size_t *len)
{
    static _Thread_local struct {
        int status;
        size_t len;
        char text[256];
    } page;
    if (page.status != status) {
        int n = snprintf(page.text, sizeof page.text,
                         "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
                         "<body><h1>%d %s</h1></body></html>\n",
                         status, http_reason(status), status, http_reason(status));
        page.len = n < 0 ? 0 : n >= (int)sizeof page.text ? sizeof page.text - 1 : (size_t)n;
        page.status = status;
    }
    *len = page.len;
    return page.text;
}

/*
 * An error response: the custom page "<status>.html" from the document
 * root when there is one, else a short built-in page.  extra holds further
 * header lines (each ending in CRLF) or is "".
 */
static void respond_error(struct conn *c, int status, const char *extra)
{
    struct fileserve_plan plan = { .status = status, .fd = -1 };
    char page[FCACHE_MAX_FILE];

    if (c->file_fd >= 0)
        close(c->file_fd);
    c->file_fd = -1;
    drop_parts(c);
    c->file_off = c->file_end = 0;
    if (c->site != NULL && status != 408 && status != 503)
        fileserve_error_page(c->site, &plan, page, out_cap(c) - HEAD_ROOM);
    if (plan.fd < 0 && plan.data == NULL) {
        size_t len;
        plan.data = builtin_page(status, &len);
        plan.length = len;
    }

    head_begin(c, status);
    out_lit(c, "Content-Type: text/html");
    out_charset(c, c->site != NULL ? c->site->charset : NULL);
    out_lit(c, "\r\nContent-Length: ");
    out_u64(c, plan.length);
    out_lit(c, "\r\n");
    out_str(c, extra);
    if (c->site != NULL)
        out_headers(c, c->hdr_rules);
    head_end(c);
    if (c->head_only) {
        if (plan.fd >= 0)
            close(plan.fd);
        return;
    }
    if (plan.fd >= 0) {
        c->file_fd = plan.fd;
        c->file_off = 0;
        c->file_end = plan.length;
    } else {
        /* HEAD_ROOM holds any head. */
        bool fits = out_mem(c, plan.data, (size_t)plan.length);
        assert(fits);
        (void)fits;
        c->inline_len = (uint32_t)plan.length;
    }
}

/* Note where the request's loggable parts are in buf. */
static void remember_request(struct conn *c, const struct http_request *req,
                             const struct http_req_info *info)
{
    c->method_off = (uint16_t)(req->method - c->buf);
    c->method_len = (uint16_t)req->method_len;
    c->target_off = (uint16_t)(req->target - c->buf);
    c->target_len = (uint16_t)req->target_len;
    c->minor_version = (int8_t)req->minor_version;
    c->referer_len = c->agent_len = 0;
    if (info != NULL && info->referer != NULL) {
        c->referer_off = (uint16_t)(info->referer->value - c->buf);
        c->referer_len = (uint16_t)info->referer->value_len;
    }
    if (info != NULL && info->user_agent != NULL) {
        c->agent_off = (uint16_t)(info->user_agent->value - c->buf);
        c->agent_len = (uint16_t)info->user_agent->value_len;
    }
}

/* 301 to the same target with a slash after the path; the query is kept
 * and the path keeps the client's own spelling. */
static void redirect_slash(struct conn *c, const struct http_request *req)
{
    size_t blen;
    const char *body = builtin_page(301, &blen);
    size_t plen = req->target_len, qlen = 0;
    const char *q = path_query(req->target, req->target_len, &qlen);
    const char *end = memchr(req->target, '?', plen);

    if (end == NULL)
        end = memchr(req->target, '#', plen);
    if (end != NULL)
        plen = (size_t)(end - req->target);
    head_begin(c, 301);
    out_add(c, "Location: ");
    out_mem(c, req->target, plen);
    out_add(c, "/%s%.*s\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n", q ? "?" : "",
            (int)qlen, q ? q : "", blen);
    head_end(c);
    if (!c->head_only) {
        out_mem(c, body, blen);
        c->inline_len = (uint32_t)blen;
    }
}

/* 301 from plain HTTP to the same target over HTTPS (tls_redirect). */
static void redirect_https(struct conn *c, const struct http_request *req,
                           const struct http_header *host)
{
    size_t blen, hlen = host->value_len;
    const char *body = builtin_page(301, &blen);
    const char *end = host->value[0] == '[' ? memchr(host->value, ']', hlen) : NULL;

    if (end != NULL)
        hlen = (size_t)(end - host->value) + 1;
    else if ((end = memchr(host->value, ':', hlen)) != NULL)
        hlen = (size_t)(end - host->value);
    head_begin(c, 301);
    out_lit(c, "Location: https://");
    out_mem(c, host->value, hlen);
    if (c->site->tls_port != 443) {
        out_lit(c, ":");
        out_u64(c, c->site->tls_port);
    }
    out_mem(c, req->target, req->target_len);
    out_add(c, "\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n", blen);
    head_end(c);
    if (!c->head_only) {
        out_mem(c, body, blen);
        c->inline_len = (uint32_t)blen;
    }
}

/* Build the response to the parsed request req (head_len bytes of buf). */
/*
 * How the request's body is dealt with: a small one announced by
 * Content-Length, or a chunked one, is read and dropped after the response;
 * a large one, or one the client waits to be invited to send (Expect:
 * 100-continue), closes the connection after the response instead.
 */
static void plan_body(struct conn *c, const struct http_req_info *info)
{
    if (info->expect_continue && (info->chunked || info->content_length > 0)) {
        c->keep_alive = false;
        c->linger_after = true;
    } else if (info->chunked) {
        c->chunked_body = true;
        http_chunked_init(&c->chunked);
    } else if (info->has_content_length && info->content_length > DISCARD_MAX) {
        c->keep_alive = false;
        c->linger_after = true;
    } else if (info->has_content_length) {
        c->discard = info->content_length;
    }
}

/* ------------------------------------------------------------------ several ranges */

/*
 * A 206 of several ranges: multipart/byteranges (RFC 9110 section 14.6; multipart.c
 * frames it).  A file in memory is framed whole into the out buffer after the head, as
 * one inline body; that is done only when it fits (otherwise the answer is 200 with the
 * whole file, which does fit).  A file from a descriptor is sent part by part, and c->parts
 * holds what that needs.  Invariants while c->parts is set:
 *   - it was allocated for this response and is freed (drop_parts) wherever file_fd is
 *     closed, so it never outlives the response;
 *   - parts->next - 1 is the part whose bytes [file_off, file_end) are; the out buffer
 *     holds (or held) that part's head, counted in tls_piece until written;
 *   - after the last part, next == nparts + 1 and the out buffer holds the closing
 *     delimiter with file_off == file_end;
 *   - every head sent is multipart_head()'s, as when Content-Length was computed.
 */
struct conn_parts {
    struct multipart m;
    unsigned next;             /* the next head to queue; nparts: the closing one */
    struct range_span parts[]; /* m.nparts of them, then m.content_type's copy */
};

static void drop_parts(struct conn *c)
{
    free(c->parts);
    c->parts = NULL;
}

/* Whether the boundary occurs in the bytes of any part of data (a file in memory). */
static bool boundary_in(const struct multipart *m, const char *data)
{
    for (unsigned i = 0; i < m->nparts; i++)
        if (memmem(data + m->parts[i].first, m->parts[i].length, m->boundary,
                   MULTIPART_BOUNDARY_LEN) != NULL)
            return true;
    return false;
}

/*
 * Frame plan's several ranges in *m and set *length to the body's length; false when
 * they cannot be sent as such (no randomness, a head too long, a file in memory whose
 * body does not fit): the caller then answers 200.  The boundary: a file in memory is
 * checked with memmem and a new boundary drawn if it occurs in a part; a file sent from
 * its descriptor is not read twice, and relies on 128 random bits, which a file not
 * written to guess them does not contain.
 */
static bool frame_parts(struct conn *c, const struct fileserve_plan *plan, struct multipart *m,
                        uint64_t *length)
{
    int tries = 0, e;

    m->content_type = plan->content_type;
    m->size = plan->size;
    m->parts = plan->parts;
    m->nparts = plan->nparts;
    do {
        if ((e = multipart_boundary(m->boundary)) < 0) {
            log_warn("no random boundary for several ranges (%s); sending the whole file",
                     strerror(-e));
            return false;
        }
    } while (plan->data != NULL && boundary_in(m, plan->data) && ++tries < 4);
    if (tries == 4)
        return false;
    *length = multipart_length(m);
    if (*length == UINT64_MAX)
        return false;
    return plan->data == NULL || *length <= out_cap(c) - HEAD_ROOM;
}

/* The body of a multipart response after its head: inline when the file is in memory,
 * else the first part's head now and the rest from send_some (c->parts); false when
 * memory runs out. */
static bool parts_body(struct conn *c, const struct fileserve_plan *plan, const struct multipart *m,
                       uint64_t length)
{
    char head[MULTIPART_HEAD_MAX];
    size_t n;

    if (plan->data != NULL) {
        for (unsigned i = 0; i <= m->nparts; i++) {
            n = multipart_head(m, i, head, sizeof head);
            out_mem(c, head, n);
            if (i < m->nparts)
                out_mem(c, plan->data + m->parts[i].first, (size_t)m->parts[i].length);
        }
        c->inline_len = (uint32_t)length; /* frame_parts saw that it fits */
        return true;
    }
    size_t tlen = m->content_type ? strlen(m->content_type) + 1 : 0;
    struct conn_parts *p = malloc(sizeof *p + m->nparts * sizeof p->parts[0] + tlen);
    if (p == NULL)
        return false;
    p->m = *m;
    memcpy(p->parts, m->parts, m->nparts * sizeof p->parts[0]);
    p->m.parts = p->parts;
    if (tlen > 0)
        p->m.content_type = memcpy((char *)(p->parts + m->nparts), m->content_type, tlen);
    n = multipart_head(&p->m, 0, head, sizeof head);
    out_mem(c, head, n);
    c->tls_piece = (uint32_t)n;
    p->next = 1;
    c->parts = p;
    c->file_fd = plan->fd;
    c->file_off = p->parts[0].first;
    c->file_end = p->parts[0].first + p->parts[0].length;
    return true;
}

/* The current part is sent: queue the next part's head (or the closing delimiter) and
 * point file_off and file_end at its bytes.  False when nothing is left. */
static bool next_part(struct conn *c)
{
    struct conn_parts *p = c->parts;

    if (p == NULL || p->next > p->m.nparts)
        return false;
    c->out_len = (uint32_t)multipart_head(&p->m, p->next, out_buf(c), out_cap(c));
    c->out_off = 0;
    c->tls_piece = c->out_len;
    if (p->next < p->m.nparts) {
        c->file_off = p->parts[p->next].first;
        c->file_end = c->file_off + p->parts[p->next].length;
    } else {
        c->file_off = c->file_end;
    }
    p->next++;
    return true;
}

/* What every response for a file carries about it: Vary when it has
 * precompressed siblings, and its validators. */
static void out_validators(struct conn *c, const struct fileserve_plan *plan)
{
    if (plan->vary)
        out_lit(c, "Vary: Accept-Encoding\r\n");
    if (plan->has_validators) {
        out_lit(c, "Last-Modified: ");
        out_mem(c, date_of(plan->mtime), HTTP_DATE_LEN);
        out_lit(c, "\r\nETag: ");
        out_str(c, plan->etag);
        out_lit(c, "\r\n");
    }
}

/* The head of a multipart response: as file_head's, with the multipart type. */
static void parts_head(struct conn *c, const struct fileserve_plan *plan, const struct multipart *m,
                       uint64_t length)
{
    head_begin(c, 206);
    out_lit(c, "Content-Type: multipart/byteranges; boundary=");
    out_str(c, m->boundary);
    out_lit(c, "\r\nContent-Length: ");
    out_u64(c, length);
    out_lit(c, "\r\n");
    out_validators(c, plan);
    out_lit(c, "Accept-Ranges: bytes\r\n");
    out_headers(c, plan->header_rules);
    head_end(c);
}

/* Answer plan's several ranges; false when the caller must answer 200 instead.  A
 * precompressed sibling is sent whole: a Content-Encoding on a multipart body would say
 * that the multipart body itself is encoded. */
static bool answer_parts(struct conn *c, const struct fileserve_plan *plan)
{
    struct multipart m;
    struct fileserve_plan typed;
    char type[256];
    uint64_t length;

    if (plan->content_encoding != NULL)
        return false;
    /* Each part says the file's type, with the configured charset as file_head adds it. */
    if (plan->charset != NULL && plan->content_type != NULL) {
        int n = snprintf(type, sizeof type, "%s; charset=%s", plan->content_type, plan->charset);
        if (n > 0 && (size_t)n < sizeof type) {
            typed = *plan;
            typed.content_type = type;
            plan = &typed;
        }
    }
    if (!frame_parts(c, plan, &m, &length))
        return false;
    parts_head(c, plan, &m, length);
    if (c->head_only) {
        if (plan->fd >= 0)
            close(plan->fd);
        return true;
    }
    if (!parts_body(c, plan, &m, length)) {
        log_err("several ranges for %s: out of memory", c->peer);
        return false;
    }
    return true;
}

/* The head of a file response (200, 206, 304) for plan. */
static void file_head(struct conn *c, const struct fileserve_plan *plan)
{
    head_begin(c, plan->status);
    if (plan->status != 304) {
        if (plan->content_type != NULL) {
            out_lit(c, "Content-Type: ");
            out_str(c, plan->content_type);
            out_charset(c, plan->charset);
            out_lit(c, "\r\n");
        }
        out_lit(c, "Content-Length: ");
        out_u64(c, plan->length);
        out_lit(c, "\r\n");
        if (plan->content_encoding != NULL) {
            out_lit(c, "Content-Encoding: ");
            out_str(c, plan->content_encoding);
            out_lit(c, "\r\n");
        }
    }
    out_validators(c, plan);
    if (plan->status == 206)
        out_add(c, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n", plan->offset,
                plan->offset + plan->length - 1, plan->size);
    if (plan->status != 304)
        out_lit(c, "Accept-Ranges: bytes\r\n");
    out_headers(c, plan->header_rules);
    head_end(c);
}

/* The body of a file response: after the head in the buffer when the file
 * is in memory, else from its descriptor (which c then owns). */
static void file_body(struct conn *c, const struct fileserve_plan *plan)
{
    if (plan->status == 304 || c->head_only || plan->length == 0) {
        if (plan->fd >= 0)
            close(plan->fd);
        return;
    }
    if (plan->data != NULL) {
        /* Head and body leave in one write; HEAD_ROOM holds any head. */
        bool fits = out_mem(c, plan->data + plan->offset, (size_t)plan->length);
        assert(fits);
        (void)fits;
        c->inline_len = (uint32_t)plan->length;
        return;
    }
    c->file_fd = plan->fd;
    c->file_off = plan->offset;
    c->file_end = plan->offset + plan->length;
}

/* Answer a GET or HEAD from the document root. */
static void answer_file(struct conn *c, const struct http_request *req,
                        const struct http_req_info *info)
{
    struct fileserve_plan plan;
    char body[FCACHE_MAX_FILE];

    /* A small file is copied after the head: keep room for the head. */
    fileserve_resolve(c->site, req, info, &plan, body, out_cap(c) - HEAD_ROOM);
    c->hdr_rules = plan.header_rules;
    switch (plan.status) {
    case 206:
        if (plan.nparts >= 2) {
            if (answer_parts(c, &plan))
                return;
            plan.status = 200; /* the whole file instead */
            plan.offset = 0;
            plan.length = plan.size;
        }
        /* fall through */
    case 200:
    case 304:
        file_head(c, &plan);
        file_body(c, &plan);
        return;
    case 301:
        redirect_slash(c, req);
        return;
    case 416: {
        char extra[64];
        snprintf(extra, sizeof extra, "Content-Range: bytes */%" PRIu64 "\r\n", plan.size);
        respond_error(c, 416, extra);
        return;
    }
    default:
        respond_error(c, plan.status, "");
        return;
    }
}

/* Build the response to the parsed request req (head_len bytes of buf). */
static void answer(struct conn *c, const struct http_request *req, int head_len)
{
    struct http_req_info info;
    struct conn_table *t = c->table;

    c->head_len = (uint32_t)head_len;
    c->body_sent = 0;
    c->hdr_rules = headers_match(c->site->headers, NULL, 0, NULL, 0, true);
    c->linger_after = false;
    int bad = http_request_check(req, &info);
    remember_request(c, req, bad ? NULL : &info);
    c->head_only = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
    c->keep_alive = !bad && info.keep_alive && c->site->keepalive_timeout > 0 &&
                    !atomic_load_explicit(&t->stopping, memory_order_relaxed);
    if (bad) {
        c->linger_after = true;
        respond_error(c, bad, "");
        return;
    }
    plan_body(c, &info);
    if (info.method == HTTP_METHOD_UNKNOWN)
        respond_error(c, 501, "");
    else if (info.method == HTTP_METHOD_KNOWN)
        respond_error(c, 405, "Allow: GET, HEAD\r\n");
    else if (c->tls == NULL && c->site->tls_redirect && info.host != NULL && req->target[0] == '/')
        redirect_https(c, req, info.host);
    else
        answer_file(c, req, &info);
}

/* After send() or sendfile() failed with errno (not EINTR). */
static enum send_result send_failed(const struct conn *c, const char *call)
{
    if (errno == EAGAIN)
        return SEND_AGAIN;
    log_debug("%s to %s: %s", call, c->peer, strerror(errno));
    return SEND_ERROR;
}

/* Write the head (and an inline body) from the out buffer. */
static enum send_result send_head(struct conn *c)
{
    bool more = c->file_fd >= 0 && c->file_off < c->file_end;

    while (c->out_off < c->out_len) {
        ssize_t n = conn_write(c, out_buf(c) + c->out_off, c->out_len - c->out_off, more);
        if (n < 0 && errno != EINTR)
            return send_failed(c, "send");
        if (n == 0)
            return SEND_ERROR;
        /* Bytes of an inline body count; the head does not. */
        if (n > 0)
            c->out_off += (uint32_t)n;
    }
    return SEND_DONE;
}

/* Write the file body, at most SEND_SLICE bytes before yielding. */
static enum send_result send_file(struct conn *c)
{
    uint64_t slice = 0;

    while (c->file_fd >= 0 && c->file_off < c->file_end) {
        if (atomic_load_explicit(&c->table->forced, memory_order_relaxed))
            return SEND_ERROR;
        if (slice >= SEND_SLICE)
            return SEND_YIELD; /* let other connections have the worker */
        off_t off = (off_t)c->file_off;
        size_t want = c->file_end - c->file_off;
        if (want > (1u << 20))
            want = 1u << 20;
        /* Over HTTPS only with kernel TLS: the kernel encrypts. */
        ssize_t n = c->tls != NULL ? tls_as_socket(c, tls_sendfile(c->tls, c->file_fd, off, want))
                                   : sendfile(c->fd, c->file_fd, &off, want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return send_failed(c, "sendfile");
        }
        if (n == 0) {
            /* The file shrank under us: the promised length cannot be kept. */
            log_warn("file truncated while sending to %s; closing the connection", c->peer);
            return SEND_ERROR;
        }
        c->file_off += (uint64_t)n;
        c->body_sent += (uint64_t)n;
        slice += (uint64_t)n;
    }
    return SEND_DONE;
}

/*
 * Over TLS without kernel TLS the file goes through the out buffer, a piece
 * at a time: read a piece, write it, and after
 * TLS_WANT_* write the same piece again.
 */
static enum send_result send_file_tls(struct conn *c)
{
    uint64_t slice = 0;
    size_t cap = out_cap(c);

    while (c->file_fd >= 0 && c->file_off < c->file_end) {
        if (atomic_load_explicit(&c->table->forced, memory_order_relaxed))
            return SEND_ERROR;
        if (slice >= SEND_SLICE)
            return SEND_YIELD;
        size_t want = c->file_end - c->file_off < cap ? c->file_end - c->file_off : cap;
        ssize_t n = pread(c->file_fd, out_buf(c), want, (off_t)c->file_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_warn("reading a file for %s: %s; closing the connection", c->peer,
                     n < 0 ? strerror(errno) : "it was truncated");
            return SEND_ERROR;
        }
        c->out_len = c->tls_piece = (uint32_t)n;
        c->out_off = 0;
        c->file_off += (uint64_t)n;
        enum send_result r = send_head(c);
        if (r != SEND_DONE)
            return r;
        c->body_sent += (uint64_t)n;
        c->tls_piece = 0;
        slice += (uint64_t)n;
    }
    return SEND_DONE;
}

/* Write what the socket takes. */
static enum send_result send_some(struct conn *c)
{
    enum send_result r = send_head(c);
    if (r != SEND_DONE)
        return r;
    c->body_sent += c->tls_piece; /* a piece of the file or a part head that had to wait */
    c->tls_piece = 0;
    for (;;) {
        r = c->tls != NULL && !tls_kernel_send(c->tls) ? send_file_tls(c) : send_file(c);
        /* Several ranges: the next part's head, then its bytes (see struct conn_parts). */
        if (r != SEND_DONE || !next_part(c))
            return r;
        if ((r = send_head(c)) != SEND_DONE)
            return r;
        c->body_sent += c->tls_piece;
        c->tls_piece = 0;
    }
}

static void log_request(struct conn *c)
{
    /* A built-in page is sent from the out buffer, after the head. */
    uint64_t body = c->body_sent + (c->out_off >= c->out_len ? c->inline_len : 0);

    if (c->table->metrics == NULL && !c->site->access_log)
        return; /* nobody to tell: no clock read */
    uint64_t usec = c->head_start_us ? (uint64_t)(clock_us() - c->head_start_us) : 0;

    metrics_request(c->table->metrics, c->buf ? c->buf + c->method_off : NULL,
                    c->buf ? c->method_len : 0, c->status, body, usec);
    if (!c->site->access_log)
        return;
    struct log_access a = {
        .peer = c->peer,
        .method = c->buf ? c->buf + c->method_off : NULL,
        .method_len = c->buf ? c->method_len : 0,
        .target = c->buf ? c->buf + c->target_off : NULL,
        .target_len = c->buf ? c->target_len : 0,
        .minor_version = c->buf ? c->minor_version : -1,
        .status = c->status,
        .bytes = body,
        .duration_usec = usec,
        .referer = c->referer_len && c->buf ? c->buf + c->referer_off : NULL,
        .referer_len = c->referer_len,
        .user_agent = c->agent_len && c->buf ? c->buf + c->agent_off : NULL,
        .user_agent_len = c->agent_len,
        .tls_protocol = c->tls ? tls_protocol(c->tls) : NULL,
        .tls_cipher = c->tls ? tls_cipher(c->tls) : NULL,
    };
    log_access(&a);
}

/* Drop the answered head and as much of the body to discard as is buffered. */

/* ------------------------------------------------------------------ request cycle */

static bool body_pending(const struct conn *c)
{
    return c->discard > 0 || c->chunked_body;
}

/* Drop request body bytes at p[0..n): returns how many of them were body
 * (the rest is the next request), or -1 for a malformed or oversized
 * chunked body. */
static ssize_t skip_body(struct conn *c, const char *p, size_t n)
{
    if (c->discard > 0) {
        uint64_t d = c->discard < n ? c->discard : n;
        c->discard -= d;
        return (ssize_t)d;
    }
    if (!c->chunked_body)
        return 0;
    bool done = false;
    ssize_t used =
        http_chunked_skip(&c->chunked, p, n, DISCARD_MAX, c->table->max_header_size, &done);
    if (used < 0) {
        log_debug("%s sent a malformed or too large chunked body; closing", c->peer);
        return -1;
    }
    if (done)
        c->chunked_body = false;
    return used;
}

/* Drop the answered head and as much of its body as is buffered; false
 * when the body is malformed. */
static bool consume_head(struct conn *c)
{
    ssize_t body = skip_body(c, c->buf + c->head_len, c->in_len - c->head_len);
    if (body < 0)
        return false;
    uint32_t used = c->head_len + (uint32_t)body;
    memmove(c->buf, c->buf + used, c->in_len - used);
    c->in_len -= used;
    c->head_len = 0;
    c->parse_last = 0;
    c->minor_version = -1;
    c->method_len = c->target_len = 0;
    c->head_start_us = c->in_len > 0 ? clock_us() : 0;
    return true;
}

/*
 * The response is complete: log it, then close, linger, or go on with the
 * next request.  Returns true when the job should go on reading.
 */
static bool finish_response(struct conn *c)
{
    struct conn_table *t = c->table;

    log_request(c);
    atomic_fetch_add_explicit(&t->requests, 1, memory_order_relaxed);
    if (c->file_fd >= 0)
        close(c->file_fd);
    c->file_fd = -1;
    drop_parts(c);
    c->requests++;
    c->out_len = c->out_off = 0;

    /* A response that promised keep-alive keeps it even when the server
     * began to stop meanwhile: the client may already be sending its next
     * request.  The connection then idles like any other (see
     * conn_table_sweep), and that request is answered with Connection:
     * close. */
    if (!c->keep_alive) {
        bool leftovers = c->in_len > c->head_len || body_pending(c);
        if (c->linger_after || leftovers)
            linger_in_job(c);
        else
            conn_close(c);
        return false;
    }
    if (!consume_head(c)) {
        linger_in_job(c);
        return false;
    }
    c->state = CONN_READ;
    return true;
}

/* Job: park c to wait for input, with the deadline of what it waits for. */
static bool conn_park_read(struct conn *c)
{
    const struct site *s = c->site;
    int64_t deadline;

    if (c->in_len > 0)
        deadline = c->head_start_us / 1000 + (int64_t)s->header_timeout * 1000;
    else if (body_pending(c))
        deadline = clock_ms() + (int64_t)s->send_timeout * 1000;
    else if (c->requests == 0)
        deadline = c->accepted_ms + (int64_t)s->header_timeout * 1000;
    else
        deadline = clock_ms() + (int64_t)s->keepalive_timeout * 1000;
    c->state = CONN_READ;
    return conn_park(c, deadline, waits_for_output(c, false));
}

/*
 * Park c to wait for input; true when parked (the job is done with it).
 * False when an event came meanwhile and the job goes on: if that event was
 * input, the request it brings counts as the first of a dispatched job
 * (*first, from_event; see serve()).
 */
static bool park_for_input(struct conn *c, bool *first)
{
    /* With many connections open, an idle one gives its buffer back now
     * rather than at the loop's next sweep, so that a burst of requests on
     * thousands of connections needs about as many buffers as there are
     * jobs, not one per connection answered since the last sweep. */
    if (atomic_load_explicit(&c->table->active, memory_order_relaxed) > TRIM_AT_CONNECTIONS)
        conn_trim(c);
    if (conn_park_read(c))
        return true;
    if (atomic_exchange_explicit(&c->event_in, false, memory_order_relaxed))
        *first = c->from_event = true;
    return false;
}

/* Send and then finish; returns true when the job should go on reading. */
static bool send_and_finish(struct conn *c)
{
    c->state = CONN_SEND;
    for (;;) {
        switch (send_some(c)) {
        case SEND_DONE:
            return finish_response(c);
        case SEND_AGAIN:
            if (conn_park(c, clock_ms() + (int64_t)c->site->send_timeout * 1000,
                          waits_for_output(c, true)))
                return false;
            break; /* an event came meanwhile: try again */
        case SEND_YIELD:
            /* The socket still takes data, so no event would wake a parked
             * connection: queue it behind the others instead (or, with the
             * queue full, just go on). */
            c->from_event = false;
            if (pool_execute(c->table->pool, conn_job, c) == 0)
                return false;
            break;
        case SEND_ERROR:
            log_request(c);
            conn_close(c);
            return false;
        }
    }
}

/* Answer a request-level error detected before the head was complete. */
static void fail_head(struct conn *c, int status)
{
    c->keep_alive = false;
    c->linger_after = true;
    /* A HEAD request gets no body, even when its head is malformed. */
    c->head_only = c->in_len >= 5 && memcmp(c->buf, "HEAD ", 5) == 0;
    c->head_len = c->in_len;
    c->minor_version = -1;
    c->hdr_rules = c->site != NULL ? headers_match(c->site->headers, NULL, 0, NULL, 0, true) : 0;
    respond_error(c, status, "");
    send_and_finish(c);
}

enum read_result {
    READ_GOT,   /* new bytes of a head are in the buffer */
    READ_RETRY, /* nothing new for the parser: go round again */
    READ_DONE,  /* c was parked or closed: the job is over */
};

/* Read what the socket has after the buffered input. */
static enum read_result read_more(struct conn *c, bool *first, bool *short_read)
{
    size_t room = c->table->max_header_size - c->in_len;
    ssize_t n = conn_read(c, c->buf + c->in_len, room);

    if (n < 0) {
        if (errno == EINTR)
            return READ_RETRY;
        if (errno == EAGAIN)
            return park_for_input(c, first) ? READ_DONE : READ_RETRY;
        log_debug("recv from %s: %s", c->peer, strerror(errno));
        if (c->tls != NULL && tls_got_http(c->tls)) {
            plain_http_on_tls(c);
            return READ_DONE;
        }
        c->peer_gone = true;
        conn_close(c);
        return READ_DONE;
    }
    if (n == 0) {
        c->peer_gone = true;
        conn_close(c); /* the client is gone; a partial head is dropped */
        return READ_DONE;
    }
    /* OpenSSL returns a record at a time: it says itself whether its read
     * of the socket came up short with nothing left in its buffers. */
    *short_read = c->drained = c->tls == NULL ? (size_t)n < room : tls_drained(c->tls);
    if (body_pending(c)) {
        ssize_t body = skip_body(c, c->buf + c->in_len, (size_t)n);
        if (body < 0) {
            linger_in_job(c);
            return READ_DONE;
        }
        memmove(c->buf + c->in_len, c->buf + c->in_len + body, (size_t)(n - body));
        n -= body;
        if (n == 0)
            return READ_RETRY;
    }
    if (c->in_len == 0)
        c->head_start_us = clock_us();
    c->in_len += (uint32_t)n;
    return READ_GOT;
}

/* Answer the complete head of r bytes at the start of buf, send the
 * response, and wait for the next request if none is buffered.  Returns
 * true when the job goes on with c. */
static bool serve_request(struct conn *c, const struct http_request *req, int r, bool *first)
{
    /* The loop reads file changes before it hands on a connection that
     * epoll reported readable, so the first request of such a job was sent
     * before any change the loop has not read.  Any other (a new
     * connection's, a pipelined one, one read after an event the job took
     * over) may have been sent after a change still unread: read the
     * changes now. */
    if (!*first || !c->from_event)
        fileserve_site_changes(c->site);
    *first = false;
    answer(c, req, r);
    if (!send_and_finish(c))
        return false;
    if (atomic_load_explicit(&c->table->forced, memory_order_relaxed)) {
        conn_close(c);
        return false;
    }
    /* Nothing pipelined and the socket was read dry: the next request is
     * rarely there yet, so wait for an event rather than try a read. */
    if (c->in_len == 0 && c->drained && park_for_input(c, first))
        return false;
    return true;
}

/* Read, parse and answer until the connection must wait or is gone. */
static void serve(struct conn *c)
{
    struct conn_table *t = c->table;
    size_t cap = t->max_header_size;
    struct http_request req;
    bool first = true;

    for (;;) {
        bool short_read = false;

        if (c->buf == NULL && (c->buf = malloc(cap + out_cap(c))) == NULL) {
            log_err("out of memory for a connection buffer");
            conn_close(c);
            return;
        }
        if (c->in_len == 0 || body_pending(c) || c->parse_last == c->in_len) {
            enum read_result rr = read_more(c, &first, &short_read);
            if (rr == READ_DONE)
                return;
            if (rr == READ_RETRY)
                continue;
        }
        int r = http_parse_request(c->buf, c->in_len, c->parse_last, &req);
        if (r > 0) {
            if (!serve_request(c, &req, r, &first))
                return;
            continue;
        }
        if (r == HTTP_PARSE_ERROR) {
            fail_head(c, req.error_status);
            return;
        }
        c->parse_last = c->in_len;
        if (c->in_len >= cap) {
            fail_head(c, http_overflow_status(c->buf, c->in_len));
            return;
        }
        if (short_read && park_for_input(c, &first))
            return;
    }
}

/* Pool job: serve the connection until it must wait or is closed. */
static void conn_job(void *arg)
{
    struct conn *c = arg;

    if (atomic_load_explicit(&c->table->forced, memory_order_relaxed)) {
        conn_close(c);
        return;
    }
    if (c->state == CONN_SEND && !send_and_finish(c))
        return;
    serve(c);
}

/* ------------------------------------------------------------------ loop side */

/*
 * Loop, for a connection it owns that waits for its request: answer status
 * (408, 503) with a built-in page and close by lingering.
 */
static void conn_reject(struct conn *c, int status, int64_t now_ms)
{
    char msg[768];
    size_t blen;
    const char *body = builtin_page(status, &blen);
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: " SERVER_NAME "\r\n"
                     "Content-Type: text/html\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n%.*s",
                     status, http_reason(status), date_now(), blen,
                     status == 503 ? "Retry-After: 1\r\n" : "", (int)blen, body);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;

    /* Over HTTPS only once the handshake is done; else the close says it. */
    if (len > 0 && (c->tls == NULL || tls_ready(c->tls)) && conn_write(c, msg, len, false) < 0)
        log_debug("send %d to %s: %s", status, c->peer, strerror(errno));
    c->status = status;
    c->body_sent = (uint64_t)blen;
    c->inline_len = 0;
    c->out_len = c->out_off = 0;
    c->method_len = c->target_len = c->referer_len = c->agent_len = 0;
    c->minor_version = -1;
    log_request(c);
    if (conn_linger(c, now_ms))
        conn_linger_read(c);
}

/* Job: plain HTTP came to an HTTPS port.  Say so in plain text (the
 * client speaks HTTP, not TLS), as nginx does, and close. */
static void plain_http_on_tls(struct conn *c)
{
    static const char body[] = "This port speaks HTTPS: use an https:// URL.\n";
    char msg[256];
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 400 Bad Request\r\nServer: " SERVER_NAME "\r\n"
                     "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     sizeof body - 1, body);

    if (n > 0 && (size_t)n < sizeof msg &&
        send(c->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        log_debug("send 400 to %s: %s", c->peer, strerror(errno));
    c->status = 400;
    c->body_sent = sizeof body - 1;
    c->minor_version = -1;
    c->method_len = c->target_len = c->referer_len = c->agent_len = 0;
    log_request(c);
    linger_in_job(c);
}

/* Loop, for a connection it owns whose deadline passed. */
static void conn_expire(struct conn *c, int64_t now_ms)
{
    if (c->state == CONN_READ && c->in_len > 0) {
        conn_reject(c, 408, now_ms);
        return;
    }
    if (c->state == CONN_SEND) {
        log_info("%s read nothing for %u s; closing the connection", c->peer,
                 c->site->send_timeout);
        log_request(c); /* the response, as far as it went */
    }
    conn_close(c);
}

/* Whether c is idle between requests (no partial head, no body to drop). */
static bool conn_is_idle(const struct conn *c)
{
    return c->state == CONN_READ && c->in_len == 0 && !body_pending(c) && c->head_len == 0;
}

/* An idle connection gives its buffer back. */
static void conn_trim(struct conn *c)
{
    if (conn_is_idle(c)) {
        free(c->buf);
        c->buf = NULL;
    }
}

void conn_table_census(const struct conn_table *t, unsigned *idle, unsigned *slow)
{
    *idle = *slow = 0;
    for (unsigned i = 0; i < t->high_water; i++) {
        const struct conn *c = &t->slots[i];
        if (atomic_load_explicit(&c->owner, memory_order_acquire) != CONN_LOOP || c->retry_queued)
            continue;
        if (conn_is_idle(c))
            (*idle)++;
        else if (c->state == CONN_SEND)
            (*slow)++;
    }
}

void conn_table_sweep(struct conn_table *t, int64_t now_ms)
{
    bool forced = atomic_load_explicit(&t->forced, memory_order_relaxed);

    for (unsigned i = 0; i < t->high_water; i++) {
        struct conn *c = &t->slots[i];
        if (atomic_load_explicit(&c->owner, memory_order_acquire) != CONN_LOOP || c->retry_queued)
            continue;
        /* When stopping, a connection idle after a response is closed once
         * the grace is over (until then a request that arrives on it is
         * answered, with Connection: close: the client may have sent it
         * before it could know); one that has not sent its first request
         * yet is given until its header deadline, since its request may be
         * on the wire. */
        if (forced || (t->close_idle && conn_is_idle(c) && c->requests > 0))
            conn_close(c);
        else if (c->deadline_ms <= now_ms)
            conn_expire(c, now_ms);
        else if (c->buf != NULL)
            conn_trim(c);
    }
}
