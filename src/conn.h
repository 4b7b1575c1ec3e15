/*
 * conn.h - one client connection and the table that holds them all.
 *
 * Ownership rule: a struct conn belongs either to the event loop (it is
 * parked, waiting for its socket or its deadline) or to exactly one pool
 * job (it is being read, parsed, answered or written), never to both, so it
 * needs no lock.  The owner field says which.  Sockets stay in epoll,
 * edge-triggered, for their whole life (for input; for output space only
 * while a response waits for it).  Only the loop thread moves a
 * connection from LOOP to JOB (to dispatch it).  An event for a connection
 * a job owns is recorded by the loop as JOB -> JOB_EVENT with a
 * compare-and-swap; the job parks with a compare-and-swap JOB -> LOOP, and
 * when that fails it knows an event came and carries on itself.  After a
 * successful park the job does not touch the connection.  Memory for
 * every connection slot is allocated once, so a slot the loop looks at is
 * never freed under it; per-connection buffers are allocated while a
 * request is in progress and given back when the connection idles.
 */
#ifndef TINYHTTPD_CONN_H
#define TINYHTTPD_CONN_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct site;
struct pool;

/*
 * CONN_JOB_EVENT: owned by a job, and epoll reported the socket meanwhile;
 * the job sees it when it tries to park and looks at the socket again.
 */
enum conn_owner { CONN_FREE, CONN_LOOP, CONN_JOB, CONN_JOB_EVENT };

enum conn_state {
    CONN_READ,                     /* waiting for (more of) a request head or body */
    CONN_SEND,                     /* a response is partly written */
    CONN_LINGER,                   /* closing: our side shut, draining what the client sends */
};

struct conn_table;

struct conn {
    atomic_int owner;              /* enum conn_owner */
    atomic_bool event_in;          /* the CONN_JOB_EVENT event was input (see serve()) */
    int fd;
    enum conn_state state;
    bool registered;               /* added to epoll (it is not until it first waits) */
    bool armed_out;                /* epoll also reports output space */
    bool drained;                  /* the last read emptied the socket */
    unsigned index;                /* slot in the table */
    struct conn_table *table;
    struct site *site;             /* reference held while open */
    int64_t deadline_ms;           /* monotonic; meaningful while parked */
    int64_t accepted_ms;

    /* request input: the head being read, then kept until its response is done */
    char *buf;                     /* in (max_header_size) followed by out */
    uint32_t in_len;
    uint32_t parse_last;           /* in_len at the previous incomplete parse */
    uint32_t head_len;             /* bytes of the head being answered, 0 if none */
    uint64_t discard;              /* body bytes still to drop before the next head */
    int64_t head_start_us;         /* first byte of the current head; 0: none yet */
    unsigned requests;             /* answered on this connection */

    /* response output */
    uint32_t out_len, out_off;
    uint32_t inline_len;           /* bytes at the end of out that are body */
    int file_fd;
    uint64_t file_off, file_end;
    uint64_t body_sent;
    int status;
    bool keep_alive;
    bool linger_after;             /* close by lingering (unread input may remain) */
    bool head_only;
    int8_t minor_version;          /* -1: the request line did not parse */

    /* the request being answered, for the access log (offsets into buf) */
    uint16_t method_off, method_len;
    uint16_t target_off, target_len;
    uint16_t referer_off, referer_len;     /* len 0: absent */
    uint16_t agent_off, agent_len;

    char peer[INET6_ADDRSTRLEN];
    struct conn *next_retry;       /* loop-private list of jobs the full queue refused */
    bool retry_queued;             /* on that list (and not armed in epoll) */
    bool from_event;               /* the job was started by an epoll event (serve()) */
};

/* What the loop and the connections share; owned by the server. */
struct conn_table {
    int epfd;
    int wake_fd;                   /* eventfd that wakes the loop */
    struct pool *pool;             /* where jobs requeue themselves */
    unsigned max_header_size;
    unsigned capacity;             /* max_connections */
    struct conn *slots;            /* capacity slots, allocated once */
    unsigned high_water;           /* slots [0, high_water) have been used (loop only) */
    pthread_mutex_t free_lock;     /* guards free_stack and free_top */
    unsigned *free_stack;
    unsigned free_top;
    atomic_uint active;            /* open connections */
    atomic_bool stopping;          /* shutting down: no more keep-alive */
    atomic_bool forced;            /* shutdown timeout passed: close everything now */
    atomic_bool wake_on_close;     /* the loop wants to hear of every close */
    atomic_ulong requests;         /* responses completed */
    atomic_ulong bytes;            /* body bytes sent */
};

/* Set up a table of capacity slots.  Returns 0 or -errno. */
int conn_table_init(struct conn_table *t, unsigned capacity, unsigned max_header_size,
                    int epfd, int wake_fd);
void conn_table_destroy(struct conn_table *t);

/*
 * Loop thread: take a free slot for the accepted socket fd (non-blocking),
 * owned by the loop and not yet in epoll: the loop hands it to the pool at
 * once, since its request has usually arrived with it, and the job adds it
 * to epoll only if it has to wait.  (That job reads the file changes before
 * it answers, since the loop has not seen the request arrive.)  TCP_NODELAY
 * comes from the listener.  Returns NULL, with fd closed, when no slot is
 * free.
 */
struct conn *conn_open(struct conn_table *t, int fd, const struct sockaddr *peer,
                       struct site *site, int64_t now_ms);

/* Pool job: serve the connection until it must wait or is closed. */
void conn_job(void *arg);

/* Loop thread: drain a LINGER connection that epoll reported readable. */
void conn_linger_read(struct conn *c);

/*
 * Loop thread, for a connection it owns: answer status (408, 503) with a
 * built-in page and close by lingering.  Only for connections in
 * CONN_READ (no response begun).
 */
void conn_reject(struct conn *c, int status, int64_t now_ms);

/* Loop thread, for a connection it owns whose deadline passed. */
void conn_expire(struct conn *c, int64_t now_ms);

/* Whether the client has closed or reset the connection (a peek, no data
 * is consumed). */
bool conn_is_gone(const struct conn *c);

/* Whether a loop-owned connection is idle between requests (no partial head). */
bool conn_is_idle(const struct conn *c);

/* Loop thread, for an idle connection it owns: give its buffer back. */
void conn_trim(struct conn *c);

/* Close and free the slot; from whichever thread owns c. */
void conn_close(struct conn *c);

/* Monotonic clock in milliseconds and microseconds. */
int64_t conn_now_ms(void);
int64_t conn_now_us(void);

#endif
