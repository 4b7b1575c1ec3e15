/*
 * test_fcache.c - unit tests for the small-file cache (src/fcache.c).
 *
 * Almost every test runs without inotify (fw NULL): watch descriptors are
 * made-up numbers, and fcache_changed is called by hand the way the event
 * loop would call it.  That covers storing and looking up present and
 * absent entries, replacement, LRU eviction by entries and by bytes,
 * dropping, the generation that refuses stale puts, which entries a change
 * to a directory or file watch drops, and retiring.  The last test uses a
 * real fwatch on a temporary directory and reads /proc/self/fdinfo to see
 * that the watches of every entry that goes are removed from the kernel.
 */
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fcache.h"
#include "fwatch.h"
#include "test.h"

static const char TYPE_HTML[] = "text/html";
static const char TYPE_TEXT[] = "text/plain";

/* A stat that looks like a regular file of len bytes, told apart by ino. */
static struct stat fake_stat(ino_t ino, size_t len)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_ino = ino;
    st.st_dev = 7;
    st.st_mode = S_IFREG | 0644;
    st.st_size = (off_t)len;
    st.st_mtim.tv_sec = 1700000000;
    st.st_mtim.tv_nsec = 123456789;
    return st;
}

/* Cache the text data under key (rel is the key without its leading '/'). */
static void put_file(struct fcache *fc, const char *key, const char *data, const int *wds,
                     unsigned nwds, uint64_t gen)
{
    struct stat st = fake_stat(1000 + strlen(key), strlen(data));
    fcache_put(fc, key, key + 1, &st, TYPE_TEXT, data, strlen(data), wds, nwds, gen);
}

static void put_absent(struct fcache *fc, const char *key, const int *wds, unsigned nwds)
{
    fcache_put(fc, key, key + 1, NULL, NULL, NULL, 0, wds, nwds, fcache_generation(fc));
}

/* Whether key is cached. */
static bool cached(struct fcache *fc, const char *key)
{
    char buf[FCACHE_MAX_FILE];
    struct fcache_hit hit;
    return fcache_get(fc, key, buf, sizeof buf, &hit) >= 0;
}

/* ------------------------------------------------------------ store and look up */

