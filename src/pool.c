/*
 * pool.c - a fixed-size pool of worker threads fed by a bounded FIFO ring.
 *
 * Design (after libuv's src/threadpool.c): pool_new() allocates the pool,
 * a ring of queue_max {fn, arg} slots and one record per worker, then starts
 * every worker and waits on a start barrier until all of them run.  After
 * that nothing is allocated: pool_execute() copies two pointers into the
 * ring, so a full ring is reported to the caller (-EAGAIN) instead of being
 * waited on or grown.  One mutex guards all mutable state; workers sleep on
 * the semaphore `work`, which is posted only for idle workers that no post
 * is already on its way to, and after the mutex is released, so the woken
 * worker does not block on it straight away.  `state` carries the start
 * barrier and the end of a shutdown.
 *
 * pool_wait_pending() lets the thread that feeds the pool sleep while jobs
 * are queued: it registers in low_waiters, and the worker that takes the
 * job bringing the queue down to low_mark counts every registered caller
 * out and posts `low` once for each.  A caller whose wait times out
 * withdraws if it is still counted, else takes the post owed to it; so the
 * posts never outnumber the callers, and a caller woken before its own
 * mark was reached (low_mark is the largest) checks again and waits on.
 *
 * Shutdown is cooperative, never pthread_cancel(): `stopping` is set, so new
 * jobs are refused, and the workers are woken.  A worker leaves only when it
 * finds the ring empty *and* `stopping` set (the emptiness test comes
 * first), so every job accepted before shutdown runs exactly once; then the
 * first caller of pool_shutdown() joins every worker and the others wait
 * for it.
 *
 * Thread-safety: every function may be called from any thread, except that
 * pool_shutdown() and pool_free() must not be called from a worker, and
 * pool_free() must not race any other call on the same pool.  Lock,
 * condition-variable or semaphore errors mean the program is broken and
 * abort().
 *
 * Invariants, under `lock`: 0 <= count <= cap; head < cap; the queued jobs
 * are jobs[head], jobs[head + 1], ... (mod cap), oldest first; idle + busy
 * <= nthreads; posted <= idle; once `stopping` is set it is never cleared
 * and count never grows again; `joined` implies `stopping` and that no
 * worker is left.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* pthread_setname_np */
#endif

#include "pool.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct job {
    pool_fn *fn;
    void *arg;
};

struct worker {
    pthread_t tid;
    struct pool *pool;
    unsigned id;
};

struct pool {
    pthread_mutex_t lock;
    sem_t work;           /* one post per idle worker to wake */
    sem_t low;            /* one post per pool_wait_pending() caller to wake */
    pthread_cond_t state; /* a worker started, or the workers were joined */

    struct job *jobs; /* the ring, cap slots */
    size_t cap;
    size_t head;  /* oldest queued job */
    size_t count; /* queued jobs */

    unsigned nthreads;    /* workers, fixed once pool_new() returns */
    unsigned started;     /* workers past the start barrier */
    unsigned idle;        /* workers waiting on `work` */
    unsigned posted;      /* posts to `work` that no worker has taken yet */
    unsigned busy;        /* workers running a job */
    uint64_t finished;    /* jobs that have returned, ever (pool_progress) */
    bool stopping;        /* shutdown began: refuse jobs, exit once drained */
    bool joined;          /* every worker has been joined */
    unsigned low_waiters; /* pool_wait_pending() callers no post is owed to */
    size_t low_mark;      /* the largest count one of them waits for */
    struct worker *workers;
};

static void lock(struct pool *p)
{
    if (pthread_mutex_lock(&p->lock) != 0)
        abort();
}

static void unlock(struct pool *p)
{
    if (pthread_mutex_unlock(&p->lock) != 0)
        abort();
}

static void wait_on(pthread_cond_t *cond, struct pool *p)
{
    if (pthread_cond_wait(cond, &p->lock) != 0)
        abort();
}

/* Semaphores, not condition variables, put threads to sleep on the hot
 * path: a post wakes exactly one sleeper, and the woken thread retakes the
 * mutex as an uncontended one (glibc marks a mutex retaken inside
 * pthread_cond_wait() contended, which costs a futex call at every unlock). */
static void post(sem_t *sem, unsigned n)
{
    while (n-- > 0)
        if (sem_post(sem) != 0)
            abort();
}

static void take(sem_t *sem)
{
    while (sem_wait(sem) != 0)
        if (errno != EINTR)
            abort();
}

/* take(), unless `until` (CLOCK_MONOTONIC) passes first: then false. */
static bool take_until(sem_t *sem, const struct timespec *until)
{
    while (sem_clockwait(sem, CLOCK_MONOTONIC, until) != 0) {
        if (errno == ETIMEDOUT)
            return false;
        if (errno != EINTR)
            abort();
    }
    return true;
}

/* Under lock: stopping was just set; wake every sleeper (the caller posts
 * after unlocking, through post_stop()). */
struct stop_posts {
    unsigned work, low;
};

