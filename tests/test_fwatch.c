/*
 * test_fwatch.c - unit tests for the inotify watches (src/fwatch.c), on a
 * real tree in a temporary directory under /tmp:
 *
 *   root/a/b/f.txt, root/a/b/g.txt, root/link -> a, root/d/d/.../d (FWATCH_MAX_DEPTH deep)
 *
 * Checked: which watches fwatch_path takes (how many, shared ones, where a
 * walk for a missing name stops, refusals for symlinks, non-directories
 * and depth, with nothing left held), the events fwatch_read reports for
 * writes, creations and renames, the reference counts behind
 * fwatch_release (also for watches that collide in its table), and the
 * lost-events report on a queue overflow.  Which watches the kernel holds
 * is read from /proc/self/fdinfo.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwatch.h"
#include "test.h"

static char dir[] = "/tmp/test_fwatch.XXXXXX";

/* ------------------------------------------------------------ helpers */

/* dir/rel; the last two results stay valid (rename takes two). */
static const char *at(const char *rel)
{
    static char path[2][PATH_MAX];
    static unsigned i;
    i = (i + 1) % 2;
    snprintf(path[i], sizeof path[i], "%s/%s", dir, rel);
    return path[i];
}

static void make_dir(const char *rel)
{
    if (mkdir(at(rel), 0755) != 0) {
        perror(at(rel));
        abort();
    }
}

/* Create, overwrite (O_TRUNC) or append to a file. */
static void write_file(const char *rel, const char *text, int flags)
{
    int fd = open(at(rel), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror(at(rel));
        abort();
    }
    close(fd);
}

/* The events of one fwatch_read. */
enum { MAX_EVENTS = 64 };
struct events {
    unsigned n, calls;
    unsigned lost; /* calls with wd -1 */
    struct {
        int wd;
        bool has_name;
        char name[256];
    } ev[MAX_EVENTS];
};

static void record(void *arg, int wd, const char *name)
{
    struct events *e = arg;
    e->calls++;
    if (wd == -1 && name == NULL)
        e->lost++;
    if (e->n == MAX_EVENTS)
        return;
    e->ev[e->n].wd = wd;
    e->ev[e->n].has_name = name != NULL;
    snprintf(e->ev[e->n].name, sizeof e->ev[e->n].name, "%s", name ? name : "");
    e->n++;
}

static struct events read_events(struct fwatch *fw)
{
    struct events e = { 0 };
    CHECK_INT(fwatch_read(fw, record, &e), 0);
    return e;
}

/* Whether e holds (wd, name); name NULL: the watched object itself. */
static bool saw(const struct events *e, int wd, const char *name)
{
    for (unsigned i = 0; i < e->n; i++)
        if (e->ev[i].wd == wd && e->ev[i].has_name == (name != NULL) &&
            (name == NULL || strcmp(e->ev[i].name, name) == 0))
            return true;
    return false;
}

/* Whether e holds anything for wd. */
static bool saw_wd(const struct events *e, int wd)
{
    for (unsigned i = 0; i < e->n; i++)
        if (e->ev[i].wd == wd)
            return true;
    return false;
}

/*
 * The watches the kernel holds for fw, from /proc/self/fdinfo: their
 * number, and whether wd (if not 0) is one of them.
 */
static int kernel_watches(struct fwatch *fw, int wd, bool *has)
{
    char path[64], line[512];
    int n = 0;
    unsigned w;

    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fwatch_fd(fw));
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (has != NULL)
        *has = false;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "inotify wd:%x ", &w) != 1) /* in hexadecimal */
            continue;
        n++;
        if (has != NULL && w == (unsigned)wd)
            *has = true;
    }
    fclose(f);
    return n;
}

static bool kernel_has(struct fwatch *fw, int wd)
{
    bool has = false;
    kernel_watches(fw, wd, &has);
    return has;
}

/* ------------------------------------------------------------ the tests */

