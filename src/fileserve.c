/*
 * fileserve.c - from a parsed GET or HEAD request to a response plan.
 *
 * Design: the target is decoded and normalised by the pure path module,
 * then opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 * relative to a descriptor of the document root, so neither "..", nor an
 * absolute or climbing symlink, nor a magic link in /proc can reach a file
 * outside it: the kernel refuses the walk.  Files are opened O_NONBLOCK so a
 * FIFO cannot hang a worker, and only regular files are served.  Then the
 * RFC 9110 section 13.2.2 order of preconditions is applied (If-Match,
 * If-Unmodified-Since, If-None-Match, If-Modified-Since), then Range and
 * If-Range.  Small files, and paths that lead to no file, are answered
 * from the site's cache (fcache.c), which inotify watches (fwatch.c) keep
 * current; the event loop reads the changes (fileserve_site_changes).  This
 * runs on pool workers; it touches the immutable site, the request and the
 * cache, which locks itself.
 */
#include "config.h"

#include "fileserve.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conf.h"
#include "dirlist.h"
#include "encoding.h"
#include "fcache.h"
#include "fwatch.h"
#include "headers.h"
#include "log.h"
#include "metrics.h"
#include "mime.h"
#include "path.h"
#include "range.h"

#define FILESERVE_CACHE_ENTRIES 1024
#define FILESERVE_CACHE_BYTES (8u << 20)

struct site *fileserve_site_new(const struct conf *c, char *err, size_t errlen)
{
    struct site *s = calloc(1, sizeof *s);
    int mime_errno = 0;

