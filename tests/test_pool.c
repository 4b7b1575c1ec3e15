/*
 * test_pool.c - unit tests for the worker pool (src/pool.c).
 *
 * Every property is measured, never assumed: jobs record what they saw in
 * atomics, and the test waits for them with condition variables.  Workers
 * are held on a "gate" (a condvar the test opens) whenever a test needs the
 * queue in an exact state, so -EAGAIN and the drain-on-shutdown check are
 * deterministic.  Waits carry a generous deadline only so that a broken pool
 * fails the test instead of hanging it; correctness never depends on time.
 * Also built with ThreadSanitizer, which must report nothing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* pthread_getname_np, pthread_getattr_default_np */
#endif

#include "pool.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TEST_SANITIZED 1
#endif
#endif

#define DEADLINE_SEC 10 /* only to turn a hang into a failure */

static atomic_uint timeouts; /* waits that hit DEADLINE_SEC: always a failure */

/* ------------------------------------------------------------ helpers */

static void xcheck(int err)
{
    if (err != 0)
        abort();
}

static struct timespec deadline(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += DEADLINE_SEC;
    return ts;
}

/*
 * A gate: jobs arrive (counted) and, if they pass(), wait until the test
 * opens it.  The arrival count doubles as a latch for "n jobs have run".
 */
struct gate {
    pthread_mutex_t m;
    pthread_cond_t c;
    unsigned arrived;
    bool open;
};

static void gate_init(struct gate *g)
{
    pthread_condattr_t ca;
    xcheck(pthread_mutex_init(&g->m, NULL));
    xcheck(pthread_condattr_init(&ca));
    xcheck(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
    xcheck(pthread_cond_init(&g->c, &ca));
    xcheck(pthread_condattr_destroy(&ca));
    g->arrived = 0;
    g->open = false;
}

static void gate_destroy(struct gate *g)
{
    xcheck(pthread_cond_destroy(&g->c));
    xcheck(pthread_mutex_destroy(&g->m));
}

static void gate_arrive(struct gate *g)
{
    xcheck(pthread_mutex_lock(&g->m));
    g->arrived++;
    xcheck(pthread_cond_broadcast(&g->c));
    xcheck(pthread_mutex_unlock(&g->m));
}

/* Wait until at least n arrivals; false (and a recorded timeout) past the deadline. */
static bool gate_wait_arrived(struct gate *g, unsigned n)
{
    struct timespec ts = deadline();
    bool ok = true;

    xcheck(pthread_mutex_lock(&g->m));
    while (g->arrived < n && ok) {
        int err = pthread_cond_timedwait(&g->c, &g->m, &ts);
        if (err == ETIMEDOUT)
            ok = g->arrived >= n;
        else
            xcheck(err);
    }
    xcheck(pthread_mutex_unlock(&g->m));
    if (!ok)
        atomic_fetch_add(&timeouts, 1);
    return ok;
}

static unsigned gate_arrived(struct gate *g)
{
    xcheck(pthread_mutex_lock(&g->m));
    unsigned n = g->arrived;
    xcheck(pthread_mutex_unlock(&g->m));
    return n;
}

static void gate_open(struct gate *g)
{
    xcheck(pthread_mutex_lock(&g->m));
    g->open = true;
    xcheck(pthread_cond_broadcast(&g->c));
    xcheck(pthread_mutex_unlock(&g->m));
}

/* Arrive, then wait until the gate is opened. */
static void gate_pass(struct gate *g)
{
    struct timespec ts = deadline();
    bool ok = true;

    xcheck(pthread_mutex_lock(&g->m));
    g->arrived++;
    xcheck(pthread_cond_broadcast(&g->c));
    while (!g->open && ok) {
        int err = pthread_cond_timedwait(&g->c, &g->m, &ts);
        if (err == ETIMEDOUT)
            ok = g->open;
        else
            xcheck(err);
    }
    xcheck(pthread_mutex_unlock(&g->m));
    if (!ok)
        atomic_fetch_add(&timeouts, 1);
}

static void job_gate(void *arg)
{
    gate_pass(arg);
}

static bool past(const struct timespec *ts)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/*
 * pool_execute(), retried while it says -EAGAIN; returns its first other
 * result, or -EAGAIN (and a recorded timeout) if the queue never frees up.
 */
static int submit(struct pool *p, pool_fn *fn, void *arg)
{
    struct timespec ts = deadline();
    int r;

    while ((r = pool_execute(p, fn, arg)) == -EAGAIN) {
        if (past(&ts)) {
            atomic_fetch_add(&timeouts, 1);
            break;
        }
        sched_yield();
    }
    return r;
}

/* Hold all n workers of p on g; true once every one of them is inside a gate job. */
static bool hold_workers(struct pool *p, struct gate *g, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        CHECK_INT(pool_execute(p, job_gate, g), 0);
    return gate_wait_arrived(g, n);
}

/* A job that counts its runs, and optionally calls pool_execute() itself. */
struct slot {
    atomic_uint runs;
    struct pool *inner_pool; /* if set, the job queues job_never here ... */
    int inner_rc;            /* ... and records the result */
    struct gate *done;       /* if set, arrive here when done */
};

static atomic_uint never_ran;

static void job_never(void *arg)
{
    (void)arg;
    atomic_fetch_add(&never_ran, 1);
}

static void job_slot(void *arg)
{
    struct slot *s = arg;
    atomic_fetch_add(&s->runs, 1);
    if (s->inner_pool != NULL)
        s->inner_rc = pool_execute(s->inner_pool, job_never, NULL);
    if (s->done != NULL)
        gate_arrive(s->done);
}

/* ------------------------------------------------------------ 1. concurrency bound */

struct conc {
    struct pool *p;
    unsigned n;
    atomic_uint running;
    atomic_uint max_seen;
    atomic_uint busy_over; /* pool_busy() > n seen from inside a job */
    struct gate rendezvous;
};

static void conc_enter(struct conc *c)
{
    unsigned now = atomic_fetch_add(&c->running, 1) + 1;
    unsigned max = atomic_load(&c->max_seen);
    while (now > max && !atomic_compare_exchange_weak(&c->max_seen, &max, now))
        ;
    if (pool_busy(c->p) > c->n)
        atomic_fetch_add(&c->busy_over, 1);
}

static void job_conc(void *arg)
{
    struct conc *c = arg;
    conc_enter(c);
    nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 }, NULL); /* overlap, not sync */
    atomic_fetch_sub(&c->running, 1);
}

