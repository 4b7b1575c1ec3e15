/*
 * mime.c - map file names to media types.
 *
 * This module owns the extension -> media type table: a built-in one for the common web
 * types, and a merged one built by mime_new() from the built-in entries plus a mime.types
 * file (Debian's media-types package installs /etc/mime.types).  The file wins for every
 * extension it names, and within the file a later line wins over an earlier one; the
 * built-in entries only fill the gaps.
 *
 * A struct mime is two allocations besides itself: the file's bytes, tokenised in place
 * into NUL-terminated, lowercased strings (the arena), and one array of entries sorted by
 * extension with no duplicates.  After mime_new() returns nothing is written again, so
 * mime_lookup() and mime_count() are safe from any number of threads; mime_lookup() is a
 * bsearch() that allocates nothing.  mime_new() and mime_free() are for one thread (start-up
 * and shutdown).  mime_lookup(NULL, ...) and mime_count(NULL) use the built-in table alone.
 *
 * Invariant of the built-in table: strictly sorted by strcmp() on lowercase extensions (so
 * no duplicates).  mime_new() checks it and abort()s on a violation, which is a programming
 * error that tests/test_mime.c catches.
 */
#include "mime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A mime.types file larger than this is refused (EFBIG); Debian's is about 74 KiB. */
#define MIME_FILE_MAX (16u * 1024 * 1024)

struct mime_entry {
    const char *ext; /* lowercase, NUL-terminated */
    const char *type;
    size_t seq; /* while building: 0 built-in, then file order; later wins */
};

struct mime {
    struct mime_entry *entries;
    size_t count;
    char *arena; /* the file's bytes, tokenised in place; NULL without a file */
};

#define E(x, t)                 \
    {                           \
        .ext = (x), .type = (t) \
    }

/* Sorted by extension (strcmp), lowercase, no duplicates. */
static const struct mime_entry builtin[] = {
    E("7z", "application/x-7z-compressed"),
    E("aac", "audio/aac"),
    E("apng", "image/apng"),
    E("appcache", "text/cache-manifest"),
    E("atom", "application/atom+xml"),
    E("avi", "video/x-msvideo"),
    E("avif", "image/avif"),
    E("bmp", "image/bmp"),
    E("bz2", "application/x-bzip2"),
    E("css", "text/css"),
    E("csv", "text/csv"),
    E("eot", "application/vnd.ms-fontobject"),
    E("epub", "application/epub+zip"),
    E("flac", "audio/flac"),
    E("gif", "image/gif"),
    E("gz", "application/gzip"),
    E("heic", "image/heic"),
    E("htm", "text/html"),
    E("html", "text/html"),
    E("ico", "image/vnd.microsoft.icon"),
    E("ics", "text/calendar"),
    E("jpeg", "image/jpeg"),
    E("jpg", "image/jpeg"),
    E("js", "text/javascript"),
    E("json", "application/json"),
    E("jsonld", "application/ld+json"),
    E("jxl", "image/jxl"),
    E("m4a", "audio/mp4"),
    E("manifest", "text/cache-manifest"),
    E("map", "application/json"),
    E("md", "text/markdown"),
    E("mjs", "text/javascript"),
    E("mov", "video/quicktime"),
    E("mp3", "audio/mpeg"),
    E("mp4", "video/mp4"),
    E("mpeg", "video/mpeg"),
    E("mpg", "video/mpeg"),
    E("oga", "audio/ogg"),
    E("ogg", "audio/ogg"),
    E("ogv", "video/ogg"),
    E("opus", "audio/ogg"),
    E("otf", "font/otf"),
    E("pdf", "application/pdf"),
    E("png", "image/png"),
    E("rss", "application/rss+xml"),
    E("rtf", "application/rtf"),
    E("svg", "image/svg+xml"),
    E("tar", "application/x-tar"),
    E("tif", "image/tiff"),
    E("tiff", "image/tiff"),
    E("toml", "application/toml"),
    E("ttf", "font/ttf"),
    E("txt", "text/plain"),
    E("vcf", "text/vcard"),
    E("wasm", "application/wasm"),
    E("wav", "audio/wav"),
    E("webm", "video/webm"),
    E("webmanifest", "application/manifest+json"),
    E("webp", "image/webp"),
    E("woff", "font/woff"),
    E("woff2", "font/woff2"),
    E("xhtml", "application/xhtml+xml"),
    E("xml", "application/xml"),
    E("xz", "application/x-xz"),
    E("yaml", "application/yaml"),
    E("yml", "application/yaml"),
    E("zip", "application/zip"),
    E("zst", "application/zstd"),
};

