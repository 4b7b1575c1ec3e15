/*
 * server.c - listeners, the event loop, signals, reload and shutdown.
 *
 * Design: the main thread runs one epoll loop.  It owns the listening
 * sockets, a signalfd (so there is no signal handler at all), an eventfd
 * that connections use to wake it, and the timers.  Every waiting
 * connection (idle keep-alive, a head still arriving, a response the client
 * is slow to read, a socket being closed) is in the same epoll set, but
 * what happens to it is conn.c's business: the loop passes it each new
 * socket (conn_accept) and each of its events (conn_on_event), and conn.c
 * hands it to the pool as a job; a worker never waits on a client.  While
 * jobs are queued the loop does not poll (pool_wait_pending()), so that
 * under load it takes the ready connections in batches instead of one
 * wake-up each.  Four times a second it has conn.c sweep the connection
 * table for deadlines (408 for a head that did not arrive in time, silent
 * close of idle keep-alive connections) and idle buffers, and it refreshes
 * STATUS=.  It also reads the site's inotify descriptor first in every
 * batch of events, so the requests it hands on are not answered from a
 * copy older than a change they follow (but for one narrow race: Caching
 * in tinyhttpd(8)).  A failure of epoll_wait itself ends the process with
 * a non-zero status, so that the service manager restarts it.
 *
 * Bounds: at max_connections the loop stops polling the listeners and the
 * kernel backlog holds the rest; when the job queue is full a request gets
 * 503 with Retry-After.  The number of threads is pool_size + 1.
 *
 * Shutdown (SIGTERM, SIGINT): STOPPING=1; take over the connections the
 * kernel already has for the listeners, then close them; responses say
 * Connection: close; idle keep-alive connections stay open for
 * shutdown_grace (a request that arrives on one is answered), then close;
 * requests in flight finish until shutdown_timeout, then what is left is
 * closed; drain the queue and join every worker.  A second signal skips
 * the wait.  Sockets passed by systemd are closed at once, untouched: what
 * waits in them is the next instance's.  SIGHUP re-reads the configuration
 * and swaps in what may change at run time; an invalid file changes
 * nothing.
 */
#include "config.h"

#include "server.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "conn.h"
#include "fileserve.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "systemd.h"
#include "tls.h"

#define MAX_LISTENERS 64
#define ACCEPT_BATCH 64
#define EVENT_BATCH 256
#define SWEEP_MS 250 /* deadlines are kept to within this */
#define STATUS_MS 5000
#define FORCED_GRACE_MS 5000 /* after the shutdown timeout, for jobs to let go */
#define SATURATED_WAIT_MS 10 /* the longest the loop waits for a busy pool */
#define LISTEN_DRAIN_MS 250  /* stopping: connections already begun still get in */

struct listener {
    enum poll_kind kind; /* POLL_LISTENER; first, see conn.h */
    int fd;
    bool https;
    char name[128];
};

struct server {
    struct conf *conf;
    struct listener listeners[MAX_LISTENERS];
    size_t nlisteners;
    bool activated;           /* sockets came from the service manager */
    bool accepting;           /* listeners are polled */
    int64_t accept_resume_ms; /* after an accept error, not before this */
    unsigned rejected;        /* 503s not yet logged */
    int64_t rejected_log_ms;  /* when they were last logged */
    struct site *site;
    struct tls_ctx *tls; /* for new HTTPS connections, or NULL */
    int watch_fd;        /* the site's, in the epoll set, or -1 */
    struct pool *pool;
    int epfd;
    int wake_fd;
    int sig_fd;
    /* what epoll's data.ptr points at for these three (see conn.h) */
    enum poll_kind watch_tag, wake_tag, sig_tag;
    struct conn_table *table;
    struct metrics_server *metrics; /* the metrics listener, or NULL */
    struct metrics *counters;       /* for the whole process, across reloads */
    double start_time;              /* for the metrics */
    bool retry_pending;             /* the table has jobs the full queue refused */
    bool stopping;
    int64_t stop_deadline_ms;
    int64_t grace_until_ms; /* stopping: when idle connections close */
    int64_t drain_until_ms; /* stopping: when our listeners close */
    bool idle_closing;      /* the grace is over */
    bool forced;
    int64_t forced_until_ms; /* after forcing, when to stop waiting for jobs */
    int64_t next_sweep_ms, next_status_ms;
    /* the service watchdog (see watchdog_tick); watchdog_ms 0: none */
    int64_t watchdog_ms, next_watchdog_ms;
    uint64_t watchdog_finished; /* the pool's finished jobs at the last check */
    bool watchdog_queued;       /* jobs were queued at the last check */
    bool watchdog_withheld;     /* the last check sent no ping */
};