/* The first n jobs meet here, so the maximum is reached without relying on timing. */
static void job_conc_meet(void *arg)
{
    struct conc *c = arg;
    conc_enter(c);
    gate_arrive(&c->rendezvous);
    gate_wait_arrived(&c->rendezvous, c->n);
    atomic_fetch_sub(&c->running, 1);
}

static void test_concurrency_bound(unsigned n)
{
    struct conc c = { .n = n };
    const unsigned njobs = 500;

    gate_init(&c.rendezvous);
    c.p = pool_new(n, 16);
    CHECK(c.p != NULL);
    if (c.p == NULL)
        return;

    for (unsigned i = 0; i < njobs; i++)
        CHECK_INT(submit(c.p, i < n ? job_conc_meet : job_conc, &c), 0);
    pool_free(c.p);

    CHECK(atomic_load(&c.max_seen) <= n);
    CHECK_INT(atomic_load(&c.max_seen), n);
    CHECK_INT(atomic_load(&c.running), 0);
    CHECK_INT(atomic_load(&c.busy_over), 0);
    gate_destroy(&c.rendezvous);
}

/* ------------------------------------------------------------ 2. drain on shutdown */

struct shutter {
    struct pool *p;
    struct slot *slots;
    unsigned nslots;
    struct gate *entered;   /* arrive here just before calling pool_shutdown() */
    atomic_uint *returned;  /* incremented once pool_shutdown() returned */
    unsigned ran_at_return; /* jobs that had run when pool_shutdown() returned */
};

static void *shutdown_thread(void *arg)
{
    struct shutter *s = arg;
    gate_arrive(s->entered);
    pool_shutdown(s->p);
    atomic_fetch_add(s->returned, 1);
    s->ran_at_return = 0;
    for (unsigned i = 0; i < s->nslots; i++)
        s->ran_at_return += atomic_load(&s->slots[i].runs);
    return NULL;
}

