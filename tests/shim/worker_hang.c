/*
 * worker_hang.c - an LD_PRELOAD shim that makes every worker thread of
 * tinyhttpd hang on demand, for tests of the service watchdog (a pool whose
 * workers are all stuck must stop the WATCHDOG=1 pings).
 *
 * Build: cc -shared -fPIC -o worker_hang.so worker_hang.c -ldl
 * Use:   LD_PRELOAD=/path/worker_hang.so WORKER_HANG_FILE=/path/trigger tinyhttpd ...
 *
 * Every call of recv() made by a worker (a thread named "tinyhttpd-w...",
 * see pool.c) first looks at WORKER_HANG_FILE.  While that file exists and
 * is empty or holds the calling process's decimal PID, the call sleeps,
 * looking again every 50 ms, and goes to the C library once the file is
 * gone; a file naming another PID is ignored, so that a restarted daemon
 * runs normally.  Workers read every request with recv(), so each job
 * hangs at its first read and the queue fills behind them; the event loop
 * thread is never held.  Without WORKER_HANG_FILE the shim does nothing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "trigger.h"

typedef ssize_t (*recv_fn)(int, void *, size_t, int);

static int triggered(void)
{
    return shim_triggered("WORKER_HANG_FILE");
}

static int is_worker(void)
{
    char name[17] = "";
    if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0)
        return 0;
    return strncmp(name, "tinyhttpd-w", 11) == 0;
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    static recv_fn real;
    int saved = errno;

    if (is_worker()) {
        const struct timespec nap = { 0, 50 * 1000 * 1000 };
        while (triggered())
            nanosleep(&nap, NULL);
    }
    if (real == NULL) {
        real = (recv_fn)dlsym(RTLD_NEXT, "recv");
        if (real == NULL) {
            errno = ENOSYS;
            return -1;
        }
    }
    errno = saved;
    return real(fd, buf, len, flags);
}