static void format_sockaddr(const struct sockaddr *sa, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, len, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, len, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (sa->sa_family == AF_UNIX) {
        snprintf(out, len, "unix:%s", ((const struct sockaddr_un *)sa)->sun_path);
    } else {
        snprintf(out, len, "family %d", sa->sa_family);
    }
}

/* defer: seconds the kernel holds a new connection that has sent nothing
 * (TCP_DEFER_ACCEPT); 0 for none.  reuse_port: other sockets may bind the
 * same address (SO_REUSEPORT), and the kernel spreads new connections
 * over them. */
static int bind_listener(const struct conf_listen *l, unsigned defer, bool reuse_port, char *err,
                         size_t errlen)
{
    int family = l->addr.ss_family;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0) {
        snprintf(err, errlen, "cannot create a socket for %s: %s", l->text, strerror(errno));
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)) {
        snprintf(err, errlen, "setsockopt on %s: %s", l->text, strerror(errno));
        goto fail;
    }
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
        snprintf(err, errlen, "setsockopt SO_REUSEPORT on %s: %s", l->text, strerror(errno));
        goto fail;
    }
    if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) < 0) {
        snprintf(err, errlen, "cannot bind %s: %s", l->text, strerror(errno));
        goto fail;
    }
    if (listen(fd, SOMAXCONN) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", l->text, strerror(errno));
        goto fail;
    }
    /* A connection is accepted when its first data arrives, or when the
     * kernel gives up waiting (after about defer seconds): no hand-off to a
     * worker that would find nothing to read yet. */
    int secs = (int)defer;
    if (defer > 0 && setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof secs) < 0) {
        snprintf(err, errlen, "setsockopt TCP_DEFER_ACCEPT on %s: %s", l->text, strerror(errno));
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

/* The sockets passed by systemd (n of them), which replace the listen keys. */
static void take_passed_sockets(struct server *s, int n, const bool *https)
{
    s->activated = true;
    for (int i = 0; i < n; i++) {
        struct listener *l = &s->listeners[s->nlisteners++];
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;

        l->kind = POLL_LISTENER;
        l->fd = systemd_listen_fds_start() + i;
        l->https = https[i];
        if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) < 0)
            snprintf(l->name, sizeof l->name, "fd %d", l->fd);
        else
            format_sockaddr((struct sockaddr *)&ss, l->name, sizeof l->name);
        log_info("listening on %s (fd %d, socket-activated%s)", l->name, l->fd,
                 l->https ? ", HTTPS" : "");
    }
    log_notice("using %d socket%s passed by the service manager; "
               "the 'listen', 'tls_listen', 'reuse_port' and 'defer_accept' keys are ignored",
               n, n == 1 ? "" : "s");
}

/* Bind the n addresses of list, for HTTPS when https. */
static int bind_listeners(struct server *s, const struct conf_listen *list, size_t n, bool https,
                          char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int fd = bind_listener(&list[i], s->conf->defer_accept, s->conf->reuse_port, err, errlen);
        if (fd < 0)
            return -1;
        struct listener *l = &s->listeners[s->nlisteners++];
        l->kind = POLL_LISTENER;
        l->fd = fd;
        l->https = https;
        snprintf(l->name, sizeof l->name, "%s", list[i].text);
        log_info("listening on %s%s", l->name, https ? " (HTTPS)" : "");
    }
    return 0;
}

/* With SO_REUSEPORT, the connections a closing listener still has (those
 * completing their handshake as it closes) are reset unless the kernel
 * moves them to another listener of the group: net.ipv4.tcp_migrate_req
 * (Linux 5.14). */
static void check_migrate_req(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_migrate_req", "re");
    int c = f != NULL ? fgetc(f) : EOF;

    if (f != NULL)
        fclose(f);
    if (c != '1')
        log_notice("reuse_port: net.ipv4.tcp_migrate_req is %s; a connection that arrives just "
                   "as an instance closes its sockets is reset instead of passed to the other",
                   c == '0' ? "0" : "not available");
}

static int open_listeners(struct server *s, char *err, size_t errlen)
{
    bool https[MAX_LISTENERS] = { false };
    int n = systemd_listen_fds(https, MAX_LISTENERS, err, errlen);

    if (n < 0)
        return -1;
    if (n > MAX_LISTENERS) {
        snprintf(err, errlen, "%d sockets passed; at most %d are supported", n, MAX_LISTENERS);
        return -1;
    }
    if (n > 0) {
        take_passed_sockets(s, n, https);
        return 0;
    }
    if (bind_listeners(s, s->conf->listen, s->conf->nlisten, false, err, errlen) < 0 ||
        bind_listeners(s, s->conf->tls_listen, s->conf->ntls_listen, true, err, errlen) < 0)
        return -1;
    if (s->conf->reuse_port)
        check_migrate_req();
    return 0;
}