static void test_shutdown_drains(void)
{
    enum { N = 3, Q = 32 };
    struct slot slots[Q];
    struct gate g, entered;
    struct shutter sh[2];
    pthread_t tid[2];
    struct slot probe = { .runs = 0 };
    atomic_uint returned = 0;

    gate_init(&g);
    gate_init(&entered);
    atomic_store(&never_ran, 0);
    struct pool *p = pool_new(N, Q);
    CHECK(p != NULL);
    if (p == NULL)
        return;

    CHECK(hold_workers(p, &g, N));
    for (unsigned i = 0; i < Q; i++) {
        slots[i] = (struct slot){ .runs = 0, .inner_pool = p, .inner_rc = 1 };
        CHECK_INT(pool_execute(p, job_slot, &slots[i]), 0);
    }
    CHECK_INT(pool_pending(p), Q);
    CHECK_INT(pool_busy(p), N);

    /* Two concurrent callers: both must return only after the drain and the joins. */
    for (unsigned i = 0; i < 2; i++) {
        sh[i] = (struct shutter){
            .p = p, .slots = slots, .nslots = Q, .entered = &entered, .returned = &returned
        };
        xcheck(pthread_create(&tid[i], NULL, shutdown_thread, &sh[i]));
    }
    /* The queue is full and the workers are held, so -EAGAIN means "not begun yet". */
    CHECK_INT(submit(p, job_slot, &probe), -ESHUTDOWN);

    /* Shutdown has begun but nothing queued has run, and nothing was dropped. */
    CHECK_INT(pool_pending(p), Q);
    CHECK_INT(pool_busy(p), N);
    unsigned ran = 0;
    for (unsigned i = 0; i < Q; i++)
        ran += atomic_load(&slots[i].runs);
    CHECK_INT(ran, 0);

    /*
     * Neither caller may return while queued jobs are held.  The pause only
     * gives a broken second caller time to return early; a correct pool
     * passes whatever the timing.
     */
    CHECK(gate_wait_arrived(&entered, 2));
    nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
    CHECK_INT(atomic_load(&returned), 0);

    gate_open(&g);
    for (unsigned i = 0; i < 2; i++) {
        xcheck(pthread_join(tid[i], NULL));
        CHECK_INT(sh[i].ran_at_return, Q);
    }

    for (unsigned i = 0; i < Q; i++) {
        CHECK_INT(atomic_load(&slots[i].runs), 1);
        CHECK_INT(slots[i].inner_rc, -ESHUTDOWN); /* a queued job calling in gets refused */
    }
    CHECK_INT(atomic_load(&probe.runs), 0);
    CHECK_INT(atomic_load(&never_ran), 0);
    CHECK_INT(pool_pending(p), 0);
    CHECK_INT(pool_busy(p), 0);

    pool_shutdown(p); /* idempotent */
    pool_free(p);
    gate_destroy(&entered);
    gate_destroy(&g);
}

/* ------------------------------------------------------------ 3. execute after shutdown */

static void test_execute_after_shutdown(void)
{
    struct slot s = { .runs = 0 };
    struct pool *p = pool_new(2, 4);
    CHECK(p != NULL);
    if (p == NULL)
        return;

    pool_shutdown(p);
    CHECK_INT(pool_execute(p, job_slot, &s), -ESHUTDOWN);
    CHECK_INT(pool_execute(p, job_slot, &s), -ESHUTDOWN);
    CHECK_INT(pool_pending(p), 0);
    pool_free(p); /* shutdown again inside: must not hang or crash */
    CHECK_INT(atomic_load(&s.runs), 0);
}

/* ------------------------------------------------------------ 4. full queue */

static void test_full_queue(void)
{
    enum { N = 2, Q = 5 };
    struct slot slots[Q];
    struct gate g, done;
    struct slot extra = { .runs = 0 };

    gate_init(&g);
    gate_init(&done);
    struct pool *p = pool_new(N, Q);
    CHECK(p != NULL);
    if (p == NULL)
        return;

    /* The N gate jobs leave the ring's head at N, so filling it also wraps the tail. */
    CHECK(hold_workers(p, &g, N));
    CHECK_INT(pool_pending(p), 0);
    for (unsigned i = 0; i < Q; i++) {
        slots[i] = (struct slot){ .runs = 0, .done = &done };
        CHECK_INT(pool_execute(p, job_slot, &slots[i]), 0);
        CHECK_INT(pool_pending(p), i + 1);
    }
    CHECK_INT(pool_execute(p, job_slot, &extra), -EAGAIN);
    CHECK_INT(pool_execute(p, job_slot, &extra), -EAGAIN);
    CHECK_INT(pool_pending(p), Q);
    CHECK_INT(pool_busy(p), N);
    CHECK_INT(gate_arrived(&done), 0);

    gate_open(&g);
    CHECK(gate_wait_arrived(&done, Q));

    /* Usable again after draining: a second round through the ring. */
    for (unsigned i = 0; i < Q; i++)
        CHECK_INT(submit(p, job_slot, &slots[i]), 0);
    CHECK(gate_wait_arrived(&done, 2 * Q));

    pool_free(p);
    for (unsigned i = 0; i < Q; i++)
        CHECK_INT(atomic_load(&slots[i].runs), 2);
    CHECK_INT(atomic_load(&extra.runs), 0);
    gate_destroy(&done);
    gate_destroy(&g);
}

/* ------------------------------------------------------------ 5. many producers */

enum { STRESS_JOBS = 100000, STRESS_PRODUCERS = 4 };

static atomic_uchar stress_runs[STRESS_JOBS];

static void job_stress(void *arg)
{
    atomic_fetch_add_explicit((atomic_uchar *)arg, 1, memory_order_relaxed);
}

struct producer {
    struct pool *p;
    unsigned from, to;
    unsigned failures; /* pool_execute() results other than 0 and -EAGAIN */
};