static void test_new_free(int root)
{
    fwatch_free(NULL);

    errno = 0;
    CHECK(fwatch_new(-1) == NULL);
    CHECK(errno != 0);

    /* Not a directory. */
    int file = open(at("a/b/f.txt"), O_PATH | O_CLOEXEC);
    CHECK(file >= 0);
    errno = 0;
    CHECK(fwatch_new(file) == NULL);
    CHECK_INT(errno, ENOTDIR);
    close(file);

    struct fwatch *fw = fwatch_new(root);
    CHECK(fw != NULL);
    if (fw == NULL)
        return;
    int fd = fwatch_fd(fw);
    CHECK(fd >= 0 && fd != root);
    int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
    CHECK(fl >= 0 && (fl & O_NONBLOCK));
    CHECK(fdfl >= 0 && (fdfl & FD_CLOEXEC));
    CHECK_INT(kernel_watches(fw, 0, NULL), 0); /* the probe watch is gone */
    fwatch_free(fw);
}

static void test_paths(struct fwatch *fw)
{
    int f[FWATCH_MAX_DEPTH], g[FWATCH_MAX_DEPTH], m[FWATCH_MAX_DEPTH];
    int before = kernel_watches(fw, 0, NULL);

    CHECK_INT(fwatch_path(fw, "a/b/f.txt", true, f), 4);
    for (int i = 0; i < 4; i++) {
        CHECK(f[i] > 0);
        CHECK(kernel_has(fw, f[i]));
        for (int j = 0; j < i; j++)
            CHECK(f[i] != f[j]);
    }
    CHECK_INT(kernel_watches(fw, 0, NULL), before + 4);

    /* Another file in the same directory shares root, a and b. */
    CHECK_INT(fwatch_path(fw, "a/b/g.txt", true, g), 4);
    CHECK_INT(g[0], f[0]);
    CHECK_INT(g[1], f[1]);
    CHECK_INT(g[2], f[2]);
    CHECK(g[3] != f[3]);
    CHECK_INT(kernel_watches(fw, 0, NULL), before + 5);

    /* Missing names: the walk stops at the directory that would hold them. */
    CHECK_INT(fwatch_path(fw, "a/missing/x.html", false, m), 2);
    CHECK_INT(m[0], f[0]);
    CHECK_INT(m[1], f[1]);
    fwatch_release(fw, m, 2);
    CHECK_INT(fwatch_path(fw, "a/b/missing.html", false, m), 3);
    CHECK_INT(m[2], f[2]);
    fwatch_release(fw, m, 3);
    CHECK_INT(fwatch_path(fw, "missing", false, m), 1);
    CHECK_INT(m[0], f[0]);
    fwatch_release(fw, m, 1);
    CHECK_INT(fwatch_path(fw, "", false, m), 1);
    fwatch_release(fw, m, 1);
    /* An existing file as the last name of a file=false walk is not watched. */
    CHECK_INT(fwatch_path(fw, "a/b/f.txt", false, m), 3);
    fwatch_release(fw, m, 3);
    CHECK_INT(kernel_watches(fw, 0, NULL), before + 5);

    /* Refused, with nothing held. */
    CHECK_INT(fwatch_path(fw, "a/b/missing.html", true, m), -1); /* a file must exist */
    CHECK_INT(fwatch_path(fw, "a/b/f.txt/x", true, m), -1);      /* a file on the way */
    CHECK_INT(fwatch_path(fw, "a/b/f.txt/x", false, m), -1);
    CHECK_INT(fwatch_path(fw, "link/b/f.txt", true, m), -1); /* a symlink on the way */
    CHECK_INT(fwatch_path(fw, "link/b/missing.html", false, m), -1);
    CHECK_INT(fwatch_path(fw, "link/missing.html", false, m), -1);
    CHECK_INT(kernel_watches(fw, 0, NULL), before + 5);
    /* The references held above are still counted right. */
    CHECK(kernel_has(fw, f[1]));

    fwatch_release(fw, g, 4);
    CHECK(!kernel_has(fw, g[3]));
    CHECK(kernel_has(fw, f[2]));
    fwatch_release(fw, f, 4);
    CHECK_INT(kernel_watches(fw, 0, NULL), before);
    read_events(fw); /* nothing, or what the removals left */
}