static void test_put_get(void)
{
    static const int wds[] = { 1, 2, 3 };
    char buf[FCACHE_MAX_FILE], data[] = "<p>hello</p>";
    struct fcache_hit hit;
    struct stat st = fake_stat(42, strlen(data));
    struct fcache *fc = fcache_new(16, 1 << 20, NULL);

    CHECK(fc != NULL);
    if (fc == NULL)
        return;
    CHECK_INT(fcache_get(fc, "/a/index.html", buf, sizeof buf, &hit), -1);

    /* A checked entry (no watches). */
    fcache_put(fc, "/a/", "a/index.html", &st, TYPE_HTML, data, strlen(data), NULL, 0,
               fcache_generation(fc));
    memset(data, 'X', strlen(data)); /* the cache keeps its own copy */
    memset(&hit, 0xff, sizeof hit);
    ssize_t n = fcache_get(fc, "/a/", buf, sizeof buf, &hit);
    CHECK_INT(n, strlen("<p>hello</p>"));
    CHECK_MEM(buf, n > 0 ? (size_t)n : 0, "<p>hello</p>");
    CHECK_STR(hit.rel, "a/index.html");
    CHECK_INT(hit.st.st_ino, 42);
    CHECK_INT(hit.st.st_dev, 7);
    CHECK_INT(hit.st.st_size, strlen("<p>hello</p>"));
    CHECK_INT(hit.st.st_mtim.tv_nsec, 123456789);
    CHECK(hit.content_type == TYPE_HTML);
    CHECK(!hit.absent);
    CHECK(!hit.watched);

    /* Keys are matched exactly. */
    CHECK_INT(fcache_get(fc, "/a", buf, sizeof buf, &hit), -1);
    CHECK_INT(fcache_get(fc, "/a/index.html", buf, sizeof buf, &hit), -1);

    /* A watched entry. */
    put_file(fc, "/b.txt", "bee", wds, 3, fcache_generation(fc));
    memset(&hit, 0, sizeof hit);
    n = fcache_get(fc, "/b.txt", buf, sizeof buf, &hit);
    CHECK_INT(n, 3);
    CHECK_MEM(buf, n > 0 ? (size_t)n : 0, "bee");
    CHECK_STR(hit.rel, "b.txt");
    CHECK(hit.content_type == TYPE_TEXT);
    CHECK(!hit.absent);
    CHECK(hit.watched);

    /* An empty file is a hit of length 0, and not absent. */
    put_file(fc, "/empty", "", NULL, 0, fcache_generation(fc));
    memset(&hit, 0, sizeof hit);
    CHECK_INT(fcache_get(fc, "/empty", buf, sizeof buf, &hit), 0);
    CHECK(!hit.absent);
    CHECK_STR(hit.rel, "empty");

    /* The largest file that fits, and one byte more (refused). */
    char *big = malloc(FCACHE_MAX_FILE + 1);
    CHECK(big != NULL);
    if (big != NULL) {
        memset(big, 'z', FCACHE_MAX_FILE + 1);
        st = fake_stat(43, FCACHE_MAX_FILE);
        fcache_put(fc, "/max", "max", &st, TYPE_TEXT, big, FCACHE_MAX_FILE, NULL, 0,
                   fcache_generation(fc));
        fcache_put(fc, "/over", "over", &st, TYPE_TEXT, big, FCACHE_MAX_FILE + 1, NULL, 0,
                   fcache_generation(fc));
        memset(buf, 0, sizeof buf);
        CHECK_INT(fcache_get(fc, "/max", buf, sizeof buf, &hit), FCACHE_MAX_FILE);
        CHECK(buf[0] == 'z' && buf[FCACHE_MAX_FILE - 1] == 'z');
        CHECK(!cached(fc, "/over"));
        free(big);
    }

    /* At most FWATCH_MAX_DEPTH watches. */
    int many[FWATCH_MAX_DEPTH + 1];
    for (int i = 0; i <= FWATCH_MAX_DEPTH; i++)
        many[i] = 100 + i;
    put_file(fc, "/deep", "d", many, FWATCH_MAX_DEPTH, fcache_generation(fc));
    put_file(fc, "/deeper", "d", many, FWATCH_MAX_DEPTH + 1, fcache_generation(fc));
    CHECK(cached(fc, "/deep"));
    CHECK(!cached(fc, "/deeper"));

    fcache_free(fc);
    fcache_free(NULL);
}

static void test_absent(void)
{
    static const int wds[] = { 1, 2 };
    char buf[16];
    struct fcache_hit hit;
    struct fcache *fc = fcache_new(16, 1024, NULL);

    CHECK(fc != NULL);
    if (fc == NULL)
        return;
    put_absent(fc, "/d/missing.html", wds, 2);
    memset(&hit, 0, sizeof hit);
    CHECK_INT(fcache_get(fc, "/d/missing.html", buf, sizeof buf, &hit), 0);
    CHECK(hit.absent);
    CHECK(hit.watched);
    CHECK_STR(hit.rel, "d/missing.html");

    /* An absent entry must be watched: without watches it is not stored. */
    put_absent(fc, "/e/missing.html", NULL, 0);
    CHECK(!cached(fc, "/e/missing.html"));

    /* The file appears: a present entry replaces the absent one. */
    put_file(fc, "/d/missing.html", "now here", wds, 2, fcache_generation(fc));
    memset(&hit, 0, sizeof hit);
    CHECK_INT(fcache_get(fc, "/d/missing.html", buf, sizeof buf, &hit), 8);
    CHECK(!hit.absent);

    /* And the other way round. */
    put_absent(fc, "/d/missing.html", wds, 2);
    memset(&hit, 0, sizeof hit);
    CHECK_INT(fcache_get(fc, "/d/missing.html", buf, sizeof buf, &hit), 0);
    CHECK(hit.absent);
    fcache_free(fc);
}