static void *producer_main(void *arg)
{
    struct producer *pr = arg;
    for (unsigned i = pr->from; i < pr->to; i++) {
        if (submit(pr->p, job_stress, &stress_runs[i]) != 0)
            pr->failures++;
    }
    return NULL;
}

static void test_many_producers(void)
{
    struct producer prs[STRESS_PRODUCERS];
    pthread_t tid[STRESS_PRODUCERS];
    const unsigned per = STRESS_JOBS / STRESS_PRODUCERS;

    struct pool *p = pool_new(4, 64);
    CHECK(p != NULL);
    if (p == NULL)
        return;

    for (unsigned i = 0; i < STRESS_PRODUCERS; i++) {
        prs[i] = (struct producer){ .p = p,
                                    .from = i * per,
                                    .to = i == STRESS_PRODUCERS - 1 ? STRESS_JOBS : (i + 1) * per };
        xcheck(pthread_create(&tid[i], NULL, producer_main, &prs[i]));
    }
    for (unsigned i = 0; i < STRESS_PRODUCERS; i++) {
        xcheck(pthread_join(tid[i], NULL));
        CHECK_INT(prs[i].failures, 0);
    }
    pool_free(p); /* drains what is still queued */

    unsigned wrong = 0, total = 0;
    for (unsigned i = 0; i < STRESS_JOBS; i++) {
        unsigned n = atomic_load_explicit(&stress_runs[i], memory_order_relaxed);
        total += n;
        wrong += n != 1;
    }
    CHECK_INT(wrong, 0);
    CHECK_INT(total, STRESS_JOBS);
}

/* ------------------------------------------------------------ 6. the rest of the API */

static void test_bad_args(void)
{
    errno = 0;
    CHECK(pool_new(0, 1) == NULL);
    CHECK_INT(errno, EINVAL);
    errno = 0;
    CHECK(pool_new(POOL_MAX_THREADS + 1, 1) == NULL);
    CHECK_INT(errno, EINVAL);
    errno = 0;
    CHECK(pool_new(1, 0) == NULL);
    CHECK_INT(errno, EINVAL);
    errno = 0;
    CHECK(pool_new(1, SIZE_MAX) == NULL); /* the ring's size overflows */
    CHECK_INT(errno, ENOMEM);
    pool_free(NULL);
}

static void test_sizes(void)
{
    struct gate g, done;
    struct slot s = { .runs = 0 };

    gate_init(&g);
    gate_init(&done);
    s.done = &done;
    struct pool *p = pool_new(3, 7);
    CHECK(p != NULL);
    if (p == NULL)
        return;

    CHECK_INT(pool_size(p), 3);
    CHECK_INT(pool_pending(p), 0);
    CHECK_INT(pool_busy(p), 0);

    CHECK_INT(pool_execute(p, job_gate, &g), 0);
    CHECK(gate_wait_arrived(&g, 1));
    CHECK_INT(pool_busy(p), 1);
    CHECK_INT(pool_pending(p), 0);
    CHECK_INT(pool_execute(p, job_gate, &g), 0);
    CHECK_INT(pool_execute(p, job_gate, &g), 0);
    CHECK(gate_wait_arrived(&g, 3));
    CHECK_INT(pool_pending(p), 0);
    CHECK_INT(pool_busy(p), 3);
    CHECK_INT(pool_execute(p, job_slot, &s), 0);
    CHECK_INT(pool_execute(p, job_slot, &s), 0);
    CHECK_INT(pool_pending(p), 2);

    gate_open(&g);
    CHECK(gate_wait_arrived(&done, 2));
    CHECK_INT(pool_pending(p), 0);
    pool_shutdown(p);
    CHECK_INT(pool_busy(p), 0);
    CHECK_INT(pool_pending(p), 0);
    CHECK_INT(pool_size(p), 3);
    pool_free(p);
    CHECK_INT(atomic_load(&s.runs), 2);
    gate_destroy(&done);
    gate_destroy(&g);
}

/* A job that queues another job on its own pool; with one worker it runs afterwards. */
struct nested {
    struct pool *p;
    int rc;
    struct slot inner;
};

static void job_outer(void *arg)
{
    struct nested *n = arg;
    n->rc = pool_execute(n->p, job_slot, &n->inner);
}

static void test_execute_from_job(void)
{
    struct gate done;
    struct nested n = { .rc = 1 };

    gate_init(&done);
    n.inner.done = &done;
    n.p = pool_new(1, 1);
    CHECK(n.p != NULL);
    if (n.p == NULL)
        return;

    CHECK_INT(pool_execute(n.p, job_outer, &n), 0);
    CHECK(gate_wait_arrived(&done, 1));
    pool_free(n.p);
    CHECK_INT(n.rc, 0);
    CHECK_INT(atomic_load(&n.inner.runs), 1);
    gate_destroy(&done);
}

