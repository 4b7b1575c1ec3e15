/*
 * metrics.c - per-thread counters, their Prometheus exposition, and the
 * metrics listener.
 *
 * Counters.  A struct metrics holds a block of counters for each thread
 * that counts (the workers and the loop) and block 0, shared.  A thread
 * takes a block of a struct metrics the first time it counts into it and
 * keeps it; the threads of tinyhttpd live as long as the process and so
 * does the server's struct metrics, so the counters are monotonic for the
 * life of the process, across reloads.  A block is written only by its
 * thread, with a relaxed load and a relaxed store (plain moves on every
 * architecture tinyhttpd runs on: no locked instruction, no fence), and is
 * read by a scrape with relaxed loads; blocks are cache-line aligned, so
 * counting never bounces a line between CPUs.  Should the blocks run out,
 * the threads beyond them share block 0 with relaxed atomic additions.
 *
 * A thread finds its block through `mine`, a thread-local copy of which
 * struct metrics it last counted into and which block it has there.  That
 * is the thread's identity cache, not state: the counters are all in the
 * struct metrics, and losing the cache would only cost a lookup.  Each
 * claimed block records its thread (the address of that thread's `mine`,
 * unique among live threads), so a cache left over from a struct metrics
 * freed since, at the same address, is never trusted, and a thread that
 * comes back to a struct metrics finds the block it had there.
 *
 * The listener.  Its sockets and connections are in the loop's epoll set
 * and are handled on the loop thread, which is also the only thread that
 * may look at the connection table for the gauges.  A connection may send
 * one request head of at most MAX_REQUEST bytes within DEADLINE_MS; it gets
 * one response and is closed.  Reads and writes never block (what does not
 * fit in the socket waits for EPOLLOUT), at most MAX_CLIENTS are open at
 * once (more are closed at accept), so a scraper, slow or hostile, cannot
 * hold the loop.
 */
#include "config.h"

#include "metrics.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "log.h"

/* ------------------------------------------------------------------ counters */

enum method { M_GET, M_HEAD, M_OTHER, NMETHODS };
static const char *const method_names[NMETHODS] = { "GET", "HEAD", "other" };
#define NCLASSES 5 /* 1xx .. 5xx */

/* Upper bounds of the duration buckets, in microseconds. */
static const uint64_t bucket_us[] = { 100,     250,     500,     1000,    2500,   5000,
                                      10000,   25000,   50000,   100000,  250000, 500000,
                                      1000000, 2500000, 5000000, 10000000 };
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])

/* Counter slots of a block. */
enum {
    S_EVENTS = 0,
    S_REQUESTS = S_EVENTS + METRICS_NEVENTS,
    S_BYTES = S_REQUESTS + NCLASSES * NMETHODS,
    S_BUCKETS = S_BYTES + 1, /* NBUCKETS + 1 (the last: above every bound) */
    S_DURATION_US = S_BUCKETS + NBUCKETS + 1,
    NSLOTS
};

struct block {
    _Alignas(64) atomic_uint_least64_t v[NSLOTS];
    atomic_uintptr_t owner; /* the owning thread's &mine; 0: none (block 0 never has one) */
};

struct metrics {
    unsigned nblocks;      /* blocks[0] shared, the others one thread's each */
    atomic_uint taken;     /* blocks[1 .. taken) have an owner */
    struct block blocks[]; /* cache-line aligned, as the struct is */
};

/* The thread's identity cache (see the top of this file). */
static _Thread_local struct {
    struct metrics *m;
    unsigned i; /* mine.m->blocks[i] is this thread's (0: the shared one) */
} mine;

struct metrics *metrics_new(unsigned threads)
{
    size_t nblocks = (size_t)threads + 2; /* the workers, the loop, the shared one */

    if (nblocks > (SIZE_MAX - sizeof(struct metrics)) / sizeof(struct block) ||
        nblocks > UINT_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    /* A multiple of the alignment, as aligned_alloc wants. */
    size_t size = sizeof(struct metrics) + nblocks * sizeof(struct block);
    struct metrics *m = aligned_alloc(_Alignof(struct metrics), size);
    if (m == NULL)
        return NULL;
    memset(m, 0, size); /* every counter 0, every block without owner */
    m->nblocks = (unsigned)nblocks;
    atomic_init(&m->taken, 1);
    return m;
}

void metrics_free(struct metrics *m)
{
    free(m);
}

unsigned metrics_threads(struct metrics *m)
{
    unsigned n = atomic_load_explicit(&m->taken, memory_order_relaxed);
    return n - 1;
}

/* The calling thread's block of m, taken the first time. */
static struct block *my_block(struct metrics *m)
{
    uintptr_t self = (uintptr_t)&mine;