static void test_replace(void)
{
    char buf[64];
    struct fcache_hit hit;
    struct fcache *fc = fcache_new(2, 10, NULL);

    CHECK(fc != NULL);
    if (fc == NULL)
        return;
    put_file(fc, "/a", "one", NULL, 0, 0);
    put_file(fc, "/b", "bb", NULL, 0, 0);
    put_file(fc, "/a", "two!", NULL, 0, 0);
    ssize_t n = fcache_get(fc, "/a", buf, sizeof buf, &hit);
    CHECK_INT(n, 4);
    CHECK_MEM(buf, n > 0 ? (size_t)n : 0, "two!");
    CHECK_INT(hit.st.st_size, 4);
    /* Replacing took no room from the other entry (2 entries at most). */
    CHECK(cached(fc, "/b"));

    /* The bytes of the replaced content are given back: 2 + 8 = 10 fit. */
    put_file(fc, "/a", "xxxxxx", NULL, 0, 0);
    put_file(fc, "/a", "yy", NULL, 0, 0);
    put_file(fc, "/b", "zzzzzzzz", NULL, 0, 0);
    CHECK(cached(fc, "/a"));
    CHECK(cached(fc, "/b"));
    fcache_free(fc);
}

/* ------------------------------------------------------------ eviction */

static void test_lru_entries(void)
{
    struct fcache *fc = fcache_new(3, 1 << 20, NULL);

    CHECK(fc != NULL);
    if (fc == NULL)
        return;
    put_file(fc, "/a", "a", NULL, 0, 0);
    put_file(fc, "/b", "b", NULL, 0, 0);
    put_file(fc, "/c", "c", NULL, 0, 0);
    CHECK(cached(fc, "/a")); /* a is now the most recently used, b the least */
    put_file(fc, "/d", "d", NULL, 0, 0);
    CHECK(!cached(fc, "/b"));
    CHECK(cached(fc, "/c"));
    CHECK(cached(fc, "/a"));
    CHECK(cached(fc, "/d"));
    /* Order of use now: d, a, c (c least recent). */
    put_file(fc, "/e", "e", NULL, 0, 0);
    CHECK(!cached(fc, "/c"));
    CHECK(cached(fc, "/a"));
    CHECK(cached(fc, "/d"));
    CHECK(cached(fc, "/e"));
    fcache_free(fc);

    /* No entries at all. */
    fc = fcache_new(0, 1 << 20, NULL);
    CHECK(fc != NULL);
    if (fc == NULL)
        return;
    put_file(fc, "/a", "a", NULL, 0, 0);
    CHECK(!cached(fc, "/a"));
    fcache_free(fc);
}

static void test_lru_bytes(void)
{
    struct fcache *fc = fcache_new(100, 10, NULL);

    CHECK(fc != NULL);
    if (fc == NULL)
        return;
    put_file(fc, "/a", "aaaa", NULL, 0, 0);
    put_file(fc, "/b", "bbbb", NULL, 0, 0);
    CHECK(cached(fc, "/a"));                /* b is now the least recently used */
    put_file(fc, "/c", "cccc", NULL, 0, 0); /* 12 > 10: one must go */
    CHECK(!cached(fc, "/b"));
    CHECK(cached(fc, "/a"));
    CHECK(cached(fc, "/c"));
    put_file(fc, "/e", "", NULL, 0, 0); /* empty: takes no bytes */
    CHECK(cached(fc, "/a"));
    CHECK(cached(fc, "/c"));
    CHECK(cached(fc, "/e"));
    /* Exactly the bound: a and c (the least recent) go; e takes no room and stays. */
    put_file(fc, "/d", "dddddddddd", NULL, 0, 0);
    CHECK(cached(fc, "/d"));
    CHECK(!cached(fc, "/a"));
    CHECK(!cached(fc, "/c"));
    CHECK(cached(fc, "/e"));
    put_file(fc, "/f", "fffffffffff", NULL, 0, 0); /* larger than the cache: refused */
    CHECK(!cached(fc, "/f"));
    CHECK(cached(fc, "/d")); /* and nothing was evicted for it */
    fcache_free(fc);
}