/* ------------------------------------------------------------ pool_wait_pending() */

static int64_t elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* A thread in pool_wait_pending(); it records what it saw, the test checks. */
struct waiter {
    struct pool *p;
    size_t n;
    unsigned timeout_ms;
    int rc;
    size_t pending_after; /* pool_pending() right after the wait returned */
    struct slot *watch;   /* if set, its runs when the wait returned */
    unsigned watch_runs;
    struct gate *returned;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    w->rc = pool_wait_pending(w->p, w->n, w->timeout_ms);
    w->pending_after = pool_pending(w->p);
    if (w->watch != NULL)
        w->watch_runs = atomic_load(&w->watch->runs);
    if (w->returned != NULL)
        gate_arrive(w->returned);
    return NULL;
}

/* It returns once the queue is short enough, or at the timeout, never before. */
static void test_wait_pending(void)
{
    enum { N = 2, Q = 16, K = 6 };
    struct gate g, done;
    struct slot slots[K];
    struct waiter w[2];
    pthread_t tid[2];
    struct timespec t0;

    gate_init(&g);
    gate_init(&done);
    struct pool *p = pool_new(N, Q);
    CHECK(p != NULL);
    if (p == NULL)
        return;

    /* Nothing queued: at once, whatever the timeout. */
    CHECK_INT(pool_wait_pending(p, 0, DEADLINE_SEC * 1000), 0);

    CHECK(hold_workers(p, &g, N));
    for (unsigned i = 0; i < K; i++) {
        slots[i] = (struct slot){ .runs = 0, .done = &done };
        CHECK_INT(pool_execute(p, job_slot, &slots[i]), 0);
    }
    CHECK_INT(pool_wait_pending(p, K, DEADLINE_SEC * 1000), 0); /* already short enough */

    /* The workers are held, so the queue cannot shrink: the full timeout. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(pool_wait_pending(p, K - 1, 50), -ETIMEDOUT);
    CHECK(elapsed_ms(&t0) >= 50);
    CHECK_INT(pool_pending(p), K);

    /* Two waiters with different marks; both wake once the queue got there. */
    w[0] = (struct waiter){ .p = p, .n = 0, .timeout_ms = DEADLINE_SEC * 1000 };
    w[1] = (struct waiter){ .p = p, .n = 3, .timeout_ms = DEADLINE_SEC * 1000 };
    for (unsigned i = 0; i < 2; i++)
        xcheck(pthread_create(&tid[i], NULL, waiter_main, &w[i]));
    gate_open(&g);
    for (unsigned i = 0; i < 2; i++) {
        xcheck(pthread_join(tid[i], NULL));
        CHECK_INT(w[i].rc, 0);
        CHECK(w[i].pending_after <= w[i].n); /* only the workers change it now */
    }
    CHECK(gate_wait_arrived(&done, K));
    pool_free(p);
    gate_destroy(&done);
    gate_destroy(&g);
}

/* pool_shutdown() wakes a waiter at once: it does not wait for the drain. */
static void test_wait_pending_shutdown(void)
{
    struct gate g, returned;
    struct slot slot = { .runs = 0 };
    struct waiter w;
    struct shutter sh;
    pthread_t wtid, stid;
    atomic_uint shut = 0;

    gate_init(&g);
    gate_init(&returned);
    struct pool *p = pool_new(1, 4);
    CHECK(p != NULL);
    if (p == NULL)
        return;
    CHECK(hold_workers(p, &g, 1));
    CHECK_INT(pool_execute(p, job_slot, &slot), 0);

    w = (struct waiter){
        .p = p, .n = 0, .timeout_ms = DEADLINE_SEC * 1000, .watch = &slot, .returned = &returned
    };
    xcheck(pthread_create(&wtid, NULL, waiter_main, &w));
    sh = (struct shutter){
        .p = p, .slots = &slot, .nslots = 1, .entered = &returned, .returned = &shut
    };
    xcheck(pthread_create(&stid, NULL, shutdown_thread, &sh));
    /* Both the waiter and the shutdown thread arrive at `returned`; the
     * worker is still held, so the waiter cannot have seen a drain. */
    CHECK(gate_wait_arrived(&returned, 2));
    xcheck(pthread_join(wtid, NULL));
    CHECK_INT(w.rc, 0);
    CHECK_INT(w.watch_runs, 0);
    CHECK_INT(w.pending_after, 1);
    CHECK_INT(pool_wait_pending(p, 0, DEADLINE_SEC * 1000), 0); /* stopping: at once */

    gate_open(&g);
    xcheck(pthread_join(stid, NULL));
    CHECK_INT(atomic_load(&slot.runs), 1);
    pool_free(p);
    gate_destroy(&returned);
    gate_destroy(&g);
}