/* The TLS context, when a certificate is configured; a listener for HTTPS
 * needs one.  Built before privileges are dropped, so a key readable by
 * root only is read. */
static struct tls_ctx *open_tls(const struct conf *conf, bool needed, char *err, size_t errlen)
{
    char msg[512], warn[256];
    const char *bad;

    if (conf->tls_certificate == NULL || conf->tls_certificate[0] == '\0') {
        if (needed)
            snprintf(err, errlen, "an HTTPS socket needs tls_certificate and tls_certificate_key");
        return NULL;
    }
    struct tls_ctx *ctx = tls_ctx_new(conf, msg, sizeof msg, &bad, warn, sizeof warn);
    if (ctx == NULL)
        snprintf(err, errlen, "%s: %s", bad, msg);
    else if (warn[0] != '\0')
        log_warn("%s", warn);
    return ctx;
}

static bool any_https(const struct server *s)
{
    for (size_t i = 0; i < s->nlisteners; i++)
        if (s->listeners[i].https)
            return true;
    return false;
}

struct server *server_new(struct conf *conf, char *err, size_t errlen)
{
    struct server *s = calloc(1, sizeof *s);

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        conf_free(conf);
        free(conf);
        return NULL;
    }
    s->conf = conf;
    s->epfd = s->wake_fd = s->sig_fd = s->watch_fd = -1;
    s->watch_tag = POLL_WATCH;
    s->wake_tag = POLL_WAKE;
    s->sig_tag = POLL_SIGNAL;
    if (open_listeners(s, err, errlen) < 0)
        goto fail;
    s->metrics = metrics_server_new(conf->metrics_listen, conf->nmetrics_listen, err, errlen);
    if (s->metrics == NULL && err[0] != '\0')
        goto fail;
    /* Counted only where somebody can read the counts (metrics_listen,
     * like pool_size, changes only at a restart: the blocks fit the
     * workers); NULL counters count nothing. */
    if (s->metrics != NULL && (s->counters = metrics_new(conf->pool_size)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->site = fileserve_site_new(conf, err, errlen);
    if (s->site == NULL)
        goto fail;
    s->site->metrics = s->counters;
    err[0] = '\0';
    s->tls = open_tls(conf, any_https(s), err, errlen);
    if (s->tls == NULL && err[0] != '\0')
        goto fail;
    return s;
fail:
    server_free(s);
    return NULL;
}

static void close_listeners(struct server *s)
{
    for (size_t i = 0; i < s->nlisteners; i++) {
        if (s->listeners[i].fd < 0)
            continue;
        if (s->epfd >= 0)
            epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->listeners[i].fd, NULL);
        close(s->listeners[i].fd);
        s->listeners[i].fd = -1;
    }
    s->accepting = false;
}

/* Poll the listeners (on) or leave them to the kernel backlog (off). */
static void set_accepting(struct server *s, bool on)
{
    if (s->accepting == on || s->stopping)
        return;
    for (size_t i = 0; i < s->nlisteners; i++) {
        struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.ptr = &s->listeners[i] };
        if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listeners[i].fd, &ev) < 0)
            log_err("epoll_ctl listener %s: %s", s->listeners[i].name, strerror(errno));
    }
    s->accepting = on;
    conn_table_wake_on_close(s->table, !on);
    if (!on)
        log_debug("at max_connections (%u); not accepting", conn_table_capacity(s->table));
}

/* Accept up to ACCEPT_BATCH connections; returns how many were tried. */
static int accept_some(struct server *s, struct listener *l)
{
    int i;

    /* A signal earlier in the same batch may have closed the listeners. */
    if (l->fd < 0)
        return 0;
    for (i = 0; i < ACCEPT_BATCH; i++) {
        if (conn_table_active(s->table) >= conn_table_capacity(s->table)) {
            if (s->accepting)
                metrics_count(s->counters, METRICS_MAX_CONNECTIONS);
            set_accepting(s, false);
            return i;
        }
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            switch (errno) {
            case EAGAIN:
                return i;
            case EINTR:
            case ECONNABORTED:
            case EPROTO:
            case EPERM:
                continue;
            case EMFILE:
            case ENFILE:
            case ENOBUFS:
            case ENOMEM:
                /* Out of descriptors or memory: stop accepting until the
                 * next sweep instead of spinning on the listener. */
                log_warn("accept on %s: %s; pausing accept", l->name, strerror(errno));
                s->accept_resume_ms = clock_ms() + 100;
                set_accepting(s, false);
                return i;
            default:
                log_err("accept on %s: %s", l->name, strerror(errno));
                return i;
            }
        }
        conn_accept(s->table, fd, (struct sockaddr *)&peer, l->https, clock_ms());
    }
    return i;
}