static void test_drop(void)
{
    static const int wds[] = { 1, 2 };
    struct fcache *fc = fcache_new(16, 1024, NULL);

    CHECK(fc != NULL);
    if (fc == NULL)
        return;
    put_file(fc, "/a", "a", NULL, 0, 0);
    put_file(fc, "/b", "b", wds, 2, fcache_generation(fc));
    fcache_drop(fc, "/a");
    CHECK(!cached(fc, "/a"));
    CHECK(cached(fc, "/b"));
    fcache_drop(fc, "/a"); /* not there: nothing happens */
    fcache_drop(fc, "/nope");
    CHECK(cached(fc, "/b"));
    fcache_drop(fc, "/b");
    CHECK(!cached(fc, "/b"));
    put_file(fc, "/a", "again", NULL, 0, 0);
    CHECK(cached(fc, "/a"));
    fcache_free(fc);
}

/* ------------------------------------------------------------ generations */

static void test_generation(void)
{
    static const int wds[] = { 1, 2 };
    struct fcache *fc = fcache_new(16, 1024, NULL);

    CHECK(fc != NULL);
    if (fc == NULL)
        return;
    uint64_t g0 = fcache_generation(fc);
    CHECK_INT(fcache_generation(fc), g0); /* reading it changes nothing */
    fcache_changed(fc, 99, NULL);         /* nothing depends on 99: it still counts */
    uint64_t g1 = fcache_generation(fc);
    CHECK(g1 == g0 + 1);
    fcache_changed(fc, 99, "name");
    CHECK(fcache_generation(fc) == g1 + 1);

    /* Watches taken before a change may have missed it. */
    put_file(fc, "/stale", "s", wds, 2, g0);
    CHECK(!cached(fc, "/stale"));
    put_file(fc, "/stale", "s", wds, 2, g1);
    CHECK(!cached(fc, "/stale"));
    put_file(fc, "/fresh", "f", wds, 2, fcache_generation(fc));
    CHECK(cached(fc, "/fresh"));
    fcache_free(fc);
}

/* ------------------------------------------------------------ what a change drops */

/*
 * x: a/x.html, watches {root 1, dir a 2, file 3}
 * y: b/y.html, watches {root 1, dir b 4, file 5}
 * m: d/missing.html (absent), watches {root 1, dir d 6}
 * c: c.html, checked (no watches)
 */
static struct fcache *fixture(void)
{
    static const int x[] = { 1, 2, 3 }, y[] = { 1, 4, 5 }, m[] = { 1, 6 };
    struct fcache *fc = fcache_new(16, 1024, NULL);

    if (fc == NULL)
        return NULL;
    put_file(fc, "/a/x.html", "x", x, 3, fcache_generation(fc));
    put_file(fc, "/b/y.html", "y", y, 3, fcache_generation(fc));
    put_absent(fc, "/d/missing.html", m, 2);
    put_file(fc, "/c.html", "c", NULL, 0, fcache_generation(fc));
    return fc;
}

/* After fcache_changed(wd, name) on a fresh fixture, which of x, y, m, c remain. */
#define CHANGED(wd, name, want_x, want_y, want_m, want_c)    \
    do {                                                     \
        struct fcache *fc_ = fixture();                      \
        CHECK(fc_ != NULL);                                  \
        if (fc_ == NULL)                                     \
            break;                                           \
        fcache_changed(fc_, (wd), (name));                   \
        CHECK_INT(cached(fc_, "/a/x.html"), (want_x));       \
        CHECK_INT(cached(fc_, "/b/y.html"), (want_y));       \
        CHECK_INT(cached(fc_, "/d/missing.html"), (want_m)); \
        CHECK_INT(cached(fc_, "/c.html"), (want_c));         \
        fcache_free(fc_);                                    \
    } while (0)

