/*
 * test_path.c - table tests for path.c (darkhttpd's test_make_safe_uri style).
 *
 * Every case is {input, expected path or expected negative status} with its __LINE__, so a
 * failure names the table row.  Each input is copied to the very end of a page that is
 * followed by an inaccessible page, and each output buffer is exactly as large as the
 * expected result, so reading past len or writing past out_size faults even without ASan.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "path.h"
#include "test.h"

struct guard {
    char *page; /* one read/write page, followed by a PROT_NONE page */
    size_t size;
};

static struct guard guard_in, guard_out;

static void guard_init(struct guard *g)
{
    long ps = sysconf(_SC_PAGESIZE);
    char *p;

    g->size = ps > 0 ? (size_t)ps : 4096;
    p = mmap(NULL, 2 * g->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(p + g->size, g->size, PROT_NONE) != 0) {
        perror("mmap guard page");
        abort();
    }
    g->page = p;
}

/* A buffer of len bytes that ends where the guard page starts. */
static char *guard_buf(const struct guard *g, size_t len)
{
    if (len > g->size)
        abort();
    return g->page + g->size - len;
}

static char *guard_copy(const struct guard *g, const char *s, size_t len)
{
    char *p = guard_buf(g, len);

    memcpy(p, s, len);
    return p;
}

/* Report a failed check for table row `line` (test.h's macros report their own line). */
static void fail_row(int line, const char *what, const char *in, size_t len)
{
    test_failures++;
    fprintf(stderr, "FAIL: %s:%d: %s for input \"", __FILE__, line, what);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fprintf(stderr, "\"\n");
}

struct norm_case {
    int line;
    const char *in;
    size_t len;
    const char *want; /* NULL: expect status */
    int status;
};

/* sizeof, not strlen, so inputs may hold a NUL */
#define OK(in, want)                          \
    {                                         \
        __LINE__, in, sizeof(in) - 1, want, 0 \
    }
#define ERR(in, status)                            \
    {                                              \
        __LINE__, in, sizeof(in) - 1, NULL, status \
    }

