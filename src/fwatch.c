/*
 * fwatch.c - inotify watches with reference counts.
 *
 * Design: one inotify instance per document root.  The kernel gives the
 * same watch descriptor for the same inode, so a watch shared by many
 * cache entries (the root, a busy directory) is counted in a small open
 * addressing table (wd -> references) and removed when the count drops to
 * zero.  One mutex guards the table and is held across inotify_add_watch
 * and inotify_rm_watch, so a watch cannot be removed under a thread that
 * has just been handed the same descriptor.  That happens only when the
 * cache misses, never on a hit.
 */
#include "config.h"

#include "fwatch.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "log.h"

/* Directories: a name in them appears, goes, is renamed or changes mode;
 * or the directory itself goes or changes mode. */
#define DIR_EVENTS                                                                      \
    (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | \
     IN_MOVE_SELF)
/* Files: written, truncated, changed mode, deleted or renamed (through any
 * of its names, since the watch is on the inode). */
#define FILE_EVENTS (IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

struct slot {
    int wd; /* 0: empty (inotify numbers watches from 1) */
    unsigned refs;
};

struct fwatch {
    int fd;
    int root_fd;
    char prefix[40];           /* "/proc/self/fd/<root_fd>" */
    pthread_mutex_t lock;      /* guards the table and the watch calls */
    pthread_mutex_t read_lock; /* one reader at a time, through its callbacks */
    atomic_bool reading;       /* a reader holds read_lock */
    struct slot *slots;
    size_t cap; /* a power of two */
    size_t used;
};

static size_t slot_of(const struct fwatch *fw, int wd)
{
    return ((uint32_t)wd * 2654435761u) & (fw->cap - 1);
}

/* The slot holding wd, or the empty slot where it would go. */
static struct slot *lookup(struct fwatch *fw, int wd)
{
    size_t i = slot_of(fw, wd);
    while (fw->slots[i].wd != 0 && fw->slots[i].wd != wd)
        i = (i + 1) & (fw->cap - 1);
    return &fw->slots[i];
}

static int grow(struct fwatch *fw)
{
    size_t old_cap = fw->cap;
    struct slot *old = fw->slots;
    struct slot *s = calloc(old_cap * 2, sizeof *s);

    if (s == NULL)
        return -1;
    fw->slots = s;
    fw->cap = old_cap * 2;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].wd != 0)
            *lookup(fw, old[i].wd) = old[i];
    free(old);
    return 0;
}

/* Remove the slot at s, shifting back the entries of its probe run. */
static void unslot(struct fwatch *fw, struct slot *s)
{
    size_t i = (size_t)(s - fw->slots), j = i;

    fw->slots[i].wd = 0;
    fw->used--;
    for (;;) {
        j = (j + 1) & (fw->cap - 1);
        if (fw->slots[j].wd == 0)
            return;
        size_t home = slot_of(fw, fw->slots[j].wd);
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            fw->slots[i] = fw->slots[j];
            fw->slots[j].wd = 0;
            i = j;
        }
    }
}

struct fwatch *fwatch_new(int root_fd)
{
    struct fwatch *fw = calloc(1, sizeof *fw);
    int e;

    if (fw == NULL)
        return NULL;
    fw->root_fd = root_fd;
    fw->cap = 64;
    fw->slots = calloc(fw->cap, sizeof *fw->slots);
    if (fw->slots == NULL) {
        free(fw);
        return NULL;
    }
    snprintf(fw->prefix, sizeof fw->prefix, "/proc/self/fd/%d", root_fd);
    fw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fw->fd < 0)
        goto fail;
    /* Can the root be watched through /proc at all? */
    int wd = inotify_add_watch(fw->fd, fw->prefix, DIR_EVENTS | IN_ONLYDIR);
    if (wd < 0)
        goto fail;
    inotify_rm_watch(fw->fd, wd);
    char drain[256] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(fw->fd, drain, sizeof drain) > 0)
        ; /* the removal's IN_IGNORED */
    e = pthread_mutex_init(&fw->lock, NULL);
    if (e != 0) {
        errno = e;
        goto fail;
    }
    /* Adaptive: a reader waits for another only through one read and its
     * callbacks, so it spins a little before it sleeps. */
    pthread_mutexattr_t attr;
    e = pthread_mutexattr_init(&attr);
    if (e == 0) {
        (void)pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP); /* a hint */
        e = pthread_mutex_init(&fw->read_lock, &attr);
        pthread_mutexattr_destroy(&attr);
    }
    if (e != 0) {
        pthread_mutex_destroy(&fw->lock);
        errno = e;
        goto fail;
    }
    atomic_init(&fw->reading, false);
    return fw;
fail:
    e = errno;
    if (fw->fd >= 0)
        close(fw->fd);
    free(fw->slots);
    free(fw);
    errno = e;
    return NULL;
}