static struct stop_posts count_stop_posts(struct pool *p)
{
    struct stop_posts n = { p->idle - p->posted, p->low_waiters };
    p->posted = p->idle;
    p->low_waiters = 0;
    return n;
}

static void post_stop(struct pool *p, struct stop_posts n)
{
    post(&p->work, n.work);
    post(&p->low, n.low);
}

static void signal_one(pthread_cond_t *cond)
{
    if (pthread_cond_signal(cond) != 0)
        abort();
}

static void signal_all(pthread_cond_t *cond)
{
    if (pthread_cond_broadcast(cond) != 0)
        abort();
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct pool *p = w->pool;
    char name[16]; /* the kernel's limit, NUL included: "tinyhttpd-w1023" fits */

    snprintf(name, sizeof(name), "tinyhttpd-w%u", w->id);
    (void)pthread_setname_np(pthread_self(), name); /* cosmetic; failure is harmless */

    lock(p);
    /* started counts workers that reached here; the last one releases pool_new() */
    if (++p->started == p->nthreads)
        signal_one(&p->state);

    for (;;) {
        /* under lock: count and stopping are stable while we test them */
        while (p->count == 0 && !p->stopping) {
            p->idle++;
            unlock(p);
            take(&p->work);
            lock(p);
            p->idle--;
            p->posted--;
        }
        if (p->count == 0)
            break; /* stopping, and the ring is drained */

        struct job job = p->jobs[p->head];
        p->head = p->head + 1 == p->cap ? 0 : p->head + 1;
        p->count--;
        p->busy++;
        unsigned low = 0;
        if (p->low_waiters > 0 && p->count <= p->low_mark) {
            low = p->low_waiters;
            p->low_waiters = 0;
        }
        unlock(p);
        post(&p->low, low);

        job.fn(job.arg);

        lock(p);
        /* under lock again: this job is done; loop to take the next one */
        p->busy--;
        p->finished++;
    }
    unlock(p);
    return NULL;
}

/* Stop and join workers[0..n), which were started but not necessarily past the barrier. */
static void stop_and_join(struct pool *p, unsigned n)
{
    lock(p);
    /* stopping under lock: no worker can miss it between its test and its wait */
    p->stopping = true;
    struct stop_posts posts = count_stop_posts(p);
    unlock(p);
    post_stop(p, posts);

    for (unsigned i = 0; i < n; i++) {
        if (pthread_join(p->workers[i].tid, NULL) != 0)
            abort();
    }
}

static void destroy(struct pool *p)
{
    if (sem_destroy(&p->low) != 0 || sem_destroy(&p->work) != 0 ||
        pthread_cond_destroy(&p->state) != 0 || pthread_mutex_destroy(&p->lock) != 0)
        abort();
    free(p->workers);
    free(p->jobs);
    free(p);
}

static int init_sync(struct pool *p)
{
    pthread_mutexattr_t attr;
    int err = pthread_mutexattr_init(&attr);
    if (err != 0)
        return err;
    /* Held for a few instructions at a time: spin a little before sleeping,
     * so that the loop and a worker meeting here rarely cost a futex call. */
    err = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    if (err != 0)
        goto fail_attr;
    err = pthread_mutex_init(&p->lock, &attr);
    if (err != 0)
        goto fail_attr;
    err = pthread_cond_init(&p->state, NULL);
    if (err != 0)
        goto fail_lock;
    if (sem_init(&p->work, 0, 0) != 0) {
        err = errno;
        goto fail_state;
    }
    if (sem_init(&p->low, 0, 0) != 0) {
        err = errno;
        goto fail_work;
    }
    pthread_mutexattr_destroy(&attr);
    return 0;

fail_work:
    sem_destroy(&p->work);
fail_state:
    pthread_cond_destroy(&p->state);
fail_lock:
    pthread_mutex_destroy(&p->lock);
fail_attr:
    pthread_mutexattr_destroy(&attr);
    return err;
}

struct pool *pool_new(unsigned nthreads, size_t queue_max)
{
    int err;