static const struct norm_case norm_cases[] = {
    /* plain paths */
    OK("/", "/"),
    OK("/index.html", "/index.html"),
    OK("/a/b/c", "/a/b/c"),
    OK("/a/b/", "/a/b/"),
    OK("/a-b_c~d!$&'()*+,;=:@", "/a-b_c~d!$&'()*+,;=:@"),

    /* dot segments (RFC 3986 5.2.4) and trailing slashes */
    OK("/.", "/"),
    OK("/./", "/"),
    OK("/./a", "/a"),
    OK("/a/./b", "/a/b"),
    OK("/a/b/.", "/a/b/"),
    OK("/a/b/./", "/a/b/"),
    OK("/a/b/..", "/a/"),
    OK("/a/b/../", "/a/"),
    OK("/a/..", "/"),
    OK("/a/../", "/"),
    OK("/a/../b", "/b"),
    OK("/a/b/../c", "/a/c"),
    OK("/a/b/../../c", "/c"),
    OK("/a/./../b", "/b"),
    OK("/a/b/c/./../../g", "/a/g"),
    OK("/mid/content=5/../6", "/mid/6"),
    OK("/a/b/c/../../../", "/"),
    OK("/a/b/../c/./d/..", "/a/c/"),
    OK("/...", "/..."),
    OK("/..a", "/..a"),
    OK("/a..", "/a.."),
    OK("/.a", "/.a"),
    OK("/a/.../b", "/a/.../b"),
    OK("/a./b", "/a./b"),

    /* runs of '/' */
    OK("//", "/"),
    OK("///", "/"),
    OK("///a", "/a"),
    OK("/a//b", "/a/b"),
    OK("//a//b//", "/a/b/"),
    OK("/a//..", "/"),
    OK("/a/b//../c", "/a/c"),
    OK("//evil.example/x", "/evil.example/x"),

    /* above the root */
    ERR("/..", -400),
    ERR("/../", -400),
    ERR("/../a", -400),
    ERR("/../a/b/c", -400),
    ERR("/a/../..", -400),
    ERR("/a/../../", -400),
    ERR("/a/../../b", -400),
    ERR("/a/b/../../../c", -400),
    ERR("/./../a", -400),
    ERR("//../a", -400),
    ERR("/a/../b/../../c/d/e", -400),

    /* dots spelt with escapes are dots */
    ERR("/%2e%2e", -400),
    ERR("/%2e%2e/", -400),
    ERR("/%2E%2e/", -400),
    ERR("/%2E%2E/etc/passwd", -400),
    ERR("/.%2e", -400),
    ERR("/.%2e/x", -400),
    ERR("/%2e./x", -400),
    ERR("/a/%2e%2e/%2e%2e", -400),
    OK("/a/%2e%2e/b", "/b"),
    OK("/a/%2e/b", "/a/b"),
    OK("/a/%2E", "/a/"),
    OK("/a/b/%2e%2E", "/a/"),
    OK("/%2e%2e%2e", "/..."),
    OK("/%2ea", "/.a"),

    /* encoded slash and backslash */
    ERR("/a%2Fb", -400),
    ERR("/a%2fb", -400),
    ERR("/%2F", -400),
    ERR("/..%2f..%2fetc/passwd", -400),
    ERR("/%2e%2e%2f", -400),
    ERR("/a%5Cb", -400),
    ERR("/a%5cb", -400),
    ERR("/..%5c..%5cwindows", -400),
    ERR("/a\\b", -400),

    /* NUL and control bytes, encoded or raw */
    ERR("/%00", -400),
    ERR("/a%00b", -400),
    ERR("/a%00.html", -400),
    ERR("/a\0b", -400),
    ERR("/a%01", -400),
    ERR("/a%09b", -400),
    ERR("/a%0d%0aSet-Cookie:x", -400),
    ERR("/a%0A", -400),
    ERR("/a%1f", -400),
    ERR("/a%1F", -400),
    ERR("/a%7f", -400),
    ERR("/a%7F", -400),
    ERR("/a\tb", -400),
    ERR("/a\x01", -400),
    ERR("/a\x7f", -400),
    ERR("/a\r\n", -400),
    ERR("/x/../%00", -400),
    OK("/a%20b", "/a b"),
    OK("/a b", "/a b"),
    OK("/%7E", "/~"),
    OK("/%7e%41%61", "/~Aa"),

    /* decoding happens once, and only in the path */
    OK("/a%25b", "/a%b"),
    OK("/a%252e%252e", "/a%2e%2e"),
    OK("/a%252F", "/a%2F"),
    OK("/a%3Fb", "/a?b"),
    OK("/a%23b", "/a#b"),
    OK("/a?%zz", "/a"),
    OK("/a?%00", "/a"),
    OK("/a#%2F", "/a"),

    /* bad escapes */
    ERR("/%", -400),
    ERR("/a%", -400),
    ERR("/a%4", -400),
    ERR("/a%4/b", -400),
    ERR("/a%zz", -400),
    ERR("/a%4g", -400),
    ERR("/a%g4", -400),
    ERR("/a%%41", -400),
    ERR("/a% 41", -400),
    ERR("/a%+4", -400),
    ERR("/a%-1", -400),
    ERR("/a%?b", -400),

    /* UTF-8 and other high bytes pass through as bytes */
    OK("/%C3%A9t%c3%a9.html", "/\xc3\xa9t\xc3\xa9.html"),
    OK("/\xc3\xa9", "/\xc3\xa9"),
    OK("/%E2%82%AC/%F0%9F%98%80", "/\xe2\x82\xac/\xf0\x9f\x98\x80"),
    OK("/%FF%80", "/\xff\x80"),

    /* query and fragment */
    OK("/a?b=c", "/a"),
    OK("/a/?x", "/a/"),
    OK("/a#frag", "/a"),
    OK("/a?x#y", "/a"),
    OK("/a#x?y", "/a"),
    OK("/?", "/"),
    OK("/#", "/"),
    OK("/a/..?x", "/"),
    OK("/a?/../../..", "/a"),
    OK("/a#/../../..", "/a"),
    ERR("/..?x", -400),
    ERR("/%2e%2e#x", -400),

    /* not origin-form or absolute-form */
    ERR("", -400),
    ERR("*", -400),
    ERR("x", -400),
    ERR("a/b", -400),
    ERR("?a", -400),
    ERR("#a", -400),
    ERR(".", -400),
    ERR("..", -400),
    ERR("%2F", -400),
    ERR(" /", -400),
    ERR("\\a", -400),
    ERR("example.com:80", -400),
    ERR("http:", -400),
    ERR("http:/a", -400),
    ERR("http:a", -400),
    ERR("http://", -400),
    ERR("https://", -400),
    ERR("http:///a", -400),
    ERR("http://?x", -400),
    ERR("http://user@h/a", -400),
    ERR("http://h h/a", -400),
    ERR("http://h\x01/a", -400),
    ERR("ftp://h/a", -400),
    ERR("file:///etc/passwd", -400),
    ERR("httpx://h/a", -400),

    /* absolute-form */
    OK("http://example.com/a/b", "/a/b"),
    OK("HTTP://Example.COM/a", "/a"),
    OK("hTtP://h/a/", "/a/"),
    OK("https://h:8443/x/../y", "/y"),
    OK("HTTPS://h/%41", "/A"),
    OK("http://h", "/"),
    OK("HtTpS://h", "/"),
    OK("http://h:80", "/"),
    OK("http://h:80/", "/"),
    OK("http://h?q=/../..", "/"),
    OK("http://h#f", "/"),
    OK("http://h//a", "/a"),
    OK("http://[::1]:8080/a", "/a"),
    OK("http://h/a?b#c", "/a"),
    ERR("http://h/..", -400),
    ERR("http://h/%2e%2e/x", -400),
    ERR("http://h/a%2fb", -400),
};