static void status_line(struct server *s, char *buf, size_t len)
{
    snprintf(buf, len, "%u connections, %u busy workers, %zu queued, %lu requests served",
             conn_table_active(s->table), s->pool ? pool_busy(s->pool) : 0,
             s->pool ? pool_pending(s->pool) : (size_t)0, conn_table_requests(s->table));
}

/*
 * A classic BPF program for a listening socket: drop a new connection's
 * SYN (SYN without ACK), let everything else in (the ACK that completes a
 * handshake already begun, the request of a connection the kernel defers).
 * The kernel runs it on the TCP header; attaching one needs no privilege.
 */
static int refuse_new_connections(int fd)
{
    static const struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),          /* the TCP flags */
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),       /* SYN | ACK */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1), /* SYN alone: */
        BPF_STMT(BPF_RET | BPF_K, 0),                    /* drop it */
        BPF_STMT(BPF_RET | BPF_K, 0xffffffff),           /* the rest: keep */
    };
    const struct sock_fprog prog = { .len = sizeof code / sizeof code[0],
                                     .filter = (struct sock_filter *)code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

/*
 * Stopping: take no new connection, and reset none that reached us.  Our
 * own listeners stop taking new connections at once (their SYNs are
 * dropped: the client tries again in a second, and finds the port closed
 * or another instance; where the kernel lets only CAP_NET_ADMIN attach the
 * filter that does it, they are taken and answered, with Connection:
 * close), but for LISTEN_DRAIN_MS (at most shutdown_grace)
 * they still let in the connections already begun: deferral
 * (TCP_DEFER_ACCEPT) is turned off, so that a connection the kernel holds
 * back until its request arrives is passed on as soon as it does, and
 * what the kernel completes is accepted.  Then they are closed
 * (close_drained), after one last accept.  Closing at once would reset a
 * connection whose request is on the wire.  Sockets passed by the service
 * manager are closed untouched: its copy keeps what waits in them for the
 * next instance.
 */
static void stop_listening(struct server *s, int64_t now)
{
    int off = 0;
    int64_t drain = (int64_t)s->conf->shutdown_grace * 1000;

    if (s->activated) {
        close_listeners(s);
        return;
    }
    for (size_t i = 0; i < s->nlisteners; i++) {
        struct listener *l = &s->listeners[i];
        if (l->fd < 0)
            continue;
        /* Some kernels let only CAP_NET_ADMIN attach a filter: then new
         * connections during the drain are taken and answered too. */
        if (refuse_new_connections(l->fd) < 0)
            log_info("%s takes new connections until it closes (SO_ATTACH_FILTER: %s)", l->name,
                     strerror(errno));
        if (s->conf->defer_accept > 0 &&
            setsockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &off, sizeof off) < 0)
            log_err("setsockopt TCP_DEFER_ACCEPT 0 on %s: %s", l->name, strerror(errno));
        while (accept_some(s, l) == ACCEPT_BATCH)
            ;
    }
    s->drain_until_ms = now + (drain < LISTEN_DRAIN_MS ? drain : LISTEN_DRAIN_MS);
}

/* Stopping, the drain is over: accept what the kernel completed, close. */
static void close_drained(struct server *s)
{
    for (size_t i = 0; i < s->nlisteners && !s->activated; i++)
        if (s->listeners[i].fd >= 0)
            while (accept_some(s, &s->listeners[i]) == ACCEPT_BATCH)
                ;
    close_listeners(s);
    log_info("listeners closed; %u connections open", conn_table_active(s->table));
}

/* Whether a listener of ours is still open. */
static bool listening(const struct server *s)
{
    for (size_t i = 0; i < s->nlisteners; i++)
        if (s->listeners[i].fd >= 0)
            return true;
    return false;
}

/* Stopping: once the drain is over the listeners close, once the grace is
 * over idle connections close too. */
