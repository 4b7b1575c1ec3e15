/*
 * dirlist.c - an HTML listing of a directory without an index file.
 *
 * Design: the directory is read once with readdir; each visible entry is stat'ed
 * relative to the directory descriptor without following links (fstatat with
 * AT_SYMLINK_NOFOLLOW).  A symlink is resolved as fileserve.c resolves a request: with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from the document root, so a link whose
 * target leaves the root (or is missing, or is a magic link) is neither listed nor
 * followed; without openat2 (ENOSYS) symlinks are left out, as fileserve.c's fallback
 * follows none.  Names go into one arena and the entries into one array, then are sorted:
 * directories first, then by the bytes of the name (strcmp, not strcoll: the order does
 * not depend on the daemon's locale).  The page is written into a memfd, which the caller
 * sends like a file (sendfile, or pread over TLS), so its length is known up front.
 *
 * Bounds: at most DIRLIST_MAX_ENTRIES entries and DIRLIST_MAX_NAMES bytes of names are
 * collected (24 bytes per entry plus its name: under 19 MiB at the limits); further
 * entries are counted and reported in a line at the end of the page.  The page itself is
 * at most about 9 times the names plus 150 bytes per entry.  Everything is freed before
 * returning.  This runs on a pool worker like any request, so it holds one worker, not the
 * loop: 100 000 entries take 0.7 to 0.9 s to list on a loaded 2-core VM, nearly all of it
 * the one fstatat per entry (tests/integration/t_dirlist.sh reports the time).
 */
#include "config.h"

#include "dirlist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct entry {
    uint32_t name; /* offset in the arena; NUL-terminated */
    bool dir;
    uint64_t size;
    time_t mtime;
};

struct listing {
    char *names;
    size_t names_len, names_cap;
    struct entry *entries;
    size_t n, cap;
    size_t skipped; /* past the bounds */
};

/* Buffered output to the memfd. */
struct out {
    int fd;
    size_t len;
    int err; /* first write error, as errno */
    char buf[65536];
};

static void out_flush(struct out *o)
{
    size_t off = 0;

    while (o->err == 0 && off < o->len) {
        ssize_t n = write(o->fd, o->buf + off, o->len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            o->err = n < 0 ? errno : EIO;
            break;
        }
        off += (size_t)n;
    }
    o->len = 0;
}

static void out_mem(struct out *o, const char *p, size_t n)
{
    while (n > 0) {
        size_t room = sizeof o->buf - o->len, k = n < room ? n : room;

        memcpy(o->buf + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
        if (o->len == sizeof o->buf)
            out_flush(o);
    }
}

static void out_str(struct out *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

/* s escaped for HTML text and attribute values. */
static void out_html(struct out *o, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            out_str(o, "&amp;");
            break;
        case '<':
            out_str(o, "&lt;");
            break;
        case '>':
            out_str(o, "&gt;");
            break;
        case '"':
            out_str(o, "&quot;");
            break;
        case '\'':
            out_str(o, "&#39;");
            break;
        default:
            out_mem(o, s, 1);
        }
    }
}

/* s percent-encoded for a relative URL path segment: everything but RFC 3986's
 * unreserved characters, so neither ':' (a scheme), '?', '#', '%' nor '/' keeps a
 * meaning, and the result needs no HTML escaping. */
static void out_url(struct out *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out_mem(o, s, 1);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            out_mem(o, e, 3);
        }
    }
}

/* What a symlink name in the directory path leads to, resolved below root_fd as a request
 * would be; false when it leaves the root, is missing, or openat2 is unavailable. */
static bool resolve_link(int root_fd, const char *path, const char *name, struct stat *st)
{
    char rel[PATH_MAX];
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    int n = snprintf(rel, sizeof rel, "%s%s", path[1] ? path + 1 : "", name);
    long fd;

    if (n < 0 || (size_t)n >= sizeof rel)
        return false;
    do
        fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return false;
    bool ok = fstat((int)fd, st) == 0;
    close((int)fd);
    return ok;
}

/* Add name with its stat; false when a bound or memory stops the collection. */
static bool add_entry(struct listing *l, const char *name, const struct stat *st)
{
    size_t len = strlen(name) + 1;

    if (l->n == DIRLIST_MAX_ENTRIES || l->names_len + len > DIRLIST_MAX_NAMES)
        return false;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        struct entry *e;

        if (cap > DIRLIST_MAX_ENTRIES)
            cap = DIRLIST_MAX_ENTRIES;
        if ((e = realloc(l->entries, cap * sizeof *e)) == NULL)
            return false;
        l->entries = e;
        l->cap = cap;
    }
    if (l->names_len + len > l->names_cap) {
        size_t cap = l->names_cap ? 2 * l->names_cap : 8192;
        char *p;

        while (cap < l->names_len + len)
            cap *= 2;
        if (cap > DIRLIST_MAX_NAMES)
            cap = DIRLIST_MAX_NAMES;
        if ((p = realloc(l->names, cap)) == NULL)
            return false;
        l->names = p;
        l->names_cap = cap;
    }
    memcpy(l->names + l->names_len, name, len);
    l->entries[l->n++] = (struct entry){
        .name = (uint32_t)l->names_len,
        .dir = S_ISDIR(st->st_mode),
        .size = (uint64_t)st->st_size,
        .mtime = st->st_mtim.tv_sec,
    };
    l->names_len += len;
    return true;
}

