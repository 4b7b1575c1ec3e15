/*
 * fcache.c - the small-file cache: a chained hash table with an LRU list.
 *
 * Design: every entry is one allocation holding its key, its path and its
 * content.  The table is bounded in entries and in bytes; inserting past
 * either bound drops the least recently used entries.  Lookups copy the
 * entry out under the mutex, so no entry is ever referenced outside it and
 * none needs a reference count.  Entries that go are unlinked under the
 * mutex and freed, their watches released, after it.  Checking an entry
 * without watches (is the file still the same?) is the caller's.
 */
#include "config.h"

#include "fcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024 /* a power of two */

struct entry {
    struct entry *next; /* hash chain */
    struct entry *lru_prev, *lru_next;
    uint32_t hash;
    size_t len;
    bool absent;
    unsigned nwds;
    int wds[FWATCH_MAX_DEPTH]; /* what it depends on, root first */
    struct stat st;
    const char *content_type;
    const char *key;
    const char *rel;
    char *data;
    char mem[]; /* key, rel, data */
};

struct fcache {
    pthread_mutex_t lock; /* guards everything below */
    struct entry *buckets[NBUCKETS];
    struct entry *lru_head; /* most recently used */
    struct entry *lru_tail;
    size_t entries, bytes;
    size_t max_entries, max_bytes;
    uint64_t gen; /* changes reported so far */
    bool retired;
    struct fwatch *fw;
};