    if (s == NULL)
        goto nomem;
    atomic_init(&s->refs, 1); /* before any fileserve_site_unref below */
    s->root_fd = open(c->document_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (s->root_fd < 0) {
        snprintf(err, errlen, "document_root '%s': %s", c->document_root, strerror(errno));
        free(s);
        return NULL;
    }
    s->root = strdup(c->document_root);
    s->index = strdup(c->index);
    s->charset = c->charset != NULL && c->charset[0] != '\0' ? strdup(c->charset) : NULL;
    s->mime = mime_new(c->mime_types && *c->mime_types ? c->mime_types : NULL, &mime_errno);
    s->watch = fwatch_new(s->root_fd);
    if (s->watch == NULL)
        log_warn("document_root '%s': no inotify (%s); cached files are checked on every use",
                 c->document_root, strerror(errno));
    s->cache = fcache_new(FILESERVE_CACHE_ENTRIES, FILESERVE_CACHE_BYTES, s->watch);
    if (s->root == NULL || s->index == NULL || s->mime == NULL || s->cache == NULL ||
        (s->charset == NULL && c->charset != NULL && c->charset[0] != '\0')) {
        fileserve_site_unref(s);
        goto nomem;
    }
    if (mime_errno != 0)
        log_warn("mime_types '%s': %s; using the built-in table", c->mime_types,
                 strerror(mime_errno));
    s->header_timeout = c->header_timeout;
    s->keepalive_timeout = c->keepalive_timeout;
    s->send_timeout = c->send_timeout;
    s->access_log = c->access_log;
    s->precompressed = c->precompressed;
    s->headers = headers_ref(c->headers);
    s->https = c->tls_certificate != NULL && c->tls_certificate[0] != '\0';
    s->tls_redirect = c->tls_redirect && s->https;
    s->tls_hsts = c->tls_hsts;
    s->tls_port = c->ntls_listen > 0 ? conf_listen_port(&c->tls_listen[0]) : 443;
    s->max_ranges = c->max_ranges < FILESERVE_MAX_PARTS ? c->max_ranges : FILESERVE_MAX_PARTS;
    s->directory_listing = c->directory_listing;
    return s;
nomem:
    snprintf(err, errlen, "out of memory");
    return NULL;
}

struct site *fileserve_site_ref(struct site *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void fileserve_site_unref(struct site *s)
{
    if (s == NULL)
        return;
    /* acq_rel: the thread that frees sees every other holder's last use. */
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* The last reference. */
    if (s->root_fd >= 0)
        close(s->root_fd);
    free(s->root);
    free(s->index);
    free(s->charset);
    headers_unref(s->headers);
    mime_free(s->mime);
    fcache_free(s->cache);
    fwatch_free(s->watch);
    free(s);
}

/*
 * Without openat2 (kernels before 5.6, or a seccomp filter that does not
 * know it): walk rel one segment at a time with O_NOFOLLOW, so no symlink
 * is followed at all.  rel is normalised, so it has no "." or ".." segment
 * (the fuzzed path module guarantees it); that keeps the walk below dirfd.
 */
static int open_beneath_walk(int dirfd, const char *rel)
{
    char seg[256];
    int cur = dirfd;

    for (;;) {
        const char *slash = strchr(rel, '/');
        size_t len = slash ? (size_t)(slash - rel) : strlen(rel);
        if (len >= sizeof seg) {
            if (cur != dirfd)
                close(cur);
            return -ENAMETOOLONG;
        }
        memcpy(seg, rel, len);
        seg[len] = '\0';
        bool last = slash == NULL || slash[1] == '\0';
        int flags = O_NOFOLLOW | O_CLOEXEC |
                    (last ? O_RDONLY | O_NONBLOCK | O_NOCTTY : O_PATH | O_DIRECTORY);
        int fd = openat(cur, seg, flags);
        int e = errno;
        if (cur != dirfd)
            close(cur);
        if (fd < 0)
            return -e;
        if (last)
            return fd;
        cur = fd;
        rel = slash + 1;
    }
}

/* Open rel (no leading '/') below dirfd; never leaves it.  -errno on failure. */
static int open_beneath(int dirfd, const char *rel)
{
    struct open_how how = {
        .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd;

    do
        fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    while (fd < 0 && errno == EINTR);
    if (fd < 0 && errno == ENOSYS)
        return open_beneath_walk(dirfd, rel);
    return fd < 0 ? -errno : (int)fd;
}

static int status_for_errno(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
    case EXDEV: /* the walk would leave the document root */
    case ENAMETOOLONG:
    case ENXIO:
        return 404;
    case EACCES:
    case EPERM:
        return 403;
    default:
        log_err("open: %s", strerror(e));
        return 500;
    }
}

/* Append v in lower-case hex at p; returns the end. */
static char *put_hex(char *p, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[16];
    int n = 0;

    do
        tmp[n++] = hex[v & 15];
    while ((v >>= 4) != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* The entity-tag is "inode-size-mtime" in hex: it changes whenever the
 * file is replaced, resized or written (mtime has nanoseconds). */
static void set_validators(const struct stat *st, struct fileserve_plan *plan)
{
    char *p = plan->etag;

    plan->has_validators = true;
    plan->mtime = st->st_mtim.tv_sec;
    *p++ = '"';
    p = put_hex(p, (uint64_t)st->st_ino);
    *p++ = '-';
    p = put_hex(p, (uint64_t)st->st_size);
    *p++ = '-';
    p = put_hex(p, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
    *p++ = '"';
    *p = '\0';
}

/* RFC 9110 section 13.2.2, steps 1 to 4; 0 when the request goes on. */
static int preconditions(const struct http_req_info *info, const struct fileserve_plan *plan)
{
    time_t t;

    if (info->if_match != NULL) {
        if (!http_etag_match(info->if_match->value, info->if_match->value_len, plan->etag, true))
            return 412;
    } else if (info->if_unmodified_since != NULL &&
               http_parse_date(info->if_unmodified_since->value,
                               info->if_unmodified_since->value_len, &t)) {
        if (plan->mtime > t)
            return 412;
    }
    if (info->if_none_match != NULL) {
        if (http_etag_match(info->if_none_match->value, info->if_none_match->value_len, plan->etag,
                            false))
            return 304;
    } else if (info->if_modified_since != NULL &&
               http_parse_date(info->if_modified_since->value, info->if_modified_since->value_len,
                               &t)) {
        if (plan->mtime <= t)
            return 304;
    }
    return 0;
}

/* Whether If-Range (if any) lets the Range field apply. */
static bool if_range_holds(const struct http_req_info *info, const struct fileserve_plan *plan)
{
    const struct http_header *h = info->if_range;
    time_t t;

    if (h == NULL)
        return true;
    if (h->value_len > 0 && (h->value[0] == '"' || h->value[0] == 'W'))
        return http_etag_match(h->value, h->value_len, plan->etag, true);
    return http_parse_date(h->value, h->value_len, &t) && t == plan->mtime;
}

/* Whether st still describes the file that cached was taken from: the
 * same inode, unchanged since (ctime moves with content, mode and links). */
static bool same_file(const struct stat *st, const struct stat *cached)
{
    return st->st_dev == cached->st_dev && st->st_ino == cached->st_ino &&
           st->st_size == cached->st_size && st->st_mtim.tv_sec == cached->st_mtim.tv_sec &&
           st->st_mtim.tv_nsec == cached->st_mtim.tv_nsec &&
           st->st_ctim.tv_sec == cached->st_ctim.tv_sec &&
           st->st_ctim.tv_nsec == cached->st_ctim.tv_nsec && st->st_mode == cached->st_mode &&
           S_ISREG(st->st_mode);
}

enum lookup { MISS, HIT, ABSENT };

/*
 * The cached answer for key.  A watched entry is current by construction
 * (fcache_changed drops it at the first change).  A checked one is
 * compared with a fresh stat of its path below the root: inode, size and
 * modification time must match.  (A path that now leads elsewhere, even
 * out of the root through a symlink, cannot match the inode that was
 * opened safely.)
 */
static enum lookup cache_lookup(const struct site *site, const char *key, char *body, size_t cap,
                                struct fcache_hit *hit)
{
    struct stat now;
    ssize_t n = fcache_get(site->cache, key, body, cap, hit);
    enum lookup r = MISS;

    if (n >= 0 && hit->watched)
        r = hit->absent ? ABSENT : HIT;
    else if (n >= 0 && fstatat(site->root_fd, hit->rel, &now, 0) == 0 && same_file(&now, &hit->st))
        r = HIT;
    else if (n >= 0)
        fcache_drop(site->cache, key);
    metrics_count(site->metrics, r == MISS ? METRICS_CACHE_MISS : METRICS_CACHE_HIT);
    return r;
}

/* Read all of a small file into body; false if it changed size meanwhile. */
static bool read_whole(int fd, char *body, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, body + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    char extra;
    return pread(fd, &extra, 1, (off_t)size) == 0;
}

/*
 * fd is the regular file rel, *st its stat, small enough for body: read it
 * into body and cache it under key with its media type.  The watches go on first, so a change
 * after them is reported; a second fstat catches one between the first and
 * the read.  Returns false (body unusable, fd untouched) when the file
 * changed meanwhile.
 */
static bool load_small(const struct site *site, const char *key, const char *rel, int fd,
                       const struct stat *st, const char *content_type, char *body)
{
    int wds[FWATCH_MAX_DEPTH], nwds = -1;
    uint64_t gen = fcache_generation(site->cache);
    struct stat again, at_path;

    if (site->watch != NULL)
        nwds = fwatch_path(site->watch, rel, true, wds);
    if (!read_whole(fd, body, (size_t)st->st_size) || fstat(fd, &again) < 0 ||
        !same_file(&again, st)) {
        if (nwds > 0)
            fwatch_release(site->watch, wds, (unsigned)nwds);
        return false;
    }
    /* The watched path must name the inode that was read (not a symlink). */
    if (nwds > 0 && (fstatat(site->root_fd, rel, &at_path, AT_SYMLINK_NOFOLLOW) < 0 ||
                     at_path.st_dev != st->st_dev || at_path.st_ino != st->st_ino)) {
        fwatch_release(site->watch, wds, (unsigned)nwds);
        nwds = 0;
    }
    fcache_put(site->cache, key, rel, st, content_type, body, (size_t)st->st_size, wds,
               nwds > 0 ? (unsigned)nwds : 0, gen);
    return true;
}

/* rel (open said ENOENT) is absent: remember it, when it can be watched. */
static void remember_absent(const struct site *site, const char *key, const char *rel)
{
    int wds[FWATCH_MAX_DEPTH], nwds;
    uint64_t gen = fcache_generation(site->cache);
    struct stat st;

    if (site->watch == NULL || (nwds = fwatch_path(site->watch, rel, false, wds)) <= 0)
        return;
    /* Still absent now that the watches are on?  (Not even a symlink.) */
    if (fstatat(site->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
        fwatch_release(site->watch, wds, (unsigned)nwds);
        return;
    }
    fcache_put(site->cache, key, rel, NULL, NULL, NULL, 0, wds, (unsigned)nwds, gen);
}

/*
 * fileserve_resolve in steps: the target becomes a path (target_to_path), the path a
 * file from the cache or the disk (find_file, open_file, open_index), then the
 * preconditions and the range decide the status (preconditions, apply_range).  Each
 * step returns 0 to go on or the status to answer.
 */

/* Not a status: the step found a directory without an index file, and directory_listing
 * is on (see list_directory). */
#define LIST_DIRECTORY 1

/* A normalised target, and a directory's index name after it (a file name, so at most
 * NAME_MAX bytes; snprintf's result is checked all the same). */
#define RESOLVE_PATH_CAP (PATH_MAX + NAME_MAX + 1)

/*
 * The request target as a normalised path in path[0..PATH_MAX): its length, or a
 * negative status.  The target's own length is bounded by max_header_size; a path too
 * long for the file system (PATH_MAX or more) names no file: 404, not 414.
 */
static ssize_t target_to_path(const struct http_request *req, char path[PATH_MAX])
{
    ssize_t n = path_normalize(req->target, req->target_len, path, PATH_MAX);

    if (n == -414 || (n >= 0 && path_is_hidden(path)))
        return -404;
    return n;
}

/* fstat fd (opened as path): 0, or 500. */
static int stat_opened(int fd, const char *path, struct stat *st)
{
    if (fstat(fd, st) == 0)
        return 0;
    log_err("fstat %s: %s", path, strerror(errno));
    return 500;
}

/*
 * The index file of the directory path[0..*n) (which ends in '/'), resolved from the
 * root like any path: appended to path, opened into *fd with its stat in *st.  A
 * directory without one is 403, or LIST_DIRECTORY when directory_listing is on.
 */
static int open_index(const struct site *site, char *path, size_t *n, int *fd, struct stat *st)
{
    size_t room = RESOLVE_PATH_CAP - *n;
    int w = snprintf(path + *n, room, "%s", site->index);

    if (w < 0 || (size_t)w >= room)
        return 404; /* a name no file can have */
    *n += (size_t)w;
    *fd = open_beneath(site->root_fd, path + 1);
    if (*fd < 0) {
        int e = -*fd;
        *fd = -1;
        if (e == ENOENT)
            return site->directory_listing ? LIST_DIRECTORY : 403;
        return status_for_errno(e);
    }
    return stat_opened(*fd, path, st);
}

/*
 * Open the regular file that path[0..*n) (the cache key key) names below the root into
 * *fd, with its stat in *st; a directory leads to its index file (path and *n then name
 * that).  On a failure *fd is -1.
 */
static int open_file(const struct site *site, const char *key, char *path, size_t *n, int *fd,
                     struct stat *st)
{
    int status;

    *fd = open_beneath(site->root_fd, path[1] ? path + 1 : ".");
    if (*fd < 0) {
        int e = -*fd;
        *fd = -1;
        if (e == ENOENT)
            remember_absent(site, key, path + 1);
        return status_for_errno(e);
    }
    status = stat_opened(*fd, path, st);
    if (status == 0 && S_ISDIR(st->st_mode)) {
        close(*fd);
        *fd = -1;
        if (path[*n - 1] != '/')
            return 301;
        status = open_index(site, path, n, fd, st);
    }
    if (status == 0 && !S_ISREG(st->st_mode))
        status = 403;
    if (status != 0 && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    return status;
}

/*
 * The file for key (a normalised path of n bytes), with its stat in *st: from the
 * cache (in body), or opened, and then read into body and cached when it is small
 * enough.  plan gets its data (when in memory) and media type; *fd is the open file
 * when it is not in memory, else -1; path gets the file's own path (a directory's
 * index file's, for a directory), with its leading '/'.
 */
static int find_file(const struct site *site, const char *key, size_t n,
                     struct fileserve_plan *plan, char *body, size_t body_cap, int *fd,
                     struct stat *st, char path[RESOLVE_PATH_CAP])
{
    struct fcache_hit hit;

    switch (cache_lookup(site, key, body, body_cap, &hit)) {
    case HIT:
        *st = hit.st;
        plan->data = body;
        plan->content_type = hit.content_type;
        path[0] = '/';
        memcpy(path + 1, hit.rel, strlen(hit.rel) + 1); /* less than 512 bytes */
        return 0;
    case ABSENT:
        return 404;
    case MISS:
        break;
    }
    memcpy(path, key, n + 1);
    int status = open_file(site, key, path, &n, fd, st);
    if (status != 0)
        return status;
    plan->content_type = mime_lookup(site->mime, path, n);
    if ((size_t)st->st_size <= body_cap &&
        load_small(site, key, path + 1, *fd, st, plan->content_type, body)) {
        close(*fd);
        *fd = -1;
        plan->data = body;
    }
    return 0;
}

/*
 * The sibling file of path (the file found for the request, with its leading '/') that
 * coding e names, for a response that varies with Accept-Encoding: opened below the root
 * exactly as path was, and used only when it is a regular file (a directory, a FIFO, a
 * symlink out of the root or a name that is too long count as no sibling).  It is cached
 * like any small file, under a key that no request path can have (".br:/app.js"), with
 * the media type of path; a missing sibling is remembered as absent, and the watch on its
 * directory drops that entry when the sibling appears.
 *
 * With body NULL this only says whether the sibling is there (scratch holds a cached copy).
 * Otherwise, once it is found, plan (data or *fd, never both) and *st describe it and
 * body may have been overwritten: the caller serves the sibling.  Returns true when there
 * is one.
 */
static bool find_variant(const struct site *site, enum encoding e, const char *path,
                         struct fileserve_plan *plan, char *body, size_t body_cap, int *fd,
                         struct stat *st)
{
    char key[RESOLVE_PATH_CAP + 8], rel[RESOLVE_PATH_CAP + 8], scratch[FCACHE_MAX_FILE];
    const char *suffix = encoding_suffix(e);
    struct fcache_hit hit;
    struct stat vst;
    size_t sn = strlen(suffix), pn = strlen(path);

    if (pn == 0 || sn + 1 + pn >= sizeof key)
        return false;
    /* Built by hand, not with snprintf: this runs for every file served. */
    memcpy(key, suffix, sn); /* ".br:/app.js" */
    key[sn] = ':';
    memcpy(key + sn + 1, path, pn + 1);
    memcpy(rel, path + 1, pn - 1); /* "app.js.br" */
    memcpy(rel + pn - 1, suffix, sn + 1);
    switch (cache_lookup(site, key, body != NULL ? body : scratch,
                         body != NULL ? body_cap : sizeof scratch, &hit)) {
    case HIT:
        if (body != NULL) {
            *st = hit.st;
            plan->data = body;
        }
        return true;
    case ABSENT:
        return false;
    case MISS:
        break;
    }
    int vfd = open_beneath(site->root_fd, rel);
    if (vfd < 0) {
        if (vfd == -ENOENT)
            remember_absent(site, key, rel);
        return false;
    }
    if (fstat(vfd, &vst) < 0) {
        log_err("fstat /%s: %s", rel, strerror(errno));
        close(vfd);
        return false;
    }
    if (!S_ISREG(vst.st_mode) || body == NULL) {
        close(vfd);
        return body == NULL && S_ISREG(vst.st_mode);
    }
    *st = vst;
    if ((size_t)vst.st_size <= body_cap &&
        load_small(site, key, rel, vfd, &vst, plan->content_type, body)) {
        close(vfd);
        plan->data = body;
    } else {
        plan->data = NULL;
        *fd = vfd;
    }
    return true;
}

/*
 * Choose the representation of the file found (path, with F's data or *fd and *st): a
 * precompressed sibling when the request accepts its coding (br, then zstd, then gzip), F
 * itself otherwise.  plan->vary records whether any sibling exists, so that every
 * representation of F says Vary: Accept-Encoding.
 */
static void choose_variant(const struct site *site, const struct encoding_accept *acc,
                           const char *path, struct fileserve_plan *plan, char *body,
                           size_t body_cap, int *fd, struct stat *st)
{
    for (int e = 0; e < ENCODING_COUNT; e++) {
        if (encoding_weight(acc, (enum encoding)e) == 0) {
            if (!plan->vary && find_variant(site, (enum encoding)e, path, plan, NULL, 0, fd, st))
                plan->vary = true;
            continue;
        }
        int ffd = *fd;
        *fd = -1;
        if (find_variant(site, (enum encoding)e, path, plan, body, body_cap, fd, st)) {
            if (ffd >= 0)
                close(ffd);
            plan->vary = true;
            plan->content_encoding = encoding_name((enum encoding)e);
            return;
        }
        *fd = ffd;
    }
}

/* The codings the request accepts (its Accept-Encoding fields, as one list). */
static void accepted_codings(const struct http_request *req, struct encoding_accept *acc)
{
    encoding_accept_init(acc);
    for (size_t i = 0; i < req->num_headers; i++) {
        const struct http_header *h = &req->headers[i];
        if (h->name_len == 15 && strncasecmp(h->name, "accept-encoding", 15) == 0)
            encoding_accept_parse(acc, h->value, h->value_len);
    }
}

/*
 * F is not there, but a sibling for a coding the request accepts may be: serve it, so
 * that whether F exists does not matter, on the short way (cached_variant) or the long.
 */
static bool missing_variant(const struct site *site, const struct encoding_accept *acc,
                            const char *key, struct fileserve_plan *plan, char *body,
                            size_t body_cap, int *fd, struct stat *st)
{
    plan->content_type = mime_lookup(site->mime, key, strlen(key));
    for (int e = 0; e < ENCODING_COUNT; e++) {
        if (encoding_weight(acc, (enum encoding)e) == 0)
            continue;
        if (find_variant(site, (enum encoding)e, key, plan, body, body_cap, fd, st)) {
            plan->vary = true;
            plan->content_encoding = encoding_name((enum encoding)e);
            return true;
        }
    }
    plan->content_type = NULL;
    return false;
}

/*
 * The short way to a precompressed sibling, without opening F: when the preferred
 * coding that the request accepts has its sibling of key in the cache, that sibling was
 * found beneath the root and regular when F was last resolved, and its entry goes when
 * it changes; serve it as nginx's gzip_static does (which does not look at F either).
 * Only for a key that names a file, not a directory (whose index the long way finds).
 * False when the cache cannot say: then F is resolved the long way (choose_variant).
 */
static bool cached_variant(const struct site *site, const struct encoding_accept *acc,
                           const char *key, size_t n, struct fileserve_plan *plan, char *body,
                           size_t body_cap, struct stat *st)
{
    char vkey[RESOLVE_PATH_CAP + 8];
    struct fcache_hit hit;

    if (n < 2 || key[n - 1] == '/')
        return false;
    for (int e = 0; e < ENCODING_COUNT; e++) {
        if (encoding_weight(acc, (enum encoding)e) == 0)
            continue;
        int kn = snprintf(vkey, sizeof vkey, "%s:%s", encoding_suffix((enum encoding)e), key);
        if (kn < 0 || (size_t)kn >= sizeof vkey)
            return false;
        switch (cache_lookup(site, vkey, body, body_cap, &hit)) {
        case HIT:
            *st = hit.st;
            plan->data = body;
            plan->content_type = hit.content_type;
            plan->vary = true;
            plan->content_encoding = encoding_name((enum encoding)e);
            return true;
        case ABSENT:
            continue;
        case MISS:
            return false;
        }
    }
    return false;
}

/* The body slice: the whole representation (200), one range of it (206), several
 * (206 with plan->nparts >= 2), or 416. */
static int apply_range(const struct site *site, const struct http_req_info *info,
                       struct fileserve_plan *plan)
{
    uint64_t first, length;
    size_t n;

    plan->offset = 0;
    plan->length = plan->size;
    if (info->range == NULL || info->method != HTTP_METHOD_GET || !if_range_holds(info, plan))
        return 200;
    switch (range_parse(info->range->value, info->range->value_len, plan->size, &first, &length)) {
    case RANGE_SINGLE:
        plan->offset = first;
        plan->length = length;
        return 206;
    case RANGE_UNSATISFIABLE:
        return 416;
    case RANGE_MULTI:
        break;
    case RANGE_NONE:
    case RANGE_EXCESSIVE:
        return 200;
    }
    /* Several ranges: sorted and coalesced, within the site's bounds. */
    switch (range_parse_set(info->range->value, info->range->value_len, plan->size, plan->parts,
                            site->max_ranges, &n)) {
    case RANGE_SINGLE:
        plan->offset = plan->parts[0].first;
        plan->length = plan->parts[0].length;
        return 206;
    case RANGE_MULTI:
        plan->nparts = (unsigned)n;
        plan->offset = plan->parts[0].first;
        plan->length = plan->parts[n - 1].first + plan->parts[n - 1].length - plan->offset;
        return 206;
    case RANGE_UNSATISFIABLE: /* not reached: range_parse saw a satisfiable one */
        return 416;
    case RANGE_NONE:
    case RANGE_EXCESSIVE:
        break;
    }
    return 200;
}

/* The listing of the directory key (directory_listing): a 200 from a memory file,
 * without validators or ranges, never cached; or an error status. */
static void list_directory(const struct site *site, const char *key, struct fileserve_plan *plan)
{
    int dirfd = open_beneath(site->root_fd, key[1] ? key + 1 : ".");
    int fd;

    if (dirfd < 0) {
        plan->status = status_for_errno(-dirfd);
        return;
    }
    fd = dirlist_build(site->root_fd, dirfd, key, &plan->size);
    close(dirfd);
    if (fd < 0) {
        plan->status = fd == -EACCES ? 403 : 500;
        return;
    }
    plan->status = 200;
    plan->fd = fd;
    plan->offset = 0;
    plan->length = plan->size;
    plan->content_type = "text/html";
}

void fileserve_resolve(const struct site *site, const struct http_request *req,
                       const struct http_req_info *info, struct fileserve_plan *plan, char *body,
                       size_t body_cap)
{
    char key[PATH_MAX], path[RESOLVE_PATH_CAP];
    struct stat st;
    int fd = -1, status;

    memset(plan, 0, offsetof(struct fileserve_plan, parts)); /* parts: set with nparts */
    plan->fd = -1;
    if (body_cap > FCACHE_MAX_FILE)
        body_cap = FCACHE_MAX_FILE;

    ssize_t n = target_to_path(req, key);
    struct encoding_accept acc;
    if (site->precompressed && n >= 0)
        accepted_codings(req, &acc);
    if (site->precompressed && n >= 0 &&
        cached_variant(site, &acc, key, (size_t)n, plan, body, body_cap, &st)) {
        status = 0;
        memcpy(path, key, (size_t)n + 1);
    } else {
        status =
            n < 0 ? (int)-n : find_file(site, key, (size_t)n, plan, body, body_cap, &fd, &st, path);
        if (status == 0 && site->precompressed)
            choose_variant(site, &acc, path, plan, body, body_cap, &fd, &st);
        else if (status == 404 && n >= 2 && key[n - 1] != '/' && site->precompressed &&
                 missing_variant(site, &acc, key, plan, body, body_cap, &fd, &st)) {
            status = 0;
            memcpy(path, key, (size_t)n + 1);
        }
    }
    if (status == LIST_DIRECTORY) {
        list_directory(site, key, plan);
        /* The listing is a page of the site: its fields apply (the
         * directory's path is the file's), and the charset if set. */
        plan->header_rules =
            headers_match(site->headers, key, (size_t)n, key, (size_t)n, plan->status != 200);
        if (plan->status == 200 && site->charset != NULL)
            plan->charset = site->charset;
        return;
    }
    if (status == 0) {
        plan->size = (uint64_t)st.st_size;
        set_validators(&st, plan);
        if (plan->content_encoding != NULL) {
            /* "ino-size-mtime-br": the variant's own tag, marked as such */
            size_t len = strlen(plan->etag);
            snprintf(plan->etag + len - 1, sizeof plan->etag - (len - 1), "-%s\"",
                     plan->content_encoding);
        }
        status = preconditions(info, plan);
        if (status == 0)
            status = apply_range(site, info, plan);
    }
    plan->status = status;
    if (status == 200 || status == 206 || status == 304) {
        plan->header_rules =
            headers_match(site->headers, key, (size_t)n, path, strlen(path), false);
        if (site->charset != NULL && headers_charset_applies(plan->content_type))
            plan->charset = site->charset;
    } else if (n >= 0) {
        plan->header_rules = headers_match(site->headers, key, (size_t)n, key, (size_t)n, true);
    } else {
        plan->header_rules = headers_match(site->headers, NULL, 0, NULL, 0, true);
    }
    if (status == 200 || status == 206) {
        plan->fd = fd;
        return;
    }
    if (fd >= 0)
        close(fd);
    plan->data = NULL;
}

/* Open the error page key (not in the cache) into plan: in body when small, else
 * as plan->fd.  False when there is none. */
static bool open_error_page(const struct site *site, const char *key, struct fileserve_plan *plan,
                            char *body, size_t body_cap)
{
    struct stat st;
    int fd = open_beneath(site->root_fd, key + 1);

    if (fd < 0) {
        if (fd == -ENOENT)
            remember_absent(site, key, key + 1);
        return false;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return false;
    }
    plan->length = (uint64_t)st.st_size;
    if ((size_t)st.st_size <= body_cap &&
        load_small(site, key, key + 1, fd, &st, mime_lookup(site->mime, key, strlen(key)), body)) {
        close(fd);
        plan->data = body;
    } else {
        plan->fd = fd;
    }
    return true;
}

void fileserve_error_page(const struct site *site, struct fileserve_plan *plan, char *body,
                          size_t body_cap)
{
    char key[16] = "/000.html";
    struct fcache_hit hit;

    if (plan->status < 100 || plan->status > 999)
        return;
    key[1] = (char)('0' + plan->status / 100);
    key[2] = (char)('0' + plan->status / 10 % 10);
    key[3] = (char)('0' + plan->status % 10);
    if (body_cap > FCACHE_MAX_FILE)
        body_cap = FCACHE_MAX_FILE;
    switch (cache_lookup(site, key, body, body_cap, &hit)) {
    case HIT:
        plan->data = body;
        plan->length = (uint64_t)hit.st.st_size;
        break;
    case ABSENT:
        return;
    case MISS:
        if (!open_error_page(site, key, plan, body, body_cap))
            return;
        break;
    }
    plan->offset = 0;
    plan->size = plan->length;
    plan->content_type = "text/html";
}

int fileserve_site_watch_fd(const struct site *site)
{
    return site->watch != NULL ? fwatch_fd(site->watch) : -1;
}

static void changed(void *arg, int wd, const char *name)
{
    fcache_changed(arg, wd, name);
}

void fileserve_site_changes(struct site *site)
{
    if (site->watch != NULL && fwatch_read(site->watch, changed, site->cache) < 0) {
        log_err("reading inotify events: %s; emptying the cache", strerror(errno));
        fcache_changed(site->cache, -1, NULL);
    }
}

bool fileserve_site_busy(struct site *site)
{
    return site->watch != NULL && fwatch_busy(site->watch);
}

void fileserve_site_retire(struct site *site)
{
    fcache_retire(site->cache);
}
