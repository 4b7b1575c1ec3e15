/*
 * fcache.c - the small-file cache: a chained hash table with an LRU list.
 *
 * Design: every entry is one allocation holding its key, its path and its
 * content.  The table is bounded in entries and in bytes; inserting past
 * either bound drops the least recently used entries.  Lookups copy the
 * entry out under the mutex, so no entry is ever referenced outside it and
 * none needs a reference count.  Validation (is the file still the same?)
 * is the caller's, outside the lock.
 */
#include "config.h"

#include "fcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024              /* a power of two */

struct entry {
    struct entry *next;            /* hash chain */
    struct entry *lru_prev, *lru_next;
    uint32_t hash;
    size_t len;
    struct stat st;
    const char *content_type;
    const char *key;
    const char *rel;
    char *data;
    char mem[];                    /* key, rel, data */
};

struct fcache {
    pthread_mutex_t lock;          /* guards everything below */
    struct entry *buckets[NBUCKETS];
    struct entry *lru_head;        /* most recently used */
    struct entry *lru_tail;
    size_t entries, bytes;
    size_t max_entries, max_bytes;
};

static uint32_t hash_key(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

struct fcache *fcache_new(size_t max_entries, size_t max_bytes)
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
    return fc;
}

void fcache_free(struct fcache *fc)
{
    if (fc == NULL)
        return;
    for (struct entry *e = fc->lru_head, *next; e != NULL; e = next) {
        next = e->lru_next;
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

static void remove_entry(struct fcache *fc, struct entry *e)
{
    struct entry **pe = find(fc, e->key, e->hash);
    *pe = e->next;
    lru_unlink(fc, e);
    fc->entries--;
    fc->bytes -= e->len;
    free(e);
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
        len = (ssize_t)e->len;
        lru_unlink(fc, e);
        lru_push(fc, e);
    }
    pthread_mutex_unlock(&fc->lock);
    return len;
}

void fcache_put(struct fcache *fc, const char *key, const char *rel, const struct stat *st,
                const char *content_type, const char *data, size_t len)
{
    size_t klen = strlen(key) + 1, rlen = strlen(rel) + 1;

    if (len > FCACHE_MAX_FILE || len > fc->max_bytes || fc->max_entries == 0)
        return;
    struct entry *e = malloc(sizeof *e + klen + rlen + len);
    if (e == NULL)
        return;                    /* a cache may forget */
    e->hash = hash_key(key);
    e->len = len;
    e->st = *st;
    e->content_type = content_type;
    memcpy(e->mem, key, klen);
    memcpy(e->mem + klen, rel, rlen);
    memcpy(e->mem + klen + rlen, data, len);
    e->key = e->mem;
    e->rel = e->mem + klen;
    e->data = e->mem + klen + rlen;

    pthread_mutex_lock(&fc->lock);
    struct entry *old = *find(fc, key, e->hash);
    if (old != NULL)
        remove_entry(fc, old);
    while (fc->lru_tail != NULL &&
           (fc->entries >= fc->max_entries || fc->bytes + len > fc->max_bytes))
        remove_entry(fc, fc->lru_tail);
    struct entry **pe = find(fc, key, e->hash);
    e->next = *pe;
    *pe = e;
    lru_push(fc, e);
    fc->entries++;
    fc->bytes += len;
    pthread_mutex_unlock(&fc->lock);
}

void fcache_drop(struct fcache *fc, const char *key)
{
    uint32_t h = hash_key(key);

    pthread_mutex_lock(&fc->lock);
    struct entry *e = *find(fc, key, h);
    if (e != NULL)
        remove_entry(fc, e);
    pthread_mutex_unlock(&fc->lock);
}