static uint32_t hash_key(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

struct fcache *fcache_new(size_t max_entries, size_t max_bytes, struct fwatch *fw)
{
    struct fcache *fc = calloc(1, sizeof *fc);
    if (fc == NULL)
        return NULL;
    int r = pthread_mutex_init(&fc->lock, NULL);
    if (r != 0) {
        free(fc);
        errno = r;
        return NULL;
    }
    fc->max_entries = max_entries;
    fc->max_bytes = max_bytes;
    fc->fw = fw;
    return fc;
}

void fcache_free(struct fcache *fc)
{
    if (fc == NULL)
        return;
    for (struct entry *e = fc->lru_head, *next; e != NULL; e = next) {
        next = e->lru_next;
        if (fc->fw != NULL)
            fwatch_release(fc->fw, e->wds, e->nwds);
        free(e);
    }
    pthread_mutex_destroy(&fc->lock);
    free(fc);
}

static void lru_unlink(struct fcache *fc, struct entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        fc->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        fc->lru_tail = e->lru_prev;
}

static void lru_push(struct fcache *fc, struct entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = fc->lru_head;
    if (fc->lru_head)
        fc->lru_head->lru_prev = e;
    fc->lru_head = e;
    if (fc->lru_tail == NULL)
        fc->lru_tail = e;
}

/* The link that points at key's entry (or at the chain's end). */
static struct entry **find(struct fcache *fc, const char *key, uint32_t h)
{
    struct entry **pe = &fc->buckets[h & (NBUCKETS - 1)];
    while (*pe != NULL && ((*pe)->hash != h || strcmp((*pe)->key, key) != 0))
        pe = &(*pe)->next;
    return pe;
}

/* Unlink e and put it on *dead, to be freed once the lock is released. */
static void remove_entry(struct fcache *fc, struct entry *e, struct entry **dead)
{
    struct entry **pe = find(fc, e->key, e->hash);
    *pe = e->next;
    lru_unlink(fc, e);
    fc->entries--;
    fc->bytes -= e->len;
    e->next = *dead;
    *dead = e;
}

/* Free what remove_entry collected; called without the lock. */
static void bury(struct fcache *fc, struct entry *dead)
{
    while (dead != NULL) {
        struct entry *next = dead->next;
        if (fc->fw != NULL)
            fwatch_release(fc->fw, dead->wds, dead->nwds);
        free(dead);
        dead = next;
    }
}

ssize_t fcache_get(struct fcache *fc, const char *key, char *buf, size_t cap,
                   struct fcache_hit *hit)
{
    uint32_t h = hash_key(key);
    ssize_t len = -1;

    pthread_mutex_lock(&fc->lock);
    struct entry *e = *find(fc, key, h);
    if (e != NULL && e->len <= cap && strlen(e->rel) < sizeof hit->rel) {
        memcpy(buf, e->data, e->len);
        strcpy(hit->rel, e->rel);
        hit->st = e->st;
        hit->content_type = e->content_type;
        hit->absent = e->absent;
        hit->watched = e->nwds > 0;
        len = (ssize_t)e->len;
        lru_unlink(fc, e);
        lru_push(fc, e);
    }
    pthread_mutex_unlock(&fc->lock);
    return len;
}

uint64_t fcache_generation(struct fcache *fc)
{
    pthread_mutex_lock(&fc->lock);
    uint64_t gen = fc->gen;
    pthread_mutex_unlock(&fc->lock);
    return gen;
}

void fcache_put(struct fcache *fc, const char *key, const char *rel, const struct stat *st,
                const char *content_type, const char *data, size_t len, const int *wds,
                unsigned nwds, uint64_t gen)
{
    size_t klen = strlen(key) + 1, rlen = strlen(rel) + 1;
    struct entry *dead = NULL, *e = NULL;

    if (nwds > FWATCH_MAX_DEPTH || (st == NULL && nwds == 0))
        goto refuse;
    if (len > FCACHE_MAX_FILE || len > fc->max_bytes || fc->max_entries == 0)
        goto refuse;
    e = malloc(sizeof *e + klen + rlen + len);
    if (e == NULL)
        goto refuse; /* a cache may forget */
    e->hash = hash_key(key);
    e->len = len;
    e->absent = st == NULL;
    if (st != NULL)
        e->st = *st;
    else
        memset(&e->st, 0, sizeof e->st);
    e->content_type = content_type;
    e->nwds = nwds;
    if (nwds > 0)
        memcpy(e->wds, wds, nwds * sizeof *wds);
    memcpy(e->mem, key, klen);
    memcpy(e->mem + klen, rel, rlen);
    if (len > 0)
        memcpy(e->mem + klen + rlen, data, len);
    e->key = e->mem;
    e->rel = e->mem + klen;
    e->data = e->mem + klen + rlen;

    pthread_mutex_lock(&fc->lock);
    if (fc->retired || (nwds > 0 && fc->gen != gen)) {
        /* A change came between the watches and the look at the file. */
        pthread_mutex_unlock(&fc->lock);
        free(e);
        goto refuse;
    }
    struct entry *old = *find(fc, key, e->hash);
    if (old != NULL)
        remove_entry(fc, old, &dead);
    while (fc->lru_tail != NULL &&
           (fc->entries >= fc->max_entries || fc->bytes + len > fc->max_bytes))
        remove_entry(fc, fc->lru_tail, &dead);
    struct entry **pe = find(fc, key, e->hash);
    e->next = *pe;
    *pe = e;
    lru_push(fc, e);
    fc->entries++;
    fc->bytes += len;
    pthread_mutex_unlock(&fc->lock);
    bury(fc, dead);
    return;
refuse:
    if (fc->fw != NULL && nwds > 0)
        fwatch_release(fc->fw, wds, nwds);
}

void fcache_drop(struct fcache *fc, const char *key)
{
    uint32_t h = hash_key(key);

    struct entry *dead = NULL;

    pthread_mutex_lock(&fc->lock);
    struct entry *e = *find(fc, key, h);
    if (e != NULL)
        remove_entry(fc, e, &dead);
    pthread_mutex_unlock(&fc->lock);
    bury(fc, dead);
}

/* Whether segment i (from 0) of rel is name. */
static bool segment_is(const char *rel, unsigned i, const char *name)
{
    for (; i > 0; i--) {
        rel = strchr(rel, '/');
        if (rel == NULL)
            return false;
        rel++;
    }
    size_t len = strcspn(rel, "/");
    return strlen(name) == len && memcmp(rel, name, len) == 0;
}

/* Whether a change to watch wd (entry name, or itself) touches e.  wds[i]
 * is a directory whose entry on e's path is segment i of e->rel, except
 * the last watch of a present file, which is the file. */
static bool depends_on(const struct entry *e, int wd, const char *name)
{
    for (unsigned i = 0; i < e->nwds; i++) {
        if (e->wds[i] != wd)
            continue;
        bool is_file = !e->absent && i == e->nwds - 1 && i > 0;
        if (name == NULL || is_file || segment_is(e->rel, i, name))
            return true;
    }
    return false;
}

void fcache_changed(struct fcache *fc, int wd, const char *name)
{
    struct entry *dead = NULL;

    pthread_mutex_lock(&fc->lock);
    fc->gen++;
    for (struct entry *e = fc->lru_head, *next; e != NULL; e = next) {
        next = e->lru_next;
        if (wd < 0 || depends_on(e, wd, name))
            remove_entry(fc, e, &dead);
    }
    pthread_mutex_unlock(&fc->lock);
    bury(fc, dead);
}

void fcache_retire(struct fcache *fc)
{
    struct entry *dead = NULL;

    pthread_mutex_lock(&fc->lock);
    fc->retired = true;
    fc->gen++;
    while (fc->lru_tail != NULL)
        remove_entry(fc, fc->lru_tail, &dead);
    pthread_mutex_unlock(&fc->lock);
    bury(fc, dead);
}