/* "d/d/.../d/" with n segments, then last. */
static const char *deep_path(int n, const char *last)
{
    static char rel[128];
    rel[0] = '\0';
    for (int i = 0; i < n; i++)
        strcat(rel, "d/");
    strcat(rel, last);
    return rel;
}

static void test_depth(struct fwatch *fw)
{
    const int max = FWATCH_MAX_DEPTH;
    int w[FWATCH_MAX_DEPTH];
    int before = kernel_watches(fw, 0, NULL);

    /* A file below max - 2 directories: max watches, the root's included. */
    write_file(deep_path(max - 2, "f"), "deep", O_TRUNC);
    CHECK_INT(fwatch_path(fw, deep_path(max - 2, "f"), true, w), max);
    fwatch_release(fw, w, max);
    CHECK_INT(fwatch_path(fw, deep_path(max - 2, "f"), false, w), max - 1);
    fwatch_release(fw, w, max - 1);
    unlink(at(deep_path(max - 2, "f")));

    /* One directory deeper: too deep for a file. */
    write_file(deep_path(max - 1, "f"), "deeper", O_TRUNC);
    CHECK_INT(fwatch_path(fw, deep_path(max - 1, "f"), true, w), -1);
    unlink(at(deep_path(max - 1, "f")));
    /* But a missing name there is in reach: its directory is the last watch. */
    CHECK_INT(fwatch_path(fw, deep_path(max - 1, "x"), false, w), max);
    fwatch_release(fw, w, max);
    /* And one more directory is too deep for it too. */
    CHECK_INT(fwatch_path(fw, deep_path(max, "x"), false, w), -1);

    CHECK_INT(kernel_watches(fw, 0, NULL), before);
    read_events(fw);
}

static void test_events(struct fwatch *fw)
{
    int f[FWATCH_MAX_DEPTH];
    struct events e;

    CHECK_INT(fwatch_path(fw, "a/b/f.txt", true, f), 4);

    /* Nothing pending: nothing reported. */
    e = read_events(fw);
    CHECK_INT(e.calls, 0);

    /* Writing the file: the file's watch, no name; its directories see nothing. */
    write_file("a/b/f.txt", "more", O_APPEND);
    e = read_events(fw);
    CHECK(saw(&e, f[3], NULL));
    CHECK(!saw_wd(&e, f[0]) && !saw_wd(&e, f[1]) && !saw_wd(&e, f[2]));
    e = read_events(fw);
    CHECK_INT(e.calls, 0); /* all of it was read */

    /* A new name in a watched directory: that directory, that name. */
    write_file("a/b/new.txt", "new", O_TRUNC);
    e = read_events(fw);
    CHECK(saw(&e, f[2], "new.txt"));
    CHECK(!saw_wd(&e, f[3]));
    unlink(at("a/b/new.txt"));
    e = read_events(fw);
    CHECK(saw(&e, f[2], "new.txt"));

    /* Changing the file's mode. */
    CHECK_INT(chmod(at("a/b/f.txt"), 0600), 0);
    e = read_events(fw);
    CHECK(saw(&e, f[3], NULL));

    /* Renaming a directory: its parent, with both names; the directory itself. */
    CHECK_INT(rename(at("a/b"), at("a/c")), 0);
    e = read_events(fw);
    CHECK(saw(&e, f[1], "b"));
    CHECK(saw(&e, f[1], "c"));
    CHECK(saw(&e, f[2], NULL));
    CHECK(!saw_wd(&e, f[0]));
    CHECK_INT(rename(at("a/c"), at("a/b")), 0);
    e = read_events(fw);
    CHECK(saw(&e, f[1], "c"));
    CHECK(saw(&e, f[1], "b"));

    /* A name in the root. */
    CHECK_INT(mkdir(at("e"), 0755), 0);
    CHECK_INT(rmdir(at("e")), 0);
    e = read_events(fw);
    CHECK(saw(&e, f[0], "e"));

    fwatch_release(fw, f, 4);
    read_events(fw);
}