/* Timeouts racing the workers' wake-ups: no lost or stray wake-up hangs a
 * waiter, and the pool ends drained (run under TSan as well). */
struct wait_stress {
    struct pool *p;
    struct slot *slots;
    unsigned nslots;
    unsigned rounds;
    int bad_rc; /* a result neither call should give */
};

static void *wait_stress_main(void *arg)
{
    struct wait_stress *ws = arg;
    for (unsigned r = 0; r < ws->rounds; r++) {
        int rc;
        for (unsigned i = 0; i < ws->nslots; i++) {
            rc = pool_execute(ws->p, job_slot, &ws->slots[i]);
            if (rc != 0 && rc != -EAGAIN) /* a full queue is fine here */
                ws->bad_rc = rc;
        }
        rc = pool_wait_pending(ws->p, r % 3, r % 2);
        if (rc != 0 && rc != -ETIMEDOUT)
            ws->bad_rc = rc;
    }
    return NULL;
}

static void test_wait_pending_stress(void)
{
    enum { T = 3, S = 8 };
    struct slot slots[T][S];
    struct wait_stress ws[T];
    pthread_t tid[T];

    struct pool *p = pool_new(2, 16);
    CHECK(p != NULL);
    if (p == NULL)
        return;
    for (unsigned t = 0; t < T; t++) {
        for (unsigned i = 0; i < S; i++)
            slots[t][i] = (struct slot){ .runs = 0 };
        ws[t] = (struct wait_stress){ .p = p, .slots = slots[t], .nslots = S, .rounds = 2000 };
        xcheck(pthread_create(&tid[t], NULL, wait_stress_main, &ws[t]));
    }
    for (unsigned t = 0; t < T; t++) {
        xcheck(pthread_join(tid[t], NULL));
        CHECK_INT(ws[t].bad_rc, 0);
    }
    CHECK_INT(pool_wait_pending(p, 0, DEADLINE_SEC * 1000), 0);
    CHECK_INT(pool_pending(p), 0);
    pool_free(p);
}

/* One worker runs jobs in the order they were queued, across ring wrap-arounds. */
static unsigned fifo_order[64];
static unsigned fifo_len;
static struct gate fifo_done;

static void job_fifo(void *arg)
{
    fifo_order[fifo_len++] = (unsigned)(uintptr_t)arg; /* one worker: no race */
    gate_arrive(&fifo_done);
}

static void test_fifo(void)
{
    enum { Q = 13, ROUNDS = 4 };

    gate_init(&fifo_done);
    fifo_len = 0;
    struct pool *p = pool_new(1, Q);
    CHECK(p != NULL);
    if (p == NULL)
        return;

    for (unsigned r = 0; r < ROUNDS; r++) {
        struct gate hold;
        gate_init(&hold);
        CHECK(hold_workers(p, &hold, 1));
        for (unsigned i = 0; i < Q; i++)
            CHECK_INT(pool_execute(p, job_fifo, (void *)(uintptr_t)(r * Q + i)), 0);
        CHECK_INT(pool_execute(p, job_never, NULL), -EAGAIN);
        gate_open(&hold);
        CHECK(gate_wait_arrived(&fifo_done, (r + 1) * Q));
        gate_destroy(&hold); /* its job returned before the first job_fifo of this round ran */
    }
    pool_free(p);

    CHECK_INT(fifo_len, ROUNDS * Q);
    for (unsigned i = 0; i < fifo_len; i++)
        CHECK_INT(fifo_order[i], i);
    gate_destroy(&fifo_done);
}

/*
 * Threads of this process named "tinyhttpd-w<k>": returns how many there
 * are; with tids, also sets tids[k] to worker k's thread id for k < max.
 */