    if (mine.m == m && mine.i < m->nblocks &&
        (mine.i == 0 ||
         atomic_load_explicit(&m->blocks[mine.i].owner, memory_order_relaxed) == self))
        return &m->blocks[mine.i];
    mine.m = m;
    /* A block this thread took earlier, when it counted into m before. */
    unsigned n = atomic_load_explicit(&m->taken, memory_order_relaxed);
    for (unsigned i = 1; i < n; i++)
        if (atomic_load_explicit(&m->blocks[i].owner, memory_order_relaxed) == self) {
            mine.i = i;
            return &m->blocks[i];
        }
    /* A new one, or the shared one when none is left. */
    mine.i = 0;
    while (n < m->nblocks)
        if (atomic_compare_exchange_weak_explicit(&m->taken, &n, n + 1, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            atomic_store_explicit(&m->blocks[n].owner, self, memory_order_relaxed);
            mine.i = n;
            break;
        }
    return &m->blocks[mine.i];
}

static void add(struct metrics *m, struct block *b, unsigned slot, uint64_t n)
{
    if (b == &m->blocks[0]) {
        atomic_fetch_add_explicit(&b->v[slot], n, memory_order_relaxed);
        return;
    }
    /* The thread's own: no other writer, so no read-modify-write. */
    uint64_t v = atomic_load_explicit(&b->v[slot], memory_order_relaxed);
    atomic_store_explicit(&b->v[slot], v + n, memory_order_relaxed);
}

void metrics_count(struct metrics *m, enum metrics_event e)
{
    if (m != NULL)
        add(m, my_block(m), S_EVENTS + (unsigned)e, 1);
}

static enum method method_of(const char *m, size_t len)
{
    if (m != NULL && len == 3 && memcmp(m, "GET", 3) == 0)
        return M_GET;
    if (m != NULL && len == 4 && memcmp(m, "HEAD", 4) == 0)
        return M_HEAD;
    return M_OTHER;
}

void metrics_request(struct metrics *m, const char *method, size_t method_len, int status,
                     uint64_t bytes, uint64_t duration_usec)
{
    if (m == NULL)
        return;
    struct block *b = my_block(m);
    unsigned bucket = 0;

    if (status >= 100 && status <= 599)
        add(m, b,
            S_REQUESTS + (unsigned)(status / 100 - 1) * NMETHODS + method_of(method, method_len),
            1);
    add(m, b, S_BYTES, bytes);
    while (bucket < NBUCKETS && duration_usec > bucket_us[bucket])
        bucket++;
    add(m, b, S_BUCKETS + bucket, 1);
    add(m, b, S_DURATION_US, duration_usec);
}

/* Every block of m (NULL: none) summed; slots that only grow, read one by
 * one.  Blocks nobody took are 0. */
static void sum_blocks(struct metrics *m, uint64_t *out)
{
    memset(out, 0, NSLOTS * sizeof *out);
    for (unsigned i = 0; m != NULL && i < m->nblocks; i++)
        for (unsigned s = 0; s < NSLOTS; s++)
            out[s] += atomic_load_explicit(&m->blocks[i].v[s], memory_order_relaxed);
}

/* ------------------------------------------------------------------ exposition */

struct text {
    char *buf;
    size_t len, cap;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        char *nb = realloc(t->buf, t->cap * 2 + (size_t)n);
        if (nb == NULL) {
            t->failed = true;
            return;
        }
        t->buf = nb;
        t->cap = t->cap * 2 + (size_t)n;
    }
}

static void head(struct text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct text *t, const char *name, const char *type, const char *help, uint64_t v)
{
    head(t, name, type, help);
    put(t, "%s %llu\n", name, (unsigned long long)v);
}

char *metrics_render(struct metrics *counters, const struct metrics_gauges *g, size_t *len)
{
    uint64_t v[NSLOTS];
    struct text t = { .cap = 8192 };

    t.buf = malloc(t.cap);
    if (t.buf == NULL)
        return NULL;
    sum_blocks(counters, v);

    head(&t, "tinyhttpd_requests_total", "counter",
         "Responses sent (completely or as far as the client took them), by method and status "
         "class.");
    for (unsigned m = 0; m < NMETHODS; m++)
        for (unsigned c = 0; c < NCLASSES; c++)
            put(&t, "tinyhttpd_requests_total{method=\"%s\",code=\"%uxx\"} %llu\n", method_names[m],
                c + 1, (unsigned long long)v[S_REQUESTS + c * NMETHODS + m]);
    one(&t, "tinyhttpd_response_body_bytes_total", "counter", "Response body bytes sent.",
        v[S_BYTES]);

    head(&t, "tinyhttpd_request_duration_seconds", "histogram",
         "Time from the first byte of a request head to the end of its response.");
    uint64_t cum = 0;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        cum += v[S_BUCKETS + i];
        put(&t, "tinyhttpd_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
            (double)bucket_us[i] / 1e6, (unsigned long long)cum);
    }
    cum += v[S_BUCKETS + NBUCKETS];
    put(&t, "tinyhttpd_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
        (unsigned long long)cum);
    put(&t, "tinyhttpd_request_duration_seconds_sum %.6f\n", (double)v[S_DURATION_US] / 1e6);
    put(&t, "tinyhttpd_request_duration_seconds_count %llu\n", (unsigned long long)cum);