static void stop_housekeeping(struct server *s, int64_t now)
{
    if (now >= s->drain_until_ms && listening(s))
        close_drained(s);
    if (now >= s->grace_until_ms && !s->idle_closing) {
        s->idle_closing = true;
        conn_table_close_idle(s->table);
    }
    conn_table_sweep(s->table, now);
}

static void begin_shutdown(struct server *s, const char *why, int64_t now)
{
    char status[200];

    if (s->stopping) {
        log_notice("got %s again; closing all connections now", why);
        s->forced = true;
        conn_table_stop(s->table, true);
        return;
    }
    s->stopping = true;
    conn_table_stop(s->table, false);
    s->stop_deadline_ms = now + (int64_t)s->conf->shutdown_timeout * 1000;
    s->grace_until_ms = now + (int64_t)s->conf->shutdown_grace * 1000;
    if (s->grace_until_ms > s->stop_deadline_ms)
        s->grace_until_ms = s->stop_deadline_ms;
    stop_listening(s, now);
    log_notice("got %s, shutting down: %u connections open, up to %u s to finish", why,
               conn_table_active(s->table), s->conf->shutdown_timeout);
    snprintf(status, sizeof status, "Shutting down, %u connections open",
             conn_table_active(s->table));
    systemd_notify_stopping(status);
    stop_housekeeping(s, now);
}

/* Poll the current site's change descriptor instead of the previous one's. */
static void watch_site(struct server *s)
{
    int fd = fileserve_site_watch_fd(s->site);
    /* Edge-triggered: on the ready list only while changes wait unread
     * (workers read them too), so a batch that holds a request sent after
     * a change holds the change as well, but for a race within one
     * epoll_wait (see Caching in tinyhttpd(8)). */
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = &s->watch_tag };

    if (s->watch_fd >= 0 && epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->watch_fd, NULL) < 0)
        log_err("epoll_ctl del inotify: %s", strerror(errno));
    s->watch_fd = -1;
    if (fd < 0)
        return;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        /* Without its change events the cache cannot be trusted. */
        log_err("epoll_ctl add inotify: %s; not caching files", strerror(errno));
        fileserve_site_retire(s->site);
        return;
    }
    s->watch_fd = fd;
}

/* What a reload swaps in, built and checked before anything changes. */
struct next {
    struct conf *conf;
    struct site *site;
    struct tls_ctx *tls;
};