static void test_changed(void)
{
    /* Nothing depends on the watch. */
    CHANGED(77, NULL, 1, 1, 1, 1);
    CHANGED(77, "a", 1, 1, 1, 1);

    /* The root itself changed: everything watched goes, the checked entry stays. */
    CHANGED(1, NULL, 0, 0, 0, 1);
    /* A name in the root: only what lies below that name. */
    CHANGED(1, "a", 0, 1, 1, 1);
    CHANGED(1, "b", 1, 0, 1, 1);
    CHANGED(1, "d", 1, 1, 0, 1);
    CHANGED(1, "c.html", 1, 1, 1, 1);
    CHANGED(1, "x.html", 1, 1, 1, 1); /* a name at another depth */
    CHANGED(1, "ab", 1, 1, 1, 1);     /* whole segments only */
    CHANGED(1, "a/x.html", 1, 1, 1, 1);

    /* Directory a (watch 2). */
    CHANGED(2, NULL, 0, 1, 1, 1);
    CHANGED(2, "x.html", 0, 1, 1, 1);
    CHANGED(2, "x.htm", 1, 1, 1, 1);
    CHANGED(2, "x.html.swp", 1, 1, 1, 1);
    CHANGED(2, "a", 1, 1, 1, 1); /* the name of a's own segment, not one in a */
    CHANGED(2, "y.html", 1, 1, 1, 1);

    /* The file x.html (watch 3, its last): any event. */
    CHANGED(3, NULL, 0, 1, 1, 1);
    CHANGED(3, "anything", 0, 1, 1, 1);
    CHANGED(5, NULL, 1, 0, 1, 1);

    /* The directory of the missing name (watch 6, the absent entry's last). */
    CHANGED(6, "missing.html", 1, 1, 0, 1);
    CHANGED(6, "other", 1, 1, 1, 1);
    CHANGED(6, NULL, 1, 1, 0, 1);

    /* Lost events: everything goes, checked entries too. */
    CHANGED(-1, NULL, 0, 0, 0, 0);
}

/* Absent entries whose walk stopped above the last segment, and a file in the root. */
static void test_changed_short(void)
{
    static const int mid[] = { 1, 2 }, top[] = { 1 }, root_file[] = { 1, 9 };
    struct fcache *fc = fcache_new(16, 1024, NULL);

    CHECK(fc != NULL);
    if (fc == NULL)
        return;
    /* a/nodir/x.html where a/nodir does not exist: watches {root, a}. */
    put_absent(fc, "/a/nodir/x.html", mid, 2);
    fcache_changed(fc, 2, "x.html");
    CHECK(cached(fc, "/a/nodir/x.html"));
    fcache_changed(fc, 1, "nodir");
    CHECK(cached(fc, "/a/nodir/x.html"));
    fcache_changed(fc, 2, "nodir");
    CHECK(!cached(fc, "/a/nodir/x.html"));

    /* nope/x.html where nope does not exist: the root alone. */
    put_absent(fc, "/nope/x.html", top, 1);
    CHECK(cached(fc, "/nope/x.html"));
    fcache_changed(fc, 1, "x.html");
    CHECK(cached(fc, "/nope/x.html"));
    fcache_changed(fc, 1, "nope");
    CHECK(!cached(fc, "/nope/x.html"));

    /* index.html in the root: {root, file}. */
    put_file(fc, "/index.html", "i", root_file, 2, fcache_generation(fc));
    fcache_changed(fc, 1, "other.html");
    CHECK(cached(fc, "/index.html"));
    fcache_changed(fc, 1, "index.html");
    CHECK(!cached(fc, "/index.html"));
    put_file(fc, "/index.html", "i", root_file, 2, fcache_generation(fc));
    fcache_changed(fc, 9, "whatever");
    CHECK(!cached(fc, "/index.html"));
    fcache_free(fc);
}

/* ------------------------------------------------------------ retiring */

static void test_retire(void)
{
    static const int wds[] = { 1, 2 };
    struct fcache *fc = fcache_new(16, 1024, NULL);

    CHECK(fc != NULL);
    if (fc == NULL)
        return;
    put_file(fc, "/a", "a", wds, 2, fcache_generation(fc));
    put_file(fc, "/b", "b", NULL, 0, 0);
    put_absent(fc, "/c", wds, 2);
    CHECK(cached(fc, "/a") && cached(fc, "/b") && cached(fc, "/c"));
    uint64_t g = fcache_generation(fc);
    fcache_retire(fc);
    CHECK(fcache_generation(fc) != g);
    CHECK(!cached(fc, "/a"));
    CHECK(!cached(fc, "/b"));
    CHECK(!cached(fc, "/c"));
    /* Nothing more is stored, watched or not, with a current generation. */
    put_file(fc, "/a", "a", wds, 2, fcache_generation(fc));
    put_file(fc, "/b", "b", NULL, 0, fcache_generation(fc));
    put_absent(fc, "/c", wds, 2);
    CHECK(!cached(fc, "/a"));
    CHECK(!cached(fc, "/b"));
    CHECK(!cached(fc, "/c"));
    fcache_retire(fc); /* twice is fine */
    fcache_free(fc);
}