#undef E

#define BUILTIN_COUNT (sizeof(builtin) / sizeof(builtin[0]))

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* RFC 9110 tchar */
static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A media type is token "/" token (RFC 9110 8.3.1), so it is safe in a header. */
static bool valid_type(const char *s, size_t len)
{
    size_t slash = 0, i;

    for (i = 0; i < len; i++) {
        if (s[i] == '/') {
            if (slash != 0 || i == 0)
                return false;
            slash = i;
        } else if (!is_tchar(s[i])) {
            return false;
        }
    }
    return slash != 0 && slash + 1 < len;
}

/* An extension is a token without '.', since lookups take what follows the last '.'. */
static bool valid_ext(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' || !is_tchar(s[i]))
            return false;
    }
    return true;
}

/*
 * Parse mime.types text buf[0..len), where buf[len] is writable.  With ents == NULL, only
 * count the extensions.  Otherwise also store them in ents[] (seq from 1 in file order),
 * NUL-terminating every used token in place and lowercasing the extensions.  Returns the
 * number of extensions.  Lines are "type ext ext ..."; '#' starts a comment to the end of
 * the line; a line whose type is not a valid media type is skipped whole.
 */
static size_t parse_types(char *buf, size_t len, struct mime_entry *ents)
{
    size_t i = 0, n = 0;

    while (i < len) {
        const char *type = NULL;
        bool skip_line = false;

        for (;;) {
            size_t start;
            char stop;

            while (i < len && buf[i] != '\n' && is_space(buf[i]))
                i++;
            if (i == len)
                break;
            if (buf[i] == '\n') {
                i++;
                break;
            }
            if (buf[i] == '#' || skip_line) {
                while (i < len && buf[i] != '\n')
                    i++;
                continue;
            }
            start = i;
            while (i < len && !is_space(buf[i]) && buf[i] != '#')
                i++;
            stop = i < len ? buf[i] : '\n';
            if (type == NULL) {
                if (!valid_type(buf + start, i - start)) {
                    skip_line = true;
                    continue;
                }
                type = buf + start;
            } else if (valid_ext(buf + start, i - start)) {
                if (ents != NULL) {
                    for (size_t k = start; k < i; k++)
                        buf[k] = ascii_lower(buf[k]);
                    ents[n].ext = buf + start;
                    ents[n].type = type;
                    ents[n].seq = n + 1;
                }
                n++;
            }
            /* Terminate the token; stop says what the overwritten byte was. */
            if (ents != NULL)
                buf[i] = '\0';
            if (stop == '\n') {
                if (i < len)
                    i++;
                break;
            }
            i++;
            if (stop == '#') {
                while (i < len && buf[i] != '\n')
                    i++;
            }
        }
    }
    return n;
}