static unsigned scan_workers(pid_t *tids, unsigned max)
{
    DIR *d = opendir("/proc/self/task");
    unsigned n = 0, k;
    struct dirent *e;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[sizeof("/proc/self/task//comm") + sizeof(e->d_name)], comm[32] = "";
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fgets(comm, sizeof(comm), f) != NULL && strncmp(comm, "tinyhttpd-w", 11) == 0) {
            n++;
            if (tids != NULL && sscanf(comm + 11, "%u", &k) == 1 && k < max)
                tids[k] = (pid_t)atoi(e->d_name);
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

static unsigned count_named_workers(void)
{
    return scan_workers(NULL, 0);
}

static void job_name(void *arg)
{
    char *name = arg;
    xcheck(pthread_getname_np(pthread_self(), name, 16));
}

/*
 * The start barrier: once pool_new() returns, every worker has run (each
 * names itself before it reaches the barrier).  The test pins itself to one
 * CPU and, where permitted, makes itself SCHED_FIFO; workers inherit both,
 * so none of them can run before the creator blocks.  Without a barrier
 * pool_new() would then return before any worker ran; with one, the check
 * cannot fail.  Without SCHED_FIFO (no CAP_SYS_NICE) the check still holds
 * for a correct pool but catches a missing barrier only most of the time.
 * Run first, while no worker of an earlier pool can linger in /proc.
 */
static void test_start_barrier(void)
{
    cpu_set_t saved, one;
    struct sched_param fifo = { .sched_priority = 1 }, old_param;
    int old_policy;
    bool pinned = sched_getaffinity(0, sizeof(saved), &saved) == 0;

    if (pinned) {
        CPU_ZERO(&one);
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
            if (CPU_ISSET(cpu, &saved)) {
                CPU_SET(cpu, &one);
                break;
            }
        }
        pinned = sched_setaffinity(0, sizeof(one), &one) == 0;
    }
    xcheck(pthread_getschedparam(pthread_self(), &old_policy, &old_param));
    bool rt = pthread_setschedparam(pthread_self(), SCHED_FIFO, &fifo) == 0;

    struct pool *p = pool_new(16, 1);
    CHECK(p != NULL);
    if (p != NULL) {
        CHECK_INT(count_named_workers(), 16);
        pool_free(p);
    }
    if (rt)
        xcheck(pthread_setschedparam(pthread_self(), old_policy, &old_param));
    if (pinned)
        xcheck(sched_setaffinity(0, sizeof(saved), &saved));
    if (!rt || !pinned)
        fprintf(stderr, "test_start_barrier: %s%s unavailable, the check is weaker\n",
                pinned ? "" : "CPU pinning ", rt ? "" : "SCHED_FIFO");
}

/* Worker k's CPU mask; false if there is no such thread or no mask. */
static bool worker_mask(unsigned k, cpu_set_t *mask)
{
    pid_t tids[POOL_MAX_THREADS] = { 0 };

    scan_workers(tids, POOL_MAX_THREADS);
    return k < POOL_MAX_THREADS && tids[k] != 0 &&
           sched_getaffinity(tids[k], sizeof(*mask), mask) == 0;
}

/* The k-th CPU (counting from 0, wrapping) of set, which is not empty. */
static int nth_cpu(const cpu_set_t *set, unsigned k)
{
    unsigned n = (unsigned)CPU_COUNT(set);
    k %= n;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, set) && k-- == 0)
            return cpu;
    return -1;
}

/* Worker k of an n-worker pool runs on exactly the k-th CPU of allowed; jobs still run. */
static void check_pinned(struct pool *p, unsigned n, const cpu_set_t *allowed)
{
    struct gate done;
    struct slot s = { .runs = 0 };

    for (unsigned k = 0; k < n; k++) {
        cpu_set_t m;
        CHECK(worker_mask(k, &m));
        CHECK_INT(CPU_COUNT(&m), 1);
        CHECK(CPU_ISSET(nth_cpu(allowed, k), &m));
    }
    gate_init(&done);
    s.done = &done;
    for (unsigned i = 0; i < 2 * n; i++)
        CHECK_INT(submit(p, job_slot, &s), 0);
    CHECK(gate_wait_arrived(&done, 2 * n));
    CHECK_INT(atomic_load(&s.runs), 2 * n);
    pool_free(p);
    gate_destroy(&done);
}

/*
 * pool_pin_workers(): worker k on the k-th allowed CPU, wrapping round when
 * there are more workers than CPUs; the caller's own mask untouched; and
 * the caller's restrictions kept (a caller allowed one CPU pins every
 * worker there).
 */
static void test_pin_workers(void)
{
    cpu_set_t allowed, after, one;

    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
        CHECK(!"sched_getaffinity");
        return;
    }
    unsigned ncpu = (unsigned)CPU_COUNT(&allowed), n = ncpu + 1;
    struct pool *p = pool_new(n, 8);
    CHECK(p != NULL);
    if (p == NULL)
        return;
    CHECK_INT(pool_pin_workers(p), ncpu);
    CHECK(sched_getaffinity(0, sizeof(after), &after) == 0 && CPU_EQUAL(&after, &allowed));
    check_pinned(p, n, &allowed);

    /* Allowed only the last CPU: every worker goes there. */
    CPU_ZERO(&one);
    CPU_SET(nth_cpu(&allowed, ncpu - 1), &one);
    xcheck(sched_setaffinity(0, sizeof(one), &one));
    p = pool_new(3, 8);
    CHECK(p != NULL);
    if (p != NULL) {
        CHECK_INT(pool_pin_workers(p), 1);
        check_pinned(p, 3, &one);
    }
    xcheck(sched_setaffinity(0, sizeof(allowed), &allowed));
}