void fwatch_free(struct fwatch *fw)
{
    if (fw == NULL)
        return;
    close(fw->fd); /* removes every watch */
    pthread_mutex_destroy(&fw->lock);
    pthread_mutex_destroy(&fw->read_lock);
    free(fw->slots);
    free(fw);
}

int fwatch_fd(const struct fwatch *fw)
{
    return fw->fd;
}

/* Add one watch and count it; the lock is held.  -1 with errno. */
static int add_locked(struct fwatch *fw, const char *path, uint32_t mask)
{
    if ((fw->used + 1) * 2 > fw->cap && grow(fw) < 0)
        return -1;
    /* IN_MASK_ADD: a watch shared with another path keeps what it had. */
    int wd = inotify_add_watch(fw->fd, path, mask | IN_MASK_ADD);
    if (wd < 0)
        return -1;
    struct slot *s = lookup(fw, wd);
    if (s->wd == 0) {
        s->wd = wd;
        s->refs = 0;
        fw->used++;
    }
    s->refs++;
    return wd;
}

static void release_locked(struct fwatch *fw, const int *wds, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct slot *s = lookup(fw, wds[i]);
        if (s->wd == 0 || --s->refs > 0)
            continue;
        /* EINVAL: the kernel already dropped it (the inode is gone). */
        if (inotify_rm_watch(fw->fd, wds[i]) < 0 && errno != EINVAL)
            log_warn("inotify_rm_watch: %s", strerror(errno));
        unslot(fw, s);
    }
}

int fwatch_path(struct fwatch *fw, const char *rel, bool file, int wds[FWATCH_MAX_DEPTH])
{
    char path[PATH_MAX];
    size_t plen = strlen(fw->prefix);
    unsigned n = 0;
    int wd;

    if (plen + 1 + strlen(rel) >= sizeof path)
        return -1;
    memcpy(path, fw->prefix, plen + 1);

    pthread_mutex_lock(&fw->lock);
    /* The root: through the /proc link, which is followed. */
    wd = add_locked(fw, path, DIR_EVENTS | IN_ONLYDIR);
    if (wd < 0)
        goto fail;
    wds[n++] = wd;
    while (*rel != '\0') {
        const char *slash = strchr(rel, '/');
        size_t len = slash ? (size_t)(slash - rel) : strlen(rel);
        bool last = slash == NULL || slash[1] == '\0';
        if (last && !file)
            break; /* the missing name: its directory is watched */
        if (n == FWATCH_MAX_DEPTH)
            goto fail;
        path[plen++] = '/';
        memcpy(path + plen, rel, len);
        plen += len;
        path[plen] = '\0';
        /* Never through a symlink: the event would come from elsewhere. */
        wd = add_locked(fw, path, IN_DONT_FOLLOW | (last ? FILE_EVENTS : DIR_EVENTS | IN_ONLYDIR));
        if (wd < 0) {
            if (errno == ENOENT && !file)
                break; /* this segment is the missing name */
            goto fail;
        }
        wds[n++] = wd;
        if (last)
            break;
        rel = slash + 1;
    }
    pthread_mutex_unlock(&fw->lock);
    return (int)n;
fail:
    if (errno == ENOSPC)
        log_debug("inotify: out of watches (fs.inotify.max_user_watches)");
    release_locked(fw, wds, n);
    pthread_mutex_unlock(&fw->lock);
    return -1;
}

void fwatch_release(struct fwatch *fw, const int *wds, unsigned n)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&fw->lock);
    release_locked(fw, wds, n);
    pthread_mutex_unlock(&fw->lock);
}

bool fwatch_busy(struct fwatch *fw)
{
    return atomic_load(&fw->reading);
}

int fwatch_read(struct fwatch *fw, void (*fn)(void *arg, int wd, const char *name), void *arg)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    int ret = 0;

    /* Reading and acting on the changes is one step: a second reader that
     * found the queue empty must not go on before the first is done. */
    pthread_mutex_lock(&fw->read_lock);
    atomic_store(&fw->reading, true);
    for (;;) {
        ssize_t n = read(fw->fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ret = errno == EAGAIN ? 0 : -1;
            break;
        }
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                fn(arg, -1, NULL);
            else if (!(ev->mask & IN_IGNORED))
                fn(arg, ev->wd, ev->len > 0 ? ev->name : NULL);
            /* IN_IGNORED follows a removal: by fwatch_release, when nobody
             * uses the watch any more, or by the kernel, after an
             * IN_DELETE_SELF or IN_UNMOUNT that was reported. */
            p += sizeof *ev + ev->len;
        }
    }
    int e = errno;
    atomic_store(&fw->reading, false);
    pthread_mutex_unlock(&fw->read_lock);
    errno = e;
    return ret;
}