/* Read the whole file at path into a new buffer with one spare byte; returns 0 or errno. */
static int read_file(const char *path, char **buf, size_t *len)
{
    char *data = NULL;
    size_t cap = 0, n = 0;
    int fd, e = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    for (;;) {
        ssize_t r;

        if (cap - n < 2) {
            size_t ncap = cap == 0 ? 65536 : cap * 2;
            char *p;

            if (cap >= MIME_FILE_MAX) {
                e = EFBIG;
                break;
            }
            p = realloc(data, ncap);
            if (p == NULL) {
                e = ENOMEM;
                break;
            }
            data = p;
            cap = ncap;
        }
        r = read(fd, data + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (e != 0) {
        free(data);
        return e;
    }
    data[n] = '\0'; /* the loop allocated before its first read */
    *buf = data;
    *len = n;
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct mime_entry *x = a, *y = b;
    int c = strcmp(x->ext, y->ext);

    if (c != 0)
        return c;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static void check_builtin(void)
{
    for (size_t i = 0; i < BUILTIN_COUNT; i++) {
        for (const char *p = builtin[i].ext; *p != '\0'; p++) {
            if (ascii_lower(*p) != *p)
                abort();
        }
        if (i > 0 && strcmp(builtin[i - 1].ext, builtin[i].ext) >= 0)
            abort();
    }
}

struct mime *mime_new(const char *path, int *file_errno)
{
    struct mime *m;
    char *text = NULL;
    size_t text_len = 0, nfile = 0, n;
    int e = 0;

    check_builtin();
    if (file_errno != NULL)
        *file_errno = 0;
    if (path != NULL) {
        e = read_file(path, &text, &text_len);
        if (e == ENOMEM) {
            errno = ENOMEM;
            return NULL;
        }
        if (e != 0) {
            if (file_errno != NULL)
                *file_errno = e;
            text = NULL;
        } else {
            nfile = parse_types(text, text_len, NULL);
        }
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto fail;
    m->entries = calloc(BUILTIN_COUNT + nfile, sizeof(*m->entries));
    if (m->entries == NULL)
        goto fail;
    m->arena = text;
    memcpy(m->entries, builtin, sizeof(builtin));
    if (nfile > 0)
        parse_types(text, text_len, m->entries + BUILTIN_COUNT);
    n = BUILTIN_COUNT + nfile;
    qsort(m->entries, n, sizeof(*m->entries), entry_cmp);
    /* Keep the last (highest seq) entry of every run of equal extensions. */
    m->count = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && strcmp(m->entries[i].ext, m->entries[i + 1].ext) == 0)
            continue;
        m->entries[m->count++] = m->entries[i];
    }
    return m;

fail:
    if (m != NULL)
        free(m->entries);
    free(m);
    free(text);
    errno = ENOMEM;
    return NULL;
}

void mime_free(struct mime *m)
{
    if (m == NULL)
        return;
    free(m->entries);
    free(m->arena);
    free(m);
}

struct ext_key {
    const char *s;
    size_t len;
};

/* Compare the key (any case) with an entry's lowercase extension. */
static int key_cmp(const void *k, const void *e)
{
    const struct ext_key *key = k;
    const unsigned char *ext = (const unsigned char *)((const struct mime_entry *)e)->ext;
    size_t i;

    for (i = 0; i < key->len; i++) {
        unsigned char c = (unsigned char)ascii_lower(key->s[i]);

        if (ext[i] == '\0')
            return 1;
        if (c != ext[i])
            return c < ext[i] ? -1 : 1;
    }
    return ext[i] == '\0' ? 0 : -1;
}

const char *mime_lookup(const struct mime *m, const char *name, size_t len)
{
    const struct mime_entry *entries = m != NULL ? m->entries : builtin, *hit;
    size_t count = m != NULL ? m->count : BUILTIN_COUNT;
    struct ext_key key;
    size_t seg = len, dot = len;

    if (name == NULL)
        return MIME_DEFAULT_TYPE;
    /* The last segment is name[seg..len); its last '.' is at dot. */
    while (seg > 0 && name[seg - 1] != '/')
        seg--;
    for (size_t i = len; i > seg; i--) {
        if (name[i - 1] == '.') {
            dot = i - 1;
            break;
        }
    }
    if (dot == len || dot == seg || dot + 1 == len)
        return MIME_DEFAULT_TYPE;
    key.s = name + dot + 1;
    key.len = len - dot - 1;
    hit = bsearch(&key, entries, count, sizeof(*entries), key_cmp);
    return hit != NULL ? hit->type : MIME_DEFAULT_TYPE;
}

size_t mime_count(const struct mime *m)
{
    return m != NULL ? m->count : BUILTIN_COUNT;
}