/* The largest pool: every worker is running and named once pool_new() returns. */
static void test_max_threads(void)
{
    char name[16] = "";
    struct pool *p = pool_new(POOL_MAX_THREADS, 1);
    CHECK(p != NULL);
    if (p == NULL)
        return;
    CHECK_INT(pool_size(p), POOL_MAX_THREADS);
    CHECK(count_named_workers() >= POOL_MAX_THREADS); /* an earlier pool's may linger */
    CHECK_INT(pool_execute(p, job_name, name), 0);
    pool_free(p);
    CHECK_INT(strncmp(name, "tinyhttpd-w", 11), 0);
}

#ifndef TEST_SANITIZED
/* Threads in this process, from /proc/self/status. */
static long count_threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long n = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "Threads: %ld", &n) == 1)
            break;
    }
    fclose(f);
    return n;
}

static long vm_size_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
            break;
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

/*
 * pthread_create() failing half-way: in a child, cap the address space so
 * that two worker stacks fit but not a third.  pool_new() must return NULL
 * with pthread_create's error and leave no thread behind.  Sanitizer
 * runtimes map memory on their own, so this one runs only in plain builds.
 */
static int create_failure_child(void)
{
    pthread_attr_t attr;
    size_t stack = 0;
    struct rlimit rl;

    if (pthread_getattr_default_np(&attr) != 0 || pthread_attr_getstacksize(&attr, &stack) != 0)
        return 10;
    pthread_attr_destroy(&attr);
    long vm = vm_size_bytes();
    if (vm < 0 || stack == 0)
        return 11;
    rl.rlim_cur = rl.rlim_max = (rlim_t)vm + stack * 5 / 2;
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        return 12;

    errno = 0;
    struct pool *p = pool_new(64, 4);
    if (p != NULL) {
        fprintf(stderr, "create_failure_child: pool_new succeeded under RLIMIT_AS\n");
        pool_free(p);
        return 13;
    }
    if (errno != EAGAIN) {
        fprintf(stderr, "create_failure_child: errno %d, want EAGAIN\n", errno);
        return 14;
    }
    /*
     * pthread_join() returns once a thread has left its code, a moment before
     * the kernel stops counting it, so poll (a leaked worker never goes away).
     */
    struct timespec ts = deadline();
    long n;
    while ((n = count_threads()) != 1 && !past(&ts))
        nanosleep(&(struct timespec){ .tv_nsec = 1000 * 1000 }, NULL);
    if (n != 1) {
        fprintf(stderr, "create_failure_child: %ld threads left\n", n);
        return 15;
    }
    return 0;
}
#endif

static void test_create_failure(void)
{
#ifdef TEST_SANITIZED
    fprintf(stderr, "test_create_failure: skipped under a sanitizer\n");
#else
    int status;
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid < 0)
        return;
    if (pid == 0)
        _exit(create_failure_child());
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
#endif
}

/* ------------------------------------------------------------ progress (the watchdog's sign) */

static void test_progress(void)
{
    enum { N = 2, Q = 8, K = 3 };
    struct gate g;
    struct slot slots[K];
    size_t pending = 99;
    uint64_t finished = 99;

    gate_init(&g);
    struct pool *p = pool_new(N, Q);
    CHECK(p != NULL);
    if (p == NULL)
        return;
    pool_progress(p, &pending, &finished);
    CHECK_INT(pending, 0);
    CHECK_INT(finished, 0);

    /* Every worker held, jobs queued: nothing finishes, the count stays. */
    CHECK(hold_workers(p, &g, N));
    for (unsigned i = 0; i < K; i++) {
        slots[i] = (struct slot){ .runs = 0 };
        CHECK_INT(pool_execute(p, job_slot, &slots[i]), 0);
    }
    pool_progress(p, &pending, &finished);
    CHECK_INT(pending, K);
    CHECK_INT(finished, 0);

    /* Released: every job, held or queued, is counted once it returns. */
    gate_open(&g);
    pool_shutdown(p);
    pool_progress(p, &pending, &finished);
    CHECK_INT(pending, 0);
    CHECK_INT(finished, N + K);
    pool_free(p);
    gate_destroy(&g);
}

int main(void)
{
    alarm(120); /* a hung pool fails the run instead of blocking it forever */

    test_create_failure(); /* first, while the process has a single thread */
    test_start_barrier();
    test_bad_args();
    test_concurrency_bound(1);
    test_concurrency_bound(4);
    test_shutdown_drains();
    test_execute_after_shutdown();
    test_full_queue();
    test_many_producers();
    test_sizes();
    test_execute_from_job();
    test_wait_pending();
    test_wait_pending_shutdown();
    test_wait_pending_stress();
    test_fifo();
    test_progress();
    test_pin_workers();
    test_max_threads();

    CHECK_INT(atomic_load(&timeouts), 0);
    return test_done();
}
