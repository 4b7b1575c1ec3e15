/*
 * pool.h - a fixed-size pool of worker threads fed by a bounded FIFO queue.
 *
 * The pool is the only place in tinyhttpd where threads are created: every
 * worker is started by pool_new() and joined by pool_shutdown().  Jobs are
 * handed over with pool_execute(), which has the shape of spawning a thread
 * on purpose, but never creates one and never blocks its caller.
 */
#ifndef TINYHTTPD_POOL_H
#define TINYHTTPD_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool; /* opaque */
typedef void pool_fn(void *arg);

#define POOL_MAX_THREADS 1024

/*
 * Start nthreads workers (1..POOL_MAX_THREADS) sharing a FIFO queue that
 * holds at most queue_max (>= 1) jobs waiting to run.  Returns only when
 * every worker is running.  Returns NULL with errno set on failure (EINVAL
 * for bad sizes, ENOMEM, or the error of pthread_create); no thread is left
 * running then.  The calling thread's signal mask is inherited by the
 * workers, so block signals before calling.
 */
struct pool *pool_new(unsigned nthreads, size_t queue_max);

/*
 * Queue fn(arg) (fn not NULL) to run on some worker.  Never blocks.  Safe
 * from any thread, including a worker, until pool_free() begins.  Returns:
 *   0            queued; fn(arg) will run exactly once
 *   -EAGAIN      the queue is full; nothing was queued
 *   -ESHUTDOWN   pool_shutdown() has begun; nothing was queued
 */
int pool_execute(struct pool *p, pool_fn *fn, void *arg) __attribute__((warn_unused_result));

/*
 * Refuse new jobs, let the workers run every job already queued, then join
 * every worker.  Jobs running or queued may still call pool_execute(); they
 * get -ESHUTDOWN.  Must not be called from a worker.  Idempotent, and safe
 * from two threads at once (the later caller waits for the joins).
 */
void pool_shutdown(struct pool *p);

/* pool_shutdown(), then free the pool.  NULL is accepted.  No other thread
 * may use the pool any more. */
void pool_free(struct pool *p);

/*
 * Wait until at most n jobs are queued, or pool_shutdown() has begun, or
 * timeout_ms have passed.  Returns 0, or -ETIMEDOUT.  The thread that feeds
 * the pool calls this to let work pile up while the workers are saturated,
 * instead of being woken for every job.
 */
int pool_wait_pending(struct pool *p, size_t n, unsigned timeout_ms);

/*
 * Pin worker i to one CPU: the i-th, in turn, of the CPUs the calling
 * thread may run on (so a service's CPUAffinity= or a cpuset is kept).
 * Call before pool_shutdown().  Returns the number of CPUs used (at most
 * nthreads), or -errno; on failure no worker stays pinned.
 */
int pool_pin_workers(struct pool *p);

/* Jobs waiting in the queue now (a snapshot, for STATUS= and tests). */
size_t pool_pending(struct pool *p);

/*
 * Jobs waiting now and jobs finished since pool_new() (a counter that only
 * grows), read together: the service watchdog's sign of progress.  Takes
 * the queue lock once, so call it a few times a second at most.
 */
void pool_progress(struct pool *p, size_t *pending, uint64_t *finished);

/* Workers running a job now (a snapshot). */
unsigned pool_busy(struct pool *p);

/* Number of worker threads. */
unsigned pool_size(const struct pool *p);

#endif