static void test_release(struct fwatch *fw)
{
    int p1[FWATCH_MAX_DEPTH], p2[FWATCH_MAX_DEPTH], p3[FWATCH_MAX_DEPTH];
    struct events e;
    int before = kernel_watches(fw, 0, NULL);

    CHECK_INT(fwatch_path(fw, "a/b/f.txt", true, p1), 4);
    CHECK_INT(fwatch_path(fw, "a/b/g.txt", true, p2), 4);
    CHECK_INT(fwatch_path(fw, "a/b/f.txt", true, p3), 4); /* f.txt: two references */
    CHECK_INT(p3[3], p1[3]);
    int fwd = p1[3], gwd = p2[3], bwd = p1[2];
    read_events(fw);

    /* One of two references let go: f.txt still reports. */
    fwatch_release(fw, p1, 4);
    e = read_events(fw);
    CHECK_INT(e.calls, 0); /* nothing was removed */
    write_file("a/b/f.txt", "1", O_APPEND);
    e = read_events(fw);
    CHECK(saw(&e, fwd, NULL));

    /* The last one: the watch goes (the kernel says so once), and reports no more. */
    fwatch_release(fw, p3, 4);
    CHECK(!kernel_has(fw, fwd));
    e = read_events(fw);
    CHECK(!saw_wd(&e, fwd)); /* its IN_IGNORED is not reported */
    CHECK(!saw_wd(&e, bwd));
    write_file("a/b/f.txt", "2", O_APPEND);
    CHECK_INT(chmod(at("a/b/f.txt"), 0644), 0);
    e = read_events(fw);
    CHECK(!saw_wd(&e, fwd));

    /* g.txt still holds root, a and b. */
    CHECK(kernel_has(fw, bwd));
    write_file("a/b/g.txt", "3", O_APPEND);
    write_file("a/b/h.txt", "h", O_TRUNC);
    e = read_events(fw);
    CHECK(saw(&e, gwd, NULL));
    CHECK(saw(&e, bwd, "h.txt"));
    unlink(at("a/b/h.txt"));

    fwatch_release(fw, p2, 4);
    CHECK_INT(kernel_watches(fw, 0, NULL), before);
    read_events(fw);
    fwatch_release(fw, p2, 0); /* nothing to let go of */
}

/*
 * Many watches, released in a scrambled order: the reference table grows
 * and removes slots in the middle of probe runs.  A watch lost from the
 * table would stay in the kernel; one counted wrong would go too early.
 */