static void test_normalize_table(void)
{
    char big[256];

    for (size_t i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
        const struct norm_case *c = &norm_cases[i];
        const char *in = guard_copy(&guard_in, c->in, c->len);
        ssize_t r;

        test_checks++;
        r = path_normalize(in, c->len, big, sizeof(big));
        if (c->want == NULL) {
            if (r != c->status) {
                char msg[128];

                snprintf(msg, sizeof(msg), "got %zd, want %d", r, c->status);
                fail_row(c->line, msg, c->in, c->len);
            }
            continue;
        }
        if (r < 0 || (size_t)r != strlen(c->want) || memcmp(big, c->want, (size_t)r + 1) != 0) {
            char msg[400];

            snprintf(msg, sizeof(msg), "got %zd \"%s\", want \"%s\"", r, r >= 0 ? big : "",
                     c->want);
            fail_row(c->line, msg, c->in, c->len);
            continue;
        }

        /* An out buffer of exactly the right size works; one byte less is -414. */
        size_t need = (size_t)r + 1;
        char *out = guard_buf(&guard_out, need);

        test_checks++;
        if (path_normalize(in, c->len, out, need) != r || memcmp(out, c->want, need) != 0)
            fail_row(c->line, "exact-size out buffer", c->in, c->len);
        test_checks++;
        out = guard_buf(&guard_out, need - 1);
        if (path_normalize(in, c->len, out, need - 1) != -414)
            fail_row(c->line, "one byte short is not -414", c->in, c->len);
    }
}