    one(&t, "tinyhttpd_connections_accepted_total", "counter", "Connections accepted.",
        v[S_EVENTS + METRICS_ACCEPTED]);
    one(&t, "tinyhttpd_connections_open", "gauge", "Connections open.", g->open);
    one(&t, "tinyhttpd_connections_idle", "gauge",
        "Open connections waiting for a request (new or keep-alive).", g->idle);
    one(&t, "tinyhttpd_connections_slow_client", "gauge",
        "Open connections whose response waits for the client to read.", g->slow_client);
    one(&t, "tinyhttpd_connections_max", "gauge", "Connections that may be open (max_connections).",
        g->capacity);
    one(&t, "tinyhttpd_max_connections_reached_total", "counter",
        "Times accepting paused with max_connections open; new connections waited in the "
        "kernel backlog meanwhile.",
        v[S_EVENTS + METRICS_MAX_CONNECTIONS]);
    one(&t, "tinyhttpd_queue_full_total", "counter",
        "Requests answered 503 because the job queue was full.", v[S_EVENTS + METRICS_QUEUE_FULL]);
    one(&t, "tinyhttpd_queue_jobs", "gauge", "Jobs waiting for a worker.", g->queued);
    one(&t, "tinyhttpd_workers", "gauge", "Worker threads.", g->workers);
    one(&t, "tinyhttpd_workers_busy", "gauge", "Workers running a job.", g->workers_busy);
    one(&t, "tinyhttpd_cache_hits_total", "counter", "Files answered from the file cache.",
        v[S_EVENTS + METRICS_CACHE_HIT]);
    one(&t, "tinyhttpd_cache_misses_total", "counter",
        "File cache lookups that found nothing usable.", v[S_EVENTS + METRICS_CACHE_MISS]);
    one(&t, "tinyhttpd_tls_handshakes_total", "counter", "TLS handshakes completed.",
        v[S_EVENTS + METRICS_TLS_HANDSHAKE]);
    one(&t, "tinyhttpd_tls_handshake_failures_total", "counter",
        "TLS handshakes that failed or that the client abandoned.",
        v[S_EVENTS + METRICS_TLS_HANDSHAKE_ERR]);
    head(&t, "tinyhttpd_start_time_seconds", "gauge", "When the process started, since the Epoch.");
    put(&t, "tinyhttpd_start_time_seconds %.3f\n", g->start_time);

    if (t.failed) {
        free(t.buf);
        errno = ENOMEM;
        return NULL;
    }
    *len = t.len;
    return t.buf;
}

/* ------------------------------------------------------------------ listener */

#define MAX_CLIENTS 8
#define MAX_REQUEST 2048
#define DEADLINE_MS 5000