    if (nthreads == 0 || nthreads > POOL_MAX_THREADS || queue_max == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (queue_max > SIZE_MAX / sizeof(struct job)) {
        errno = ENOMEM;
        return NULL;
    }

    struct pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->jobs = calloc(queue_max, sizeof(*p->jobs));
    p->workers = calloc(nthreads, sizeof(*p->workers));
    if (p->jobs == NULL || p->workers == NULL) {
        err = ENOMEM;
        goto fail_alloc;
    }
    p->cap = queue_max;
    p->nthreads = nthreads;

    err = init_sync(p);
    if (err != 0)
        goto fail_alloc;

    for (unsigned i = 0; i < nthreads; i++) {
        p->workers[i].pool = p;
        p->workers[i].id = i;
        err = pthread_create(&p->workers[i].tid, NULL, worker_main, &p->workers[i]);
        if (err != 0) {
            stop_and_join(p, i);
            destroy(p);
            errno = err;
            return NULL;
        }
    }

    lock(p);
    /* started is written by workers under lock: wait for the last one */
    while (p->started < p->nthreads)
        wait_on(&p->state, p);
    unlock(p);
    return p;

fail_alloc:
    free(p->workers);
    free(p->jobs);
    free(p);
    errno = err;
    return NULL;
}

int pool_execute(struct pool *p, pool_fn *fn, void *arg)
{
    bool wake;

    assert(fn != NULL);
    lock(p);
    /* under lock: stopping and count are consistent with the workers' view */
    if (p->stopping) {
        unlock(p);
        return -ESHUTDOWN;
    }
    if (p->count == p->cap) {
        unlock(p);
        return -EAGAIN;
    }
    size_t tail = p->head + p->count;
    if (tail >= p->cap)
        tail -= p->cap;
    p->jobs[tail] = (struct job){ .fn = fn, .arg = arg };
    p->count++;
    wake = p->idle > p->posted;
    if (wake)
        p->posted++;
    unlock(p);

    /*
     * Posting after unlock is safe: the post is counted, so a worker that
     * raised idle but has not reached sem_wait() yet still gets it.  The
     * pool outlives this call: it is freed only after the workers are
     * joined, and pool_free() must not race pool_execute().
     */
    if (wake)
        post(&p->work, 1);
    return 0;
}

void pool_shutdown(struct pool *p)
{
    lock(p);
    /* under lock: the first caller to set stopping owns the joins; others wait for joined */
    if (p->stopping) {
        while (!p->joined)
            wait_on(&p->state, p);
        unlock(p);
        return;
    }
    p->stopping = true;
    struct stop_posts posts = count_stop_posts(p);
    unlock(p);
    post_stop(p, posts);

    for (unsigned i = 0; i < p->nthreads; i++) {
        if (pthread_join(p->workers[i].tid, NULL) != 0)
            abort(); /* EDEADLK: called from a worker, which the contract forbids */
    }

    lock(p);
    /*
     * joined under lock, so a concurrent pool_shutdown() waiting on state sees
     * it; broadcast before unlocking, so once such a caller returns (and may
     * free the pool) this thread no longer touches the condition variable.
     */
    p->joined = true;
    signal_all(&p->state);
    unlock(p);
}

void pool_free(struct pool *p)
{
    if (p == NULL)
        return;
    pool_shutdown(p);
    destroy(p);
}

int pool_wait_pending(struct pool *p, size_t n, unsigned timeout_ms)
{
    struct timespec until;

    if (clock_gettime(CLOCK_MONOTONIC, &until) != 0)
        abort();
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }

    lock(p);
    /* under lock: the worker that takes a job sees low_waiters and low_mark */
    while (p->count > n && !p->stopping) {
        if (p->low_waiters++ == 0 || n > p->low_mark)
            p->low_mark = n;
        unlock(p);
        bool woken = take_until(&p->low, &until);
        lock(p);
        if (!woken) {
            if (p->low_waiters > 0) {
                p->low_waiters--; /* still counted: no post will come for us */
                unlock(p);
                return -ETIMEDOUT;
            }
            /* counted out by a worker whose post is on its way: take it,
             * so that it does not wake a later caller for nothing */
            unlock(p);
            take(&p->low);
            lock(p);
        }
    }
    unlock(p);
    return 0;
}

int pool_pin_workers(struct pool *p)
{
    cpu_set_t allowed, one;

    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return -errno;
    int ncpu = CPU_COUNT(&allowed);
    if (ncpu <= 0)
        return -EINVAL;
    /* nthreads and the tids are fixed once pool_new() has returned */
    int cpu = -1;
    for (unsigned i = 0; i < p->nthreads; i++) {
        do
            cpu = (cpu + 1) % CPU_SETSIZE;
        while (!CPU_ISSET(cpu, &allowed));
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        int r = pthread_setaffinity_np(p->workers[i].tid, sizeof one, &one);
        if (r != 0) {
            for (unsigned j = 0; j < i; j++)
                (void)pthread_setaffinity_np(p->workers[j].tid, sizeof allowed, &allowed);
            return -r;
        }
    }
    return (unsigned)ncpu < p->nthreads ? ncpu : (int)p->nthreads;
}

/* A consistent snapshot of the queue length and the busy workers. */
static void snapshot(struct pool *p, size_t *count, unsigned *busy)
{
    lock(p);
    *count = p->count;
    *busy = p->busy;
    unlock(p);
}

size_t pool_pending(struct pool *p)
{
    size_t count;
    unsigned busy;

    snapshot(p, &count, &busy);
    return count;
}

void pool_progress(struct pool *p, size_t *pending, uint64_t *finished)
{
    lock(p);
    *pending = p->count;
    *finished = p->finished;
    unlock(p);
}

unsigned pool_busy(struct pool *p)
{
    size_t count;
    unsigned busy;

    snapshot(p, &count, &busy);
    return busy;
}

unsigned pool_size(const struct pool *p)
{
    return p->nthreads; /* immutable once pool_new() returned */
}
