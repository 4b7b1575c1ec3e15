/*
 * fcache.h - a cache of small files: content, stat and media type, keyed
 * by normalised request path; and of paths that lead to no file.
 *
 * A hit saves opening, stat-ing, reading and closing the file, and lets
 * the head and the body go out in one write.  An entry is trusted in one of
 * two ways:
 *  - watched: it holds inotify watches (fwatch.h) on everything its answer
 *    depends on, and fcache_changed drops it as soon as one reports a
 *    change, so a hit needs no check;
 *  - checked: it holds none (inotify was not available for it), and the
 *    caller compares a fresh stat with the cached one on every hit.
 * Safe from any thread; one mutex, never held across a system call.
 */
#ifndef TINYHTTPD_FCACHE_H
#define TINYHTTPD_FCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fwatch.h"

#define FCACHE_MAX_FILE 8192 /* larger files are sent with sendfile */

struct fcache;

/*
 * A cache of at most max_entries entries and max_bytes of content.  fw
 * (NULL: none) gets back the watch references of every entry that goes.
 * NULL with errno set when memory runs out.
 */
struct fcache *fcache_new(size_t max_entries, size_t max_bytes, struct fwatch *fw);
void fcache_free(struct fcache *fc); /* NULL accepted */

/* What a hit returns besides the content. */
struct fcache_hit {
    char rel[512];  /* the file, relative to the document root */
    struct stat st; /* as it was when cached */
    const char *content_type;
    bool absent;  /* the path leads to no file (404) */
    bool watched; /* no need to check it against the file */
};

/*
 * Look key up; on a hit copy the content (at most cap bytes, which must
 * hold it) to buf and the rest to *hit, and return its length (0 for an
 * absent entry).  -1 when not cached.
 */
ssize_t fcache_get(struct fcache *fc, const char *key, char *buf, size_t cap,
                   struct fcache_hit *hit);

/*
 * The generation: it moves on at every change that fcache_changed reports.
 * Read it before fwatch_path, and pass it to fcache_put: an entry whose
 * watches may have missed a change is not stored.
 */
uint64_t fcache_generation(struct fcache *fc);

/*
 * Remember key -> rel with its stat, type and content (len <=
 * FCACHE_MAX_FILE); data NULL with len 0 and st NULL records that rel is
 * absent.  wds are nwds watch references (fwatch_path) that the cache takes
 * over; with nwds == 0 the entry is a checked one (absent entries must be
 * watched).  An entry already there for key is replaced; old entries make
 * room.  When the generation is no longer gen the entry is not stored.
 */
void fcache_put(struct fcache *fc, const char *key, const char *rel, const struct stat *st,
                const char *content_type, const char *data, size_t len, const int *wds,
                unsigned nwds, uint64_t gen);

/* Forget key (its file changed). */
void fcache_drop(struct fcache *fc, const char *key);

/*
 * A watch reported a change: drop every entry that depends on it (for a
 * directory, with name NULL, or through its entry name).  wd -1: drop all.
 */
void fcache_changed(struct fcache *fc, int wd, const char *name);

/* Drop everything and store nothing more (the changes are no longer read). */
void fcache_retire(struct fcache *fc);

#endif
