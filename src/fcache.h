/*
 * fcache.h - a cache of small files: content, stat and media type, keyed
 * by normalised request path.
 *
 * A hit saves opening, stat-ing, reading and closing the file, and lets
 * the head and the body go out in one write.  It is checked against the
 * file on every use (fileserve.c compares a fresh stat with the cached
 * one), so a changed file is never served from the cache.  Safe from any
 * thread; one mutex, never held across a system call.
 */
#ifndef TINYHTTPD_FCACHE_H
#define TINYHTTPD_FCACHE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define FCACHE_MAX_FILE 8192       /* larger files are sent with sendfile */

struct fcache;

/* A cache of at most max_entries files and max_bytes of content.  NULL
 * with errno set when memory runs out. */
struct fcache *fcache_new(size_t max_entries, size_t max_bytes);
void fcache_free(struct fcache *fc);          /* NULL accepted */

/* What a hit returns besides the content. */
struct fcache_hit {
    char rel[512];                 /* the file, relative to the document root */
    struct stat st;                /* as it was when cached */
    const char *content_type;
};

/*
 * Look key up; on a hit copy the content (at most cap bytes, which must
 * hold it) to buf and the rest to *hit, and return its length.  -1 when
 * absent.
 */
ssize_t fcache_get(struct fcache *fc, const char *key, char *buf, size_t cap,
                   struct fcache_hit *hit);

/* Remember key -> rel with its stat, type and content (len <= FCACHE_MAX_FILE).
 * An entry already there for key is replaced; old entries make room. */
void fcache_put(struct fcache *fc, const char *key, const char *rel, const struct stat *st,
                const char *content_type, const char *data, size_t len);

/* Forget key (its file changed). */
void fcache_drop(struct fcache *fc, const char *key);

#endif