static int load_next(struct server *s, struct next *n, char *err, size_t errlen)
{
    n->conf = calloc(1, sizeof *n->conf);
    if (n->conf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (conf_load(n->conf, s->conf->path, err, errlen) < 0)
        goto fail;
    n->site = fileserve_site_new(n->conf, err, errlen);
    if (n->site == NULL)
        goto fail;
    n->site->metrics = s->counters;
    err[0] = '\0';
    n->tls = open_tls(n->conf, any_https(s), err, errlen);
    if (n->tls == NULL && err[0] != '\0')
        goto fail;
    return 0;
fail:
    fileserve_site_unref(n->site);
    conf_free(n->conf);
    free(n->conf);
    return -1;
}

static void reload(struct server *s)
{
    char err[512], changed[256], status[200];
    struct next n = { NULL, NULL, NULL };

    systemd_notify_reloading();
    log_notice("got SIGHUP, reloading %s", s->conf->path);
    if (load_next(s, &n, err, sizeof err) < 0) {
        log_err("reload failed, keeping the running configuration: %s", err);
        goto out;
    }
    conf_keep_restart(n.conf, s->conf, changed, sizeof changed);
    if (changed[0] != '\0')
        log_warn("reload: %s changed; this takes effect only after a restart", changed);
    struct site *old = s->site;
    s->site = n.site;
    conn_table_set_site(s->table, n.site);
    watch_site(s); /* while the old descriptor is still open */
    fileserve_site_retire(old);
    fileserve_site_unref(old);
    /* Connections in flight keep the old context through their own. */
    tls_ctx_free(s->tls);
    s->tls = n.tls;
    conn_table_set_tls(s->table, n.tls);
    log_set_level(n.conf->log_level);
    conf_free(s->conf);
    free(s->conf);
    s->conf = n.conf;
    log_notice("reloaded %s: document_root %s%s", s->conf->path, s->conf->document_root,
               s->tls ? ", certificate reloaded" : "");
out:
    status_line(s, status, sizeof status);
    systemd_notify_ready(status);
}

static void handle_signals(struct server *s, int64_t now)
{
    struct signalfd_siginfo si;

    for (;;) {
        ssize_t n = read(s->sig_fd, &si, sizeof si);
        if (n != (ssize_t)sizeof si) {
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                log_err("signalfd read: %s", strerror(errno));
            return;
        }
        switch (si.ssi_signo) {
        case SIGTERM:
            begin_shutdown(s, "SIGTERM", now);
            break;
        case SIGINT:
            begin_shutdown(s, "SIGINT", now);
            break;
        case SIGHUP:
            if (!s->stopping)
                reload(s);
            break;
        default:
            break;
        }
    }
}

static void drain_wake(struct server *s)
{
    uint64_t v;
    if (read(s->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
        log_err("eventfd read: %s", strerror(errno));
}

/* Raise the descriptor limit as far as allowed; returns how many
 * connections fit. */
static unsigned fit_connections(unsigned wanted)
{
    struct rlimit rl;
    const unsigned reserve = 64 + MAX_LISTENERS; /* listeners, files being sent, logs */

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return wanted;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    /* Each connection may hold a socket and a file. */
    rlim_t room = rl.rlim_cur > reserve ? (rl.rlim_cur - reserve) / 2 : 1;
    if (rl.rlim_cur != RLIM_INFINITY && room < wanted) {
        log_notice("max_connections %u exceeds what the open file limit (%llu) allows; using %llu",
                   wanted, (unsigned long long)rl.rlim_cur, (unsigned long long)room);
        return (unsigned)room;
    }
    return wanted;
}

/* The epoll set, the wake-up eventfd and the signalfd. */
static int open_loop_fds(struct server *s)
{
    sigset_t mask;

    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        log_err("epoll_create1: %s", strerror(errno));
        return -1;
    }
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->wake_fd < 0) {
        log_err("eventfd: %s", strerror(errno));
        return -1;
    }
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    s->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->sig_fd < 0) {
        log_err("signalfd: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Put the eventfd, the signalfd and the listeners in the epoll set. */
static int poll_loop_fds(struct server *s)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->wake_tag };

    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wake_fd, &ev) < 0)
        goto fail;
    ev.data.ptr = &s->sig_tag;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sig_fd, &ev) < 0)
        goto fail;
    for (size_t i = 0; i < s->nlisteners; i++) {
        ev.data.ptr = &s->listeners[i];
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listeners[i].fd, &ev) < 0)
            goto fail;
        /* Accepted sockets inherit it: no setsockopt per connection.
         * (Responses leave in whole writes, MSG_MORE marks a head that a
         * file follows, so Nagle would only delay pipelined answers.) */
        int one = 1;
        if (setsockopt(s->listeners[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 &&
            errno != EOPNOTSUPP && errno != ENOPROTOOPT)
            log_warn("setsockopt TCP_NODELAY on %s: %s", s->listeners[i].name, strerror(errno));
    }
    s->accepting = true;
    return 0;
fail:
    log_err("epoll_ctl: %s", strerror(errno));
    return -1;
}

/* The worker threads, pinned to CPUs when cpu_affinity is on. */
static int start_pool(struct server *s)
{
    s->pool = pool_new(s->conf->pool_size, s->conf->queue_size);
    if (s->pool == NULL) {
        log_err("cannot start %u worker threads: %s", s->conf->pool_size, strerror(errno));
        return -1;
    }
    conn_table_set_pool(s->table, s->pool, s->conf->queue_size);
    if (s->conf->cpu_affinity) {
        int ncpu = pool_pin_workers(s->pool);
        if (ncpu < 0)
            log_warn("cpu_affinity: cannot pin the workers to CPUs (%s); they run unpinned",
                     strerror(-ncpu));
        else
            log_info("cpu_affinity: %u workers pinned, one per CPU in turn, over %d CPU%s",
                     s->conf->pool_size, ncpu, ncpu == 1 ? "" : "s");
    }
    return 0;
}

/* The metrics listener's view of the loop (metrics_gauges_fn). */
static void metrics_gauges(void *arg, struct metrics_gauges *g)
{
    struct server *s = arg;

    g->open = conn_table_active(s->table);
    conn_table_census(s->table, &g->idle, &g->slow_client);
    g->capacity = conn_table_capacity(s->table);
    g->queued = pool_pending(s->pool);
    g->workers = pool_size(s->pool);
    g->workers_busy = pool_busy(s->pool);
    g->start_time = s->start_time;
}