static void test_normalize_edges(void)
{
    static char in[2048], want[2048];
    char out[1100];
    const char *p;

    CHECK_INT(path_normalize(NULL, 0, out, sizeof(out)), -400);
    CHECK_INT(path_normalize(NULL, 5, out, sizeof(out)), -400);
    CHECK_INT(path_normalize("/a", 2, NULL, 0), -414);
    CHECK_INT(path_normalize("/a", 2, out, 0), -414);
    CHECK_INT(path_normalize("/", 1, out, 1), -414);
    CHECK_INT(path_normalize("/", 1, out, 2), 1);
    CHECK_STR(out, "/");

    /* len is honoured: bytes after it are never looked at */
    CHECK_INT(path_normalize("/abc/../../x", 4, out, sizeof(out)), 4);
    CHECK_STR(out, "/abc");
    CHECK_INT(path_normalize("/a%2", 4, out, sizeof(out)), -400);
    CHECK_INT(path_normalize("/a%2fb", 3, out, sizeof(out)), -400);
    CHECK_INT(path_normalize("http://h/a", 8, out, sizeof(out)), 1);
    CHECK_STR(out, "/");

    /* -414 depends on the result, not on the input or an intermediate step */
    CHECK_INT(path_normalize("/aaaaaaaa/../b", 14, out, 3), 2);
    CHECK_STR(out, "/b");
    CHECK_INT(path_normalize("/%61%61", 7, out, 4), 3);
    CHECK_STR(out, "/aa");
    CHECK_INT(path_normalize("http://a-very-long-host-name.example/", 37, out, 2), 1);
    /* ...but a bad target is -400 even when it would not fit */
    CHECK_INT(path_normalize("/aaaaaaaa%zz", 12, out, 3), -400);
    CHECK_INT(path_normalize("/aaaaaaaa/../..", 15, out, 3), -400);

    /* long output */
    in[0] = '/';
    memset(in + 1, 'a', 1000);
    CHECK_INT(path_normalize(in, 1001, out, 1001), -414);
    CHECK_INT(path_normalize(in, 1001, out, 1002), 1001);
    CHECK_INT(path_normalize(in, 1001, out, sizeof(out)), 1001);
    CHECK_INT(strlen(out), 1001);
    CHECK_INT(path_normalize(in, 1001, out, 256), -414);

    /* many segments, each cancelled */
    size_t n = 0;
    for (int i = 0; i < 300; i++) {
        memcpy(in + n, "/x", 2);
        n += 2;
    }
    for (int i = 0; i < 300; i++) {
        memcpy(in + n, "/..", 3);
        n += 3;
    }
    CHECK_INT(path_normalize(in, n, out, 2), 1);
    CHECK_STR(out, "/");
    memcpy(in + n, "/..", 3);
    CHECK_INT(path_normalize(in, n + 3, out, sizeof(out)), -400);

    /* 500 encoded bytes decode to a 500-byte name */
    n = 0;
    in[n++] = '/';
    want[0] = '/';
    for (int i = 0; i < 500; i++) {
        memcpy(in + n, "%C3", 3);
        n += 3;
        want[1 + i] = '\xc3';
    }
    want[501] = '\0';
    CHECK_INT(path_normalize(in, n, out, sizeof(out)), 501);
    CHECK_STR(out, want);
    CHECK_INT(path_normalize(in, n, out, 501), -414);

    /* a target that is a whole page, ending at the guard page */
    p = guard_buf(&guard_in, guard_in.size);
    memset((char *)p, 'b', guard_in.size);
    ((char *)p)[0] = '/';
    CHECK_INT(path_normalize(p, guard_in.size, NULL, 0), -414);
    ((char *)p)[guard_in.size - 1] = '%';
    CHECK_INT(path_normalize(p, guard_in.size, out, sizeof(out)), -400);
}

struct hidden_case {
    int line;
    const char *path;
    bool hidden;
};