/* ------------------------------------------------------------ with real watches */

/* Whether fw's inotify instance holds watch wd (from /proc/self/fdinfo); -1: cannot tell. */
static int has_watch(struct fwatch *fw, int wd)
{
    char path[64], line[512];
    unsigned w;
    int found = 0;

    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fwatch_fd(fw));
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "inotify wd:%x ", &w) == 1 && w == (unsigned)wd) /* hexadecimal */
            found = 1;
    fclose(f);
    return found;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_release_watches(void)
{
    char dir[] = "/tmp/test_fcache.XXXXXX", path[512];
    int f[FWATCH_MAX_DEPTH], g[FWATCH_MAX_DEPTH], h[FWATCH_MAX_DEPTH];

    CHECK(mkdtemp(dir) != NULL);
    write_file(dir, "f.txt", "f");
    write_file(dir, "g.txt", "g");
    write_file(dir, "h.txt", "h");
    int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    CHECK(root >= 0);
    struct fwatch *fw = fwatch_new(root);
    CHECK(fw != NULL);
    struct fcache *fc = fcache_new(2, 1024, fw);
    CHECK(fc != NULL);
    if (fw == NULL || fc == NULL)
        goto out;

    CHECK_INT(fwatch_path(fw, "f.txt", true, f), 2);
    CHECK_INT(fwatch_path(fw, "g.txt", true, g), 2);
    CHECK_INT(has_watch(fw, f[1]), 1);
    put_file(fc, "/f.txt", "f", f, 2, fcache_generation(fc));
    put_file(fc, "/g.txt", "g", g, 2, fcache_generation(fc));

    /* Dropping f lets go of its file watch; the shared root stays for g. */
    fcache_drop(fc, "/f.txt");
    CHECK_INT(has_watch(fw, f[1]), 0);
    CHECK_INT(has_watch(fw, g[1]), 1);
    CHECK_INT(has_watch(fw, g[0]), 1);

    /* A refused put lets go of the watches it was handed. */
    uint64_t gen = fcache_generation(fc);
    CHECK_INT(fwatch_path(fw, "h.txt", true, h), 2);
    fcache_changed(fc, 12345, NULL);
    put_file(fc, "/h.txt", "h", h, 2, gen);
    CHECK(!cached(fc, "/h.txt"));
    CHECK_INT(has_watch(fw, h[1]), 0);

    /* Eviction (2 entries at most) lets go of the evicted entry's watches. */
    CHECK_INT(fwatch_path(fw, "f.txt", true, f), 2);
    put_file(fc, "/f.txt", "f", f, 2, fcache_generation(fc));
    CHECK_INT(fwatch_path(fw, "h.txt", true, h), 2);
    put_file(fc, "/h.txt", "h", h, 2, fcache_generation(fc));
    CHECK(!cached(fc, "/g.txt"));
    CHECK_INT(has_watch(fw, g[1]), 0);
    CHECK_INT(has_watch(fw, f[1]), 1);
    CHECK_INT(has_watch(fw, h[1]), 1);

    /* A change drops h and lets go of its watch. */
    fcache_changed(fc, h[1], NULL);
    CHECK(!cached(fc, "/h.txt"));
    CHECK_INT(has_watch(fw, h[1]), 0);
    CHECK_INT(has_watch(fw, f[1]), 1);

    /* Freeing the cache lets go of everything. */
    fcache_free(fc);
    fc = NULL;
    CHECK_INT(has_watch(fw, f[1]), 0);
    CHECK_INT(has_watch(fw, f[0]), 0);
out:
    fcache_free(fc);
    fwatch_free(fw);
    if (root >= 0)
        close(root);
    const char *names[] = { "f.txt", "g.txt", "h.txt" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    CHECK_INT(rmdir(dir), 0);
}

int main(void)
{
    test_put_get();
    test_absent();
    test_replace();
    test_lru_entries();
    test_lru_bytes();
    test_drop();
    test_generation();
    test_changed();
    test_changed_short();
    test_retire();
    test_release_watches();
    return test_done();
}
