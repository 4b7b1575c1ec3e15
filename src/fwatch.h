/*
 * fwatch.h - inotify watches on the paths the small-file cache relies on.
 *
 * A cached answer (a file's content, or "there is no such file") stays
 * true until something changes along its path: the file itself, or a name
 * in one of the directories from the document root down to it.  fwatch
 * puts an inotify watch on each of those, counts how many cache entries
 * use each watch, and removes a watch when the last one lets go.  The
 * event loop reads the changes (fwatch_read) and the cache drops what they
 * touch, so a cache hit costs no system call at all.
 *
 * Watches are added by path below /proc/self/fd/<root>, so they follow the
 * same directory the document root descriptor was opened on.  Safe from
 * any thread.
 */
#ifndef TINYHTTPD_FWATCH_H
#define TINYHTTPD_FWATCH_H

#include <stdbool.h>

#define FWATCH_MAX_DEPTH 16 /* watches per path, root included */

struct fwatch;

/*
 * Watch the directory root_fd (not taken over; it must outlive the
 * fwatch).  NULL with errno set when inotify or /proc/self/fd cannot be
 * used; the caller then checks files some other way.
 */
struct fwatch *fwatch_new(int root_fd);
void fwatch_free(struct fwatch *fw); /* NULL accepted */

/* The inotify descriptor, for epoll (readable when changes are pending). */
int fwatch_fd(const struct fwatch *fw);

/*
 * Watch what rel (relative to the root, normalised: no leading '/', no "."
 * or ".." segment, "" for the root itself) depends on: the root and each
 * directory on the way, and, when file is true, the last segment itself,
 * which must be a file; when file is false, the walk stops quietly at the
 * first segment that does not exist (it is the name a creation would use).
 * Fills wds and returns how many, each holding one reference; -1 when the
 * path cannot be watched (too deep, a symlink or a non-directory on the
 * way, out of watches), with nothing held.  Call it before looking at the
 * file, so a change after the look is always reported.
 */
int fwatch_path(struct fwatch *fw, const char *rel, bool file, int wds[FWATCH_MAX_DEPTH]);

/* Let go of n references taken by fwatch_path; a watch nobody uses is removed. */
void fwatch_release(struct fwatch *fw, const int *wds, unsigned n);

/*
 * Read the pending changes without blocking and call fn for each: wd is
 * the watch, name the entry of a watched directory that changed (NULL when
 * the watched file or directory itself changed).  wd is -1 when changes
 * were lost (the kernel queue overflowed): everything may have changed.
 * Returns 0, or -1 with errno set on a read error other than EAGAIN.
 * Readers take turns: one that finds nothing left to read returns only
 * after another has finished acting on what it read.
 */
int fwatch_read(struct fwatch *fw, void (*fn)(void *arg, int wd, const char *name), void *arg);

/* Whether a fwatch_read is under way (in another thread): changes may
 * have been read and not yet acted on. */
bool fwatch_busy(struct fwatch *fw);

#endif