struct mlistener {
    enum poll_kind kind; /* POLL_METRICS; first, see conn.h */
    bool is_listener;
    int fd;
    char name[64];
};

struct mclient {
    enum poll_kind kind; /* POLL_METRICS */
    bool is_listener;
    int fd; /* -1: the slot is free */
    int64_t deadline_ms;
    size_t in_len;
    char in[MAX_REQUEST];
    char *out; /* the response, once the request is read */
    size_t out_len, out_off;
};

struct metrics_server {
    int epfd;
    struct metrics *counters;
    metrics_gauges_fn *gauges;
    void *arg;
    size_t nlisteners;
    struct mlistener listeners[CONF_MAX_LISTEN];
    struct mclient clients[MAX_CLIENTS];
};

static int bind_one(const struct conf_listen *l, char *err, size_t errlen)
{
    int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0) {
        snprintf(err, errlen, "metrics_listen: cannot create a socket for %s: %s", l->text,
                 strerror(errno));
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        (l->addr.ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)) {
        snprintf(err, errlen, "metrics_listen: setsockopt on %s: %s", l->text, strerror(errno));
        goto fail;
    }
    if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) < 0) {
        snprintf(err, errlen, "metrics_listen: cannot bind %s: %s", l->text, strerror(errno));
        goto fail;
    }
    if (listen(fd, 64) < 0) {
        snprintf(err, errlen, "metrics_listen: cannot listen on %s: %s", l->text, strerror(errno));
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

struct metrics_server *metrics_server_new(const struct conf_listen *list, size_t n, char *err,
                                          size_t errlen)
{
    err[0] = '\0';
    if (n == 0)
        return NULL;
    struct metrics_server *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->epfd = -1;
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        m->clients[i].kind = POLL_METRICS;
        m->clients[i].fd = -1;
    }
    for (size_t i = 0; i < n && i < CONF_MAX_LISTEN; i++) {
        int fd = bind_one(&list[i], err, errlen);
        if (fd < 0) {
            metrics_server_free(m);
            return NULL;
        }
        struct mlistener *l = &m->listeners[m->nlisteners++];
        l->kind = POLL_METRICS;
        l->is_listener = true;
        l->fd = fd;
        snprintf(l->name, sizeof l->name, "%s", list[i].text);
        log_info("metrics on http://%s/metrics", l->name);
    }
    return m;
}

int metrics_server_start(struct metrics_server *m, int epfd, struct metrics *counters,
                         metrics_gauges_fn *gauges, void *arg)
{
    m->epfd = epfd;
    m->counters = counters;
    m->gauges = gauges;
    m->arg = arg;
    for (size_t i = 0; i < m->nlisteners; i++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &m->listeners[i] };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, m->listeners[i].fd, &ev) < 0)
            return -1;
    }
    return 0;
}

static void client_close(struct metrics_server *m, struct mclient *c)
{
    if (c->fd < 0)
        return;
    if (epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->fd, NULL) < 0)
        log_debug("metrics: epoll_ctl del: %s", strerror(errno));
    close(c->fd);
    c->fd = -1;
    free(c->out);
    c->out = NULL;
}

static void accept_clients(struct metrics_server *m, struct mlistener *l, int64_t now)
{
    for (int i = 0; i < MAX_CLIENTS; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log_warn("metrics: accept on %s: %s", l->name, strerror(errno));
            return;
        }
        struct mclient *c = NULL;
        for (size_t j = 0; j < MAX_CLIENTS && c == NULL; j++)
            if (m->clients[j].fd < 0)
                c = &m->clients[j];
        if (c == NULL) {
            log_debug("metrics: %d scrapes in progress; closing another", MAX_CLIENTS);
            close(fd);
            continue;
        }
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
        if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            log_err("metrics: epoll_ctl: %s", strerror(errno));
            close(fd);
            continue;
        }
        c->fd = fd;
        c->in_len = 0;
        c->out = NULL;
        c->out_len = c->out_off = 0;
        c->deadline_ms = now + DEADLINE_MS;
    }
}