static int start_metrics(struct server *s)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    s->start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    if (s->metrics != NULL &&
        metrics_server_start(s->metrics, s->epfd, s->counters, metrics_gauges, s) < 0) {
        log_err("epoll_ctl metrics listener: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int setup_loop(struct server *s)
{
    if (open_loop_fds(s) < 0)
        return -1;
    unsigned cap = fit_connections(s->conf->max_connections);
    s->table = conn_table_new(cap, s->conf->max_header_size, s->epfd, s->wake_fd);
    if (s->table == NULL) {
        log_err("connection table: %s", strerror(errno));
        return -1;
    }
    conn_table_set_metrics(s->table, s->counters);
    conn_table_set_site(s->table, s->site);
    conn_table_set_tls(s->table, s->tls);
    if (poll_loop_fds(s) < 0)
        return -1;
    if (start_metrics(s) < 0)
        return -1;
    watch_site(s);
    return start_pool(s);
}

/*
 * While stopping: whether the loop is done (no connection left, or the
 * grace after forcing is over).  Forces the close of what is left once the
 * shutdown timeout has passed.
 */
static bool shutdown_done(struct server *s, int64_t now)
{
    if (conn_table_active(s->table) == 0 && !listening(s))
        return true;
    if (!s->forced && now >= s->stop_deadline_ms) {
        log_warn("shutdown timeout (%u s) reached; closing %u remaining connections",
                 s->conf->shutdown_timeout, conn_table_active(s->table));
        s->forced = true;
        conn_table_stop(s->table, true);
        conn_table_sweep(s->table, now);
        s->retry_pending = conn_table_retry(s->table);
    }
    if (s->forced) {
        if (s->forced_until_ms == 0)
            s->forced_until_ms = now + FORCED_GRACE_MS;
        else if (now >= s->forced_until_ms)
            return true;
    }
    return false;
}

/* How long epoll_wait may sleep. */
static int poll_timeout(const struct server *s, int64_t now)
{
    int64_t timeout = s->retry_pending ? 5 : s->next_sweep_ms - now;

    if (!s->accepting && s->accept_resume_ms > now && timeout > 100)
        timeout = 100;
    if (s->stopping && timeout > 100)
        timeout = 100;
    return timeout < 0 ? 0 : (int)timeout;
}

/* Handle one batch of events.  File changes come first: the requests in
 * the batch may follow them.  A worker may have read them from under
 * epoll's nose and still be acting on them; then wait for it.  New
 * connections come last: the jobs of connections under way (a request, the
 * end of a handshake) go to the pool before the handshakes of the batch's
 * new ones, which cost a worker far more, and every one of them still goes
 * in this batch. */
static void handle_events(struct server *s, struct epoll_event *events, int n, int64_t now)
{
    struct listener *ready[EVENT_BATCH];
    int nready = 0;
    bool changes = s->watch_fd >= 0 && fileserve_site_busy(s->site);
    for (int i = 0; i < n && !changes; i++)
        changes = events[i].data.ptr == &s->watch_tag;
    if (changes)
        fileserve_site_changes(s->site);

    for (int i = 0; i < n; i++) {
        void *p = events[i].data.ptr;
        switch (*(const enum poll_kind *)p) {
        case POLL_CONN:
            conn_on_event(s->table, p, events[i].events, now);
            break;
        case POLL_LISTENER:
            ready[nready++] = p;
            break;
        case POLL_SIGNAL:
            handle_signals(s, now);
            break;
        case POLL_WAKE:
            drain_wake(s);
            break;
        case POLL_WATCH:
            break; /* read above */
        case POLL_METRICS:
            metrics_server_event(s->metrics, p, events[i].events, now);
            break;
        }
    }
    for (int i = 0; i < nready; i++)
        accept_some(s, ready[i]);
}

/*
 * The service watchdog (WatchdogSec=): WATCHDOG=1 a few times per interval,
 * from the loop's own timer path, so a wedged loop stops the pings by
 * itself; and only while the pool makes progress: its queue is empty, or
 * was at the previous check, or some job finished since then.  Workers that all hang (on a
 * dead disk, a deadlock) stop the pings too, and systemd restarts us.
 */
static void watchdog_start(struct server *s, int64_t now)
{
    uint64_t usec = systemd_watchdog_usec();

    if (usec == 0)
        return;
    /* A third of the interval: a check may see one stalled period before
     * the next ping is due, and a missed ping still leaves room for one. */
    s->watchdog_ms = (int64_t)(usec / 3000);
    if (s->watchdog_ms < 1)
        s->watchdog_ms = 1;
    /* Ready now: the first ping, and the count the next check compares. */
    size_t pending;
    pool_progress(s->pool, &pending, &s->watchdog_finished);
    systemd_notify_watchdog();
    s->next_watchdog_ms = now + s->watchdog_ms;
    log_info("service watchdog: %" PRIu64 " ms; pinging every %" PRId64
             " ms while the pool makes progress",
             usec / 1000, s->watchdog_ms);
}

static void watchdog_tick(struct server *s, int64_t now)
{
    size_t pending;
    uint64_t finished;

    if (s->watchdog_ms == 0 || now < s->next_watchdog_ms)
        return;
    s->next_watchdog_ms = now + s->watchdog_ms;
    pool_progress(s->pool, &pending, &finished);
    /* Stalled: jobs waited at the last check and still do, and none has
     * finished in between.  (One queued a moment ago, after an idle
     * period, is no sign of a stall.) */
    bool healthy = pending == 0 || !s->watchdog_queued || finished != s->watchdog_finished;
    s->watchdog_finished = finished;
    s->watchdog_queued = pending > 0;
    if (healthy) {
        if (s->watchdog_withheld)
            log_notice("the worker pool makes progress again; watchdog pings resumed");
        s->watchdog_withheld = false;
        systemd_notify_watchdog();
    } else if (!s->watchdog_withheld) {
        s->watchdog_withheld = true;
        log_err("no job finished for %" PRId64 " ms with %zu queued; withholding the "
                "watchdog ping",
                s->watchdog_ms, pending);
    }
}

/* What the loop does after each batch: resubmit refused jobs, resume
 * accepting, sweep deadlines, refresh STATUS=. */
static void housekeeping(struct server *s, int64_t now)
{
    if (s->retry_pending)
        s->retry_pending = conn_table_retry(s->table);
    if (!s->accepting && !s->stopping && now >= s->accept_resume_ms &&
        conn_table_active(s->table) < conn_table_capacity(s->table))
        set_accepting(s, true);
    if (s->stopping) {
        stop_housekeeping(s, now);
        s->next_sweep_ms = now + SWEEP_MS;
    } else if (now >= s->next_sweep_ms) {
        conn_table_sweep(s->table, now);
        metrics_server_sweep(s->metrics, now);
        s->next_sweep_ms = now + SWEEP_MS;
    }
    if (now >= s->next_status_ms && systemd_notify_enabled()) {
        char status[200];
        status_line(s, status, sizeof status);
        systemd_notify_status(status);
        s->next_status_ms = now + STATUS_MS;
    }
    watchdog_tick(s, now);
}

int server_run(struct server *s)
{
    struct epoll_event events[EVENT_BATCH];
    char status[200];
    int result = 0;

    if (setup_loop(s) < 0)
        return -1;
    log_info("ready: %u workers, queue %u, max %u connections, document_root %s",
             s->conf->pool_size, s->conf->queue_size, conn_table_capacity(s->table),
             s->conf->document_root);
    status_line(s, status, sizeof status);
    systemd_notify_ready(status);

    int64_t now = clock_ms();
    s->next_sweep_ms = now + SWEEP_MS;
    s->next_status_ms = now + STATUS_MS;
    watchdog_start(s, now);
    while (!(s->stopping && shutdown_done(s, now))) {
        /* While the workers have jobs queued, more jobs now would only
         * wait beside them: let requests gather in epoll until the queue
         * is empty, then take them in one batch.  Being woken for every
         * request costs the loop, the workers and the clients a context
         * switch each time. */
        if (!s->stopping)
            (void)pool_wait_pending(s->pool, 0, SATURATED_WAIT_MS);
        int n = epoll_wait(s->epfd, events, EVENT_BATCH, poll_timeout(s, now));
        if (n < 0 && errno != EINTR) {
            /* The loop cannot go on: stop, and say so in the exit status
             * so that the service manager restarts us. */
            log_err("epoll_wait: %s; the event loop cannot continue", strerror(errno));
            result = -1;
            break;
        }
        now = clock_ms();
        if (n > 0)
            handle_events(s, events, n, now);
        housekeeping(s, now);
    }

    /* Every job still queued runs (and, once forced, just closes). */
    pool_shutdown(s->pool);
    unsigned left = conn_table_close_all(s->table);
    log_info("stopped: %lu requests served%s", conn_table_requests(s->table),
             left ? ", remaining connections closed" : "");
    return result;
}

void server_free(struct server *s)
{
    if (s == NULL)
        return;
    pool_free(s->pool);
    conn_table_free(s->table);
    metrics_server_free(s->metrics);
    tls_ctx_free(s->tls);
    close_listeners(s);
    fileserve_site_unref(s->site);
    metrics_free(s->counters); /* after the workers and everything that counts */
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    if (s->sig_fd >= 0)
        close(s->sig_fd);
    if (s->conf != NULL) {
        conf_free(s->conf);
        free(s->conf);
    }
    free(s);
}