/* Read the directory into l.  0 or -errno. */
static int collect(int root_fd, int dirfd, const char *path, struct listing *l)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d;
    struct dirent *de;

    if (fd < 0)
        return -errno;
    if ((d = fdopendir(fd)) == NULL) {
        int e = errno;
        close(fd);
        return -e;
    }
    for (;;) {
        struct stat st;

        errno = 0;
        if ((de = readdir(d)) == NULL)
            break;
        if (de->d_name[0] == '.')
            continue; /* hidden, like everywhere else; and "." and ".." */
        if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* gone meanwhile */
        if (S_ISLNK(st.st_mode) && !resolve_link(root_fd, path, de->d_name, &st))
            continue;
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
            continue;
        if (l->skipped > 0 || !add_entry(l, de->d_name, &st))
            l->skipped++;
    }
    int e = errno;
    closedir(d);
    if (e != 0)
        log_warn("reading directory %s: %s; listing what was read", path, strerror(e));
    return 0;
}

static int compare(const void *a, const void *b, void *arg)
{
    const struct entry *x = a, *y = b;
    const char *names = arg;

    if (x->dir != y->dir)
        return x->dir ? -1 : 1;
    return strcmp(names + x->name, names + y->name);
}

static void write_page(struct out *o, const struct listing *l, const char *path)
{
    char line[128];

    out_str(o, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
    out_html(o, path);
    out_str(o, "</title></head>\n<body><h1>Index of ");
    out_html(o, path);
    out_str(o, "</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr>\n");
    if (path[1] != '\0')
        out_str(o, "<tr><td><a href=\"../\">../</a></td><td>-</td><td></td></tr>\n");
    for (size_t i = 0; i < l->n; i++) {
        const struct entry *e = &l->entries[i];
        const char *name = l->names + e->name;
        struct tm tm;

        out_str(o, "<tr><td><a href=\"");
        out_url(o, name);
        out_str(o, e->dir ? "/\">" : "\">");
        out_html(o, name);
        out_str(o, e->dir ? "/</a></td><td>-</td><td>" : "</a></td><td>");
        if (!e->dir) {
            snprintf(line, sizeof line, "%" PRIu64 "</td><td>", e->size);
            out_str(o, line);
        }
        if (gmtime_r(&e->mtime, &tm) != NULL && strftime(line, sizeof line, "%Y-%m-%d %H:%M", &tm))
            out_str(o, line);
        out_str(o, "</td></tr>\n");
    }
    out_str(o, "</table>\n");
    if (l->skipped > 0) {
        snprintf(line, sizeof line, "<p>%zu more entries not listed.</p>\n", l->skipped);
        out_str(o, line);
    }
    out_str(o, "</body></html>\n");
}

int dirlist_build(int root_fd, int dirfd, const char *path, uint64_t *size)
{
    struct listing l = { 0 };
    struct out *o = NULL;
    struct stat st;
    int fd = -1, r;

    if ((r = collect(root_fd, dirfd, path, &l)) < 0)
        goto done;
    if (l.n > 1) /* an empty directory has no array at all */
        qsort_r(l.entries, l.n, sizeof l.entries[0], compare, l.names);
    if ((o = malloc(sizeof *o)) == NULL) {
        r = -ENOMEM;
        goto done;
    }
    if ((fd = memfd_create("tinyhttpd-dirlist", MFD_CLOEXEC)) < 0) {
        r = -errno;
        log_err("memfd_create for the listing of %s: %s", path, strerror(errno));
        goto done;
    }
    o->fd = fd;
    o->len = 0;
    o->err = 0;
    write_page(o, &l, path);
    out_flush(o);
    if (o->err != 0 || fstat(fd, &st) < 0) {
        r = -(o->err ? o->err : errno);
        log_err("writing the listing of %s: %s", path, strerror(-r));
        goto done;
    }
    *size = (uint64_t)st.st_size;
    r = fd;
    fd = -1;
done:
    if (fd >= 0)
        close(fd);
    free(o);
    free(l.names);
    free(l.entries);
    return r;
}