static const struct hidden_case hidden_cases[] = {
    { __LINE__, "/", false },
    { __LINE__, "", false },
    { __LINE__, "/a", false },
    { __LINE__, "/a/b/c.html", false },
    { __LINE__, "/a.b/c", false },
    { __LINE__, "/a/b.", false },
    { __LINE__, "/a/b/", false },
    { __LINE__, "/.git", true },
    { __LINE__, "/.git/", true },
    { __LINE__, "/.git/config", true },
    { __LINE__, "/a/.env", true },
    { __LINE__, "/a/b/.htaccess", true },
    { __LINE__, "/a/.b/c", true },
    { __LINE__, "/...", true },
    { __LINE__, "/a/..b", true },
    { __LINE__, ".x", true },
    { __LINE__, "/.well-known", false },
    { __LINE__, "/.well-known/", false },
    { __LINE__, "/.well-known/security.txt", false },
    { __LINE__, "/.well-known/acme-challenge/token", false },
    { __LINE__, "/.well-known/.x", true },
    { __LINE__, "/.well-known/a/.b", true },
    { __LINE__, "/.well-known/a/.b/", true },
    { __LINE__, "/.well-knownx", true },
    { __LINE__, "/.well-known./", true },
    { __LINE__, "/.Well-Known/", true },
    { __LINE__, "/x/.well-known/y", true },
    { __LINE__, "/.well-known/.well-known", true },
};

static void test_hidden(void)
{
    for (size_t i = 0; i < sizeof(hidden_cases) / sizeof(hidden_cases[0]); i++) {
        const struct hidden_case *c = &hidden_cases[i];
        size_t len = strlen(c->path);
        const char *p = guard_copy(&guard_in, c->path, len + 1);

        test_checks++;
        if (path_is_hidden(p) != c->hidden)
            fail_row(c->line, c->hidden ? "not hidden" : "hidden", c->path, len);
    }
    CHECK(path_is_hidden(NULL));
}

struct query_case {
    int line;
    const char *target;
    const char *want; /* NULL: no query */
};

static const struct query_case query_cases[] = {
    { __LINE__, "/a?b=c", "b=c" },     { __LINE__, "/a", NULL },
    { __LINE__, "/", NULL },           { __LINE__, "", NULL },
    { __LINE__, "/a?", "" },           { __LINE__, "/a?b#c", "b" },
    { __LINE__, "/a?#c", "" },         { __LINE__, "/a#c?d", NULL },
    { __LINE__, "/a#", NULL },         { __LINE__, "/?x=1&y=2", "x=1&y=2" },
    { __LINE__, "/a?b?c", "b?c" },     { __LINE__, "/a?%zz%00", "%zz%00" },
    { __LINE__, "http://h/p?q", "q" }, { __LINE__, "http://h?q", "q" },
};

static void test_query(void)
{
    const char *q;
    size_t qlen;

    for (size_t i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
        const struct query_case *c = &query_cases[i];
        size_t len = strlen(c->target);
        const char *t = guard_copy(&guard_in, c->target, len);

        test_checks++;
        qlen = 12345;
        q = path_query(t, len, &qlen);
        if (c->want == NULL ? q != NULL || qlen != 0
                            : q == NULL || qlen != strlen(c->want) || memcmp(q, c->want, qlen) != 0)
            fail_row(c->line, "wrong query", c->target, len);
    }

    /* len is honoured, query_len may be NULL */
    q = path_query("/a?bc#d", 4, &qlen);
    CHECK_MEM(q, qlen, "b");
    q = path_query("/a?bc", 2, &qlen);
    CHECK(q == NULL);
    CHECK_INT(qlen, 0);
    CHECK(path_query("/a?b", 4, NULL) != NULL);
    CHECK(path_query(NULL, 4, &qlen) == NULL);
}

int main(void)
{
    guard_init(&guard_in);
    guard_init(&guard_out);
    test_normalize_table();
    test_normalize_edges();
    test_hidden();
    test_query();
    return test_done();
}