/* The response to a complete head in c->in; false when out of memory. */
static bool respond(struct metrics_server *m, struct mclient *c)
{
    char hdr[256];
    const char *status = "200 OK", *allow = "";
    char *body = NULL;
    size_t blen = 0;
    bool head_only = false;

    size_t mlen = strcspn(c->in, " \r\n");
    const char *target = c->in + mlen + (c->in[mlen] == ' ');
    size_t tlen = strcspn(target, " \r\n");
    const char *version = target + tlen + (target[tlen] == ' ');

    if (target[tlen] != ' ' || strncmp(version, "HTTP/1.", 7) != 0) {
        status = "400 Bad Request";
    } else if (!((mlen == 3 && memcmp(c->in, "GET", 3) == 0) ||
                 (head_only = mlen == 4 && memcmp(c->in, "HEAD", 4) == 0))) {
        status = "405 Method Not Allowed";
        allow = "Allow: GET, HEAD\r\n";
    } else if (!((tlen == 8 || (tlen > 8 && target[8] == '?')) &&
                 memcmp(target, "/metrics", 8) == 0)) {
        status = "404 Not Found";
    } else {
        struct metrics_gauges g;
        memset(&g, 0, sizeof g);
        m->gauges(m->arg, &g);
        body = metrics_render(m->counters, &g, &blen);
        if (body == NULL)
            return false;
    }
    char ebuf[64];
    const char *payload = body;
    if (body == NULL) {
        snprintf(ebuf, sizeof ebuf, "%s\n", status + 4); /* the reason */
        payload = ebuf;
        blen = strlen(ebuf);
    }
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, body ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain", blen,
                     allow);
    size_t hlen = n < 0 ? 0 : (size_t)n;
    size_t total = hlen + (head_only ? 0 : blen);
    c->out = malloc(total);
    if (c->out == NULL) {
        free(body);
        return false;
    }
    memcpy(c->out, hdr, hlen);
    if (!head_only)
        memcpy(c->out + hlen, payload, blen);
    free(body);
    c->out_len = total;
    c->out_off = 0;
    return true;
}

/* Write what the socket takes; wait for EPOLLOUT for the rest. */
static void client_write(struct metrics_server *m, struct mclient *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n =
            send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                /* Output space only: a half-closed peer reported level-
                 * triggered would wake the loop over and over. */
                struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
                if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
                    log_err("metrics: epoll_ctl: %s", strerror(errno));
                    client_close(m, c);
                }
                return;
            }
            log_debug("metrics: send: %s", strerror(errno));
            client_close(m, c);
            return;
        }
        c->out_off += (size_t)n;
    }
    client_close(m, c);
}

static void client_read(struct metrics_server *m, struct mclient *c)
{
    for (;;) {
        size_t room = MAX_REQUEST - 1 - c->in_len;
        if (room == 0) {
            client_close(m, c); /* no scraper sends a head this large */
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            client_close(m, c);
            return;
        }
        c->in_len += (size_t)n;
        c->in[c->in_len] = '\0';
        if (memchr(c->in, '\0', c->in_len) != NULL) {
            client_close(m, c);
            return;
        }
        if (strstr(c->in, "\r\n\r\n") != NULL || strstr(c->in, "\n\n") != NULL)
            break;
    }
    if (!respond(m, c)) {
        log_err("metrics: out of memory for a response");
        client_close(m, c);
        return;
    }
    client_write(m, c);
}

void metrics_server_event(struct metrics_server *m, void *ptr, uint32_t events, int64_t now_ms)
{
    if (((struct mlistener *)ptr)->is_listener) {
        accept_clients(m, ptr, now_ms);
        return;
    }
    struct mclient *c = ptr;
    if (c->fd < 0)
        return; /* closed earlier in the same batch */
    if (c->out != NULL) {
        if (events & (EPOLLERR | EPOLLHUP))
            client_close(m, c);
        else
            client_write(m, c);
        return;
    }
    client_read(m, c);
}

void metrics_server_sweep(struct metrics_server *m, int64_t now_ms)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (m->clients[i].fd >= 0 && m->clients[i].deadline_ms <= now_ms)
            client_close(m, &m->clients[i]);
}

void metrics_server_free(struct metrics_server *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (m->clients[i].fd >= 0) {
            close(m->clients[i].fd);
            free(m->clients[i].out);
        }
    for (size_t i = 0; i < m->nlisteners; i++)
        close(m->listeners[i].fd);
    free(m);
}
