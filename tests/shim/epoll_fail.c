/*
 * epoll_fail.c - an LD_PRELOAD shim that makes epoll_wait fail on demand,
 * for tests of what the daemon does when its event loop cannot go on.
 *
 * Build: cc -shared -fPIC -o epoll_fail.so epoll_fail.c -ldl
 * Use:   LD_PRELOAD=/path/epoll_fail.so EPOLL_FAIL_FILE=/path/trigger tinyhttpd ...
 *
 * Every call of epoll_wait first looks at EPOLL_FAIL_FILE.  While it does
 * not exist, the call goes to the C library.  When it exists and is empty,
 * or holds the calling process's decimal PID, the call fails with errno
 * EPOLL_FAIL_ERRNO (default EBADF) without waiting; a file naming another
 * PID is ignored, so that a restarted daemon runs normally.
 * Without EPOLL_FAIL_FILE the shim does nothing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "trigger.h"

typedef int (*epoll_wait_fn)(int, struct epoll_event *, int, int);

static int triggered(void)
{
    return shim_triggered("EPOLL_FAIL_FILE");
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    static epoll_wait_fn real;

    if (triggered()) {
        const char *e = getenv("EPOLL_FAIL_ERRNO");
        errno = e != NULL && atoi(e) > 0 ? atoi(e) : EBADF;
        return -1;
    }
    if (real == NULL) {
        real = (epoll_wait_fn)dlsym(RTLD_NEXT, "epoll_wait");
        if (real == NULL) {
            errno = ENOSYS;
            return -1;
        }
    }
    return real(epfd, events, maxevents, timeout);
}