static void test_many(struct fwatch *fw)
{
    enum { N = 300 };
    static int file_wd[N];
    int t[FWATCH_MAX_DEPTH], root_wd = 0, many_wd = 0;
    char rel[32];
    int before = kernel_watches(fw, 0, NULL);

    make_dir("many");
    for (int i = 0; i < N; i++) {
        snprintf(rel, sizeof rel, "many/%d", i);
        write_file(rel, "x", O_TRUNC);
    }
    for (int i = 0; i < N; i++) {
        snprintf(rel, sizeof rel, "many/%d", i);
        CHECK_INT(fwatch_path(fw, rel, true, t), 3);
        root_wd = t[0];
        many_wd = t[1];
        file_wd[i] = t[2];
        if (i % 3 == 0) { /* a second reference to every third file */
            CHECK_INT(fwatch_path(fw, rel, true, t), 3);
            CHECK_INT(t[2], file_wd[i]);
            fwatch_release(fw, t, 2); /* its root and "many" references only */
        }
    }
    CHECK_INT(kernel_watches(fw, 0, NULL), before + 2 + N);

    /* Let go of each file once, in a scrambled order (7919 is prime, N is not a multiple). */
    unsigned wrong = 0;
    for (int k = 0; k < N; k++) {
        int i = (k * 7919) % N;
        fwatch_release(fw, &file_wd[i], 1);
        wrong += kernel_has(fw, file_wd[i]) != (i % 3 == 0);
    }
    CHECK_INT(wrong, 0);
    for (int i = 0; i < N; i += 3)
        fwatch_release(fw, &file_wd[i], 1);
    CHECK_INT(kernel_watches(fw, 0, NULL), before + 2);

    /* The root and "many" hold N references each. */
    int pair[2] = { root_wd, many_wd };
    for (int i = 0; i < N - 1; i++)
        fwatch_release(fw, pair, 2);
    CHECK(kernel_has(fw, root_wd) && kernel_has(fw, many_wd));
    fwatch_release(fw, pair, 2);
    CHECK(!kernel_has(fw, many_wd));
    CHECK_INT(kernel_watches(fw, 0, NULL), before);

    for (int i = 0; i < N; i++) {
        snprintf(rel, sizeof rel, "many/%d", i);
        unlink(at(rel));
    }
    rmdir(at("many"));
    read_events(fw);
}

/*
 * Watches that collide in the reference table (open addressing, removal by
 * moving back the rest of a probe run).  The kernel numbers watches one
 * after another, and consecutive numbers never collide in a table of 2^k
 * slots indexed by (wd * odd) mod 2^k; numbers 1024 apart always do (for
 * any table up to 1024 slots).  Taking and dropping a watch moves the
 * kernel's counter on, so four watches can be held in one probe run and let
 * go of from the head.  A slot emptied without moving the rest of its run
 * back, or moving the wrong ones, makes a watch unfindable: it would never
 * be removed, or a new reference would get a second slot.
 *
 * The run is placed with fwatch.c's hash in a fresh table (64 slots): in the
 * middle, or (wrap) starting at the last slot, with the second watch being
 * one whose home is slot 0, which must stay there.  With another hash or
 * size the test still holds, it only checks less.
 */
static unsigned home64(int wd)
{
    return ((uint32_t)wd * 2654435761u) & 63;
}

/* Whether wd will do as member k of the run that starts with w0. */
static bool fits_run(int wd, int k, int w0, bool wrap)
{
    if (k == 0)
        return wrap ? home64(wd) == 63 : home64(wd) >= 8 && home64(wd) < 48;
    if (k == 1 && wrap)
        return home64(wd) == 0;
    return (wd - w0) % 1024 == 0;
}

static void test_collisions(int root, bool wrap)
{
    enum { M = 4 };
    int r[FWATCH_MAX_DEPTH], t[FWATCH_MAX_DEPTH], w[M];
    char rel[16];
    struct fwatch *fw = fwatch_new(root); /* a fresh one: a small table */

    CHECK(fw != NULL);
    if (fw == NULL)
        return;
    CHECK_INT(fwatch_path(fw, "", false, r), 1); /* keeps the root watched throughout */
    for (int k = 0; k < M; k++) {
        snprintf(rel, sizeof rel, "coll%d", k);
        write_file(rel, "c", O_TRUNC);
        w[k] = 0;
        for (int tries = 0; tries <= 1024 && w[k] == 0; tries++) {
            if (fwatch_path(fw, rel, true, t) != 2)
                break;
            if (fits_run(t[1], k, w[0], wrap)) {
                w[k] = t[1];
                fwatch_release(fw, t, 1); /* keep the file's reference only */
            } else {
                fwatch_release(fw, t, 2); /* the watch goes: the next gets a new number */
            }
        }
        CHECK(w[k] != 0);
    }
    CHECK_INT(kernel_watches(fw, 0, NULL), 1 + M);
    read_events(fw);

    /* The head of the run goes; the rest stay findable. */
    fwatch_release(fw, &w[0], 1);
    CHECK(!kernel_has(fw, w[0]));
    CHECK(kernel_has(fw, w[1]) && kernel_has(fw, w[2]) && kernel_has(fw, w[3]));
    /* A new reference to the last one is counted on its slot, not on a new one. */
    CHECK_INT(fwatch_path(fw, "coll3", true, t), 2);
    CHECK_INT(t[1], w[3]);
    fwatch_release(fw, t, 2);
    CHECK(kernel_has(fw, w[3]));
    /* Then the others, one by one. */
    fwatch_release(fw, &w[1], 1);
    CHECK(!kernel_has(fw, w[1]));
    CHECK(kernel_has(fw, w[2]) && kernel_has(fw, w[3]));
    fwatch_release(fw, &w[3], 1);
    CHECK(!kernel_has(fw, w[3]));
    CHECK(kernel_has(fw, w[2]));
    fwatch_release(fw, &w[2], 1);
    CHECK_INT(kernel_watches(fw, 0, NULL), 1);
    fwatch_release(fw, r, 1);
    CHECK_INT(kernel_watches(fw, 0, NULL), 0);
    fwatch_free(fw);
    for (int k = 0; k < M; k++) {
        snprintf(rel, sizeof rel, "coll%d", k);
        unlink(at(rel));
    }
}

/* More events than the kernel queues: one report of lost changes (wd -1). */
static void test_overflow(struct fwatch *fw)
{
    long max = 0;
    FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &max) != 1)
            max = 0;
        fclose(f);
    }
    if (max <= 0 || max > 100000) {
        fprintf(stderr, "test_overflow: skipped (max_queued_events %ld)\n", max);
        return;
    }

    int w[FWATCH_MAX_DEPTH];
    CHECK_INT(fwatch_path(fw, "a/b/missing.html", false, w), 3);
    read_events(fw);
    /* Creations and deletions alternate, so the kernel merges none of them. */
    for (long i = 0; i < max / 2 + 10; i++) {
        write_file("a/b/x", "", O_TRUNC);
        unlink(at("a/b/x"));
    }
    struct events e = read_events(fw);
    CHECK_INT(e.lost, 1);
    CHECK(e.calls > (unsigned)max);
    e = read_events(fw);
    CHECK_INT(e.calls, 0);
    fwatch_release(fw, w, 3);
    read_events(fw);
}

int main(void)
{
    alarm(120); /* a read that blocks fails the run instead of hanging it */
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    make_dir("a");
    make_dir("a/b");
    write_file("a/b/f.txt", "f", O_TRUNC);
    write_file("a/b/g.txt", "g", O_TRUNC);
    CHECK_INT(symlink("a", at("link")), 0);
    for (int i = 1; i <= FWATCH_MAX_DEPTH; i++)
        make_dir(deep_path(i - 1, "d")); /* d/d/.../d, FWATCH_MAX_DEPTH deep */

    int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    CHECK(root >= 0);
    test_new_free(root);

    struct fwatch *fw = fwatch_new(root);
    CHECK(fw != NULL);
    if (fw != NULL) {
        read_events(fw); /* whatever fwatch_new's probe left */
        test_paths(fw);
        test_events(fw);
        test_release(fw);
        test_depth(fw);
        test_many(fw);
        test_overflow(fw);
        CHECK_INT(kernel_watches(fw, 0, NULL), 0);
        fwatch_free(fw);
    }
    test_collisions(root, true);
    test_collisions(root, false);
    close(root);

    /* Clean up the tree, deepest first. */
    unlink(at("a/b/f.txt"));
    unlink(at("a/b/g.txt"));
    rmdir(at("a/b"));
    rmdir(at("a"));
    unlink(at("link"));
    for (int i = FWATCH_MAX_DEPTH; i >= 1; i--)
        rmdir(at(deep_path(i - 1, "d")));
    CHECK_INT(rmdir(dir), 0);
    return test_done();
}
