/*
 * test_http.c - unit tests for src/http.c.
 *
 * picohttpparser-style: tables of inputs with the expected result, each row
 * carrying its __LINE__ so a failure points at the row; every truncation
 * point of a request; every byte value at every position of the grammar.
 * Every input is first copied to the end of a readable page that is
 * followed by a PROT_NONE page, so a read past len faults even without ASan.
 */
#include "http.h"
#include "test.h"

#include <stdarg.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---------------------------------------------------------------- harness */

static char *guard_mid; /* the readable page between two PROT_NONE pages */
static size_t page_size;

static void guard_init(void)
{
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    char *map =
        mmap(NULL, 3 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED || mprotect(map, page_size, PROT_NONE) != 0 ||
        mprotect(map + 2 * page_size, page_size, PROT_NONE) != 0) {
        perror("mmap/mprotect");
        exit(1);
    }
    guard_mid = map + page_size;
}

/* Copy s[0..len) to the end of the middle page and return the copy. */
static const char *guarded(const char *s, size_t len)
{
    if (len > page_size) {
        fprintf(stderr, "input too long for the guard page\n");
        exit(1);
    }
    char *dst = guard_mid + page_size - len;
    memcpy(dst, s, len);
    return dst;
}

/* A check made on behalf of a table row: reports the row's line. */
__attribute__((format(printf, 3, 4))) static bool expect_at(int line, bool ok, const char *fmt, ...)
{
    test_checks++;
    if (!ok) {
        va_list ap;
        test_failures++;
        fprintf(stderr, "FAIL: %s:%d: ", __FILE__, line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    return ok;
}

static bool mem_is(const char *p, size_t len, const char *want)
{
    return p != NULL && len == strlen(want) && memcmp(p, want, len) == 0;
}

static struct http_request req;
static struct http_req_info info;

/* Parse s[0..len) (placed before the guard page) with last_len. */
static int parse_n(const char *s, size_t len, size_t last_len)
{
    return http_parse_request(guarded(s, len), len, last_len, &req);
}

/* want > 0: bytes consumed; else HTTP_PARSE_INCOMPLETE, or HTTP_PARSE_ERROR and status. */
static bool parse_case(int line, const char *s, size_t len, int want, int status)
{
    int r = parse_n(s, len, 0);
    bool ok = expect_at(line, r == want, "parse returned %d, want %d", r, want);
    if (want == HTTP_PARSE_ERROR)
        ok &= expect_at(line, req.error_status == status, "error_status %d, want %d",
                        req.error_status, status);
    return ok;
}

/* whole string literals, so embedded NULs count */
#define PARSE_OK(s) parse_case(__LINE__, s, sizeof(s) - 1, (int)(sizeof(s) - 1), 0)
#define PARSE_OK_N(s, n) parse_case(__LINE__, s, sizeof(s) - 1, n, 0)
#define PARSE_INCOMPLETE(s) parse_case(__LINE__, s, sizeof(s) - 1, HTTP_PARSE_INCOMPLETE, 0)
#define PARSE_ERR(s, st) parse_case(__LINE__, s, sizeof(s) - 1, HTTP_PARSE_ERROR, st)

static bool is_tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* ---------------------------------------------------------------- parser */

static void test_complete(void)
{
    PARSE_OK("GET / HTTP/1.0\r\n\r\n");
    CHECK_MEM(req.method, req.method_len, "GET");
    CHECK_MEM(req.target, req.target_len, "/");
    CHECK_INT(req.minor_version, 0);
    CHECK_INT(req.num_headers, 0);
    CHECK_INT(req.error_status, 0);

    PARSE_OK("GET /hoge HTTP/1.1\r\nHost: example.com\r\nCookie: \r\n\r\n");
    CHECK_MEM(req.method, req.method_len, "GET");
    CHECK_MEM(req.target, req.target_len, "/hoge");
    CHECK_INT(req.minor_version, 1);
    CHECK_INT(req.num_headers, 2);
    CHECK_MEM(req.headers[0].name, req.headers[0].name_len, "Host");
    CHECK_MEM(req.headers[0].value, req.headers[0].value_len, "example.com");
    CHECK_MEM(req.headers[1].name, req.headers[1].name_len, "Cookie");
    CHECK_MEM(req.headers[1].value, req.headers[1].value_len, "");

    /* the head ends at the empty line; what follows is not ours */
    PARSE_OK_N("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 39);
    CHECK_MEM(req.method, req.method_len, "POST");
    CHECK_MEM(req.headers[0].value, req.headers[0].value_len, "5");

    /* OWS around the value is trimmed, inner whitespace kept */
    PARSE_OK("GET / HTTP/1.1\r\nA:b\r\nB: \t c  d \t \r\nC:\t\r\nD:  \r\n\r\n");
    CHECK_INT(req.num_headers, 4);
    CHECK_MEM(req.headers[0].value, req.headers[0].value_len, "b");
    CHECK_MEM(req.headers[1].value, req.headers[1].value_len, "c  d");
    CHECK_MEM(req.headers[2].value, req.headers[2].value_len, "");
    CHECK_MEM(req.headers[3].value, req.headers[3].value_len, "");

    /* obs-text in values; any visible ASCII in the target */
    PARSE_OK("GET /%7e?a=b&c=[d]#{}|\\^~ HTTP/1.1\r\nX-Name: caf\xc3\xa9 \xff\r\n\r\n");
    CHECK_MEM(req.target, req.target_len, "/%7e?a=b&c=[d]#{}|\\^~");
    CHECK_MEM(req.headers[0].value, req.headers[0].value_len, "caf\xc3\xa9 \xff");

    /* other target forms are the caller's business */
    PARSE_OK("OPTIONS * HTTP/1.1\r\n\r\n");
    CHECK_MEM(req.target, req.target_len, "*");
    PARSE_OK("CONNECT example.com:443 HTTP/1.1\r\n\r\n");
    CHECK_MEM(req.target, req.target_len, "example.com:443");
    PARSE_OK("GET http://a.example/b HTTP/1.1\r\n\r\n");
    CHECK_MEM(req.target, req.target_len, "http://a.example/b");

    /* tokens may use any tchar; methods are not checked here */
    PARSE_OK("!#$%&'*+-.^_`|~09azAZ / HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n");
    CHECK_MEM(req.method, req.method_len, "!#$%&'*+-.^_`|~09azAZ");
    CHECK_MEM(req.headers[0].name, req.headers[0].name_len, "!#$%&'*+-.^_`|~09azAZ");

    /* a colon inside the value is just a byte */
    PARSE_OK("GET / HTTP/1.1\r\nHost: a:80\r\nX: : :\r\n\r\n");
    CHECK_MEM(req.headers[0].value, req.headers[0].value_len, "a:80");
    CHECK_MEM(req.headers[1].value, req.headers[1].value_len, ": :");

    /* minor versions 2..9 parse as 1 */
    PARSE_OK("GET / HTTP/1.2\r\n\r\n");
    CHECK_INT(req.minor_version, 1);
    PARSE_OK("GET / HTTP/1.9\r\n\r\n");
    CHECK_INT(req.minor_version, 1);
}

/* RFC 9112 2.2: empty lines before the request-line; bare LF terminators. */
static void test_leading_and_lf(void)
{
    PARSE_OK("\r\nGET / HTTP/1.1\r\n\r\n");
    CHECK_MEM(req.method, req.method_len, "GET");
    PARSE_OK("\r\n\r\n\n\r\nGET /a HTTP/1.1\r\nA: b\r\n\r\n");
    CHECK_MEM(req.target, req.target_len, "/a");
    CHECK_MEM(req.headers[0].value, req.headers[0].value_len, "b");
    PARSE_OK("\nGET / HTTP/1.0\n\n");
    PARSE_INCOMPLETE("\r\n");
    PARSE_INCOMPLETE("\r\n\r\n\n");
    PARSE_INCOMPLETE("\r");
    PARSE_INCOMPLETE("\r\n\r");
    PARSE_ERR("\r\r\nGET / HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("\rGET / HTTP/1.1\r\n\r\n", 400);
    /* whitespace is not an empty line */
    PARSE_ERR(" \r\nGET / HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR(" GET / HTTP/1.1\r\n\r\n", 400);

    PARSE_OK("GET / HTTP/1.1\nHost: a\nX: y\n\n");
    CHECK_INT(req.num_headers, 2);
    CHECK_MEM(req.headers[0].value, req.headers[0].value_len, "a");
    CHECK_MEM(req.headers[1].value, req.headers[1].value_len, "y");
    PARSE_OK("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\n");
    PARSE_OK("GET / HTTP/1.1\nHost: a\r\n\r\n");
    PARSE_OK("GET / HTTP/1.1\n\r\n");
    PARSE_OK("GET / HTTP/1.1\r\n\n");
    PARSE_INCOMPLETE("GET / HTTP/1.1\nHost: a\n");
    PARSE_INCOMPLETE("GET / HTTP/1.1\nHost: a\n\r");
}

static void test_bare_cr(void)
{
    PARSE_ERR("GET / HTTP/1.1\rHost: a\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nHost: a\r\n\rX", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n", 400);
    PARSE_ERR("GET /\r HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GE\rT / HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX:\r\r\n\r\n", 400);
}

static void test_errors(void)
{
    /* request-line */
    PARSE_ERR("GET  / HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GET /  HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1 \r\n\r\n", 400);
    PARSE_ERR("GET\t/ HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GET /\tHTTP/1.1\r\n\r\n", 400);
    PARSE_ERR(" / HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GET  HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GET / \r\n\r\n", 400);
    PARSE_ERR("GET /\r\n\r\n", 400); /* HTTP/0.9 style */
    PARSE_ERR("GET /\n", 400);
    PARSE_ERR("GET\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.10\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/11.1\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/2\r\n\r\n", 400);
    PARSE_ERR("GET / http/1.1\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1,1\r\n\r\n", 400);
    PARSE_ERR("GET / HTTPS/1.1\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1x\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/ 1.1\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1 extra\r\n\r\n", 400);
    PARSE_ERR("G\x80T / HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GET /\x80 HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GET /\x7f HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GET /\0 HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GET /a b HTTP/1.1\r\n\r\n", 400);
    PARSE_ERR("GET(/) HTTP/1.1\r\n\r\n", 400);

    /* field lines */
    PARSE_ERR("GET / HTTP/1.1\r\n: v\r\n\r\n", 400); /* empty name */
    PARSE_ERR("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX y: v\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX(y): v\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX\x80: v\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX: a\x1b[0m\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX: \x0b\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX: \x0c\r\n\r\n", 400);
    /* an error is reported as soon as it is seen, head complete or not */
    PARSE_ERR("GET / HTTP/1.1\r\nX: a\0", 400);
    PARSE_ERR("GET /\x01", 400);
    PARSE_ERR("G@", 400);
}

/* RFC 9112 5.1: no whitespace between field name and colon. */
static void test_space_before_colon(void)
{
    PARSE_ERR("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nHost  :a\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", 400);
}

/* RFC 9112 5.2 / 2.2: obs-fold and whitespace after the start-line. */
static void test_obs_fold(void)
{
    PARSE_ERR("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX: a\n b\n\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", 400);
    PARSE_ERR("GET / HTTP/1.1\r\nX: a\r\n \r\n\r\n", 400);
}

static void test_versions(void)
{
    PARSE_ERR("GET / HTTP/2.0\r\n\r\n", 505);
    PARSE_ERR("GET / HTTP/0.9\r\n\r\n", 505);
    PARSE_ERR("GET / HTTP/3.1\r\n\r\n", 505);
    PARSE_ERR("GET / HTTP/0.0\r\n\r\n", 505);
    PARSE_ERR("GET / HTTP/9.9\r\nHost: a\r\n\r\n", 505);
    /* reported once the request-line is complete */
    PARSE_ERR("GET / HTTP/2.0\r\n", 505);
    PARSE_ERR("GET / HTTP/2.0\n", 505);
    PARSE_INCOMPLETE("GET / HTTP/2.0");
    PARSE_INCOMPLETE("GET / HTTP/2.0\r");
    PARSE_ERR("GET / HTTP/2.0x", 400);
    PARSE_OK("GET / HTTP/1.0\r\n\r\n");
    CHECK_INT(req.minor_version, 0);
    PARSE_OK("GET / HTTP/1.1\r\n\r\n");
    CHECK_INT(req.minor_version, 1);
}

static void test_max_headers(void)
{
    char buf[2048];
    size_t len = 0;

    len += (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS; i++)
        len += (size_t)sprintf(buf + len, "H%d: %d\r\n", i, i);
    memcpy(buf + len, "\r\n", 2);
    CHECK_INT(parse_n(buf, len + 2, 0), len + 2);
    CHECK_INT(req.num_headers, HTTP_MAX_HEADERS);
    CHECK_MEM(req.headers[HTTP_MAX_HEADERS - 1].name, req.headers[HTTP_MAX_HEADERS - 1].name_len,
              "H63");
    CHECK_MEM(req.headers[HTTP_MAX_HEADERS - 1].value, req.headers[HTTP_MAX_HEADERS - 1].value_len,
              "63");

    len += (size_t)sprintf(buf + len, "H64: 64\r\n\r\n");
    CHECK_INT(parse_n(buf, len, 0), HTTP_PARSE_ERROR);
    CHECK_INT(req.error_status, 431);
    /* as soon as the 65th field starts */
    CHECK_INT(parse_n(buf, len - 10, 0), HTTP_PARSE_ERROR);
    CHECK_INT(req.error_status, 431);
    CHECK_INT(parse_n(buf, len - 11, 0), HTTP_PARSE_INCOMPLETE);
}

/* Every proper prefix of a request is incomplete, with and without last_len. */
static void truncations(int line, const char *s)
{
    size_t n = strlen(s);
    bool ok = true;

    for (size_t i = 0; i < n && ok; i++) {
        int r = parse_n(s, i, 0);
        ok = expect_at(line, r == HTTP_PARSE_INCOMPLETE, "prefix %zu of %zu: %d", i, n, r);
    }
    ok = expect_at(line, parse_n(s, n, 0) == (int)n, "whole request");

    /* byte by byte, as a slowloris client sends it */
    for (size_t i = 1; i < n && ok; i++) {
        int r = parse_n(s, i, i - 1);
        ok = expect_at(line, r == HTTP_PARSE_INCOMPLETE, "prefix %zu, last_len %zu: %d", i, i - 1,
                       r);
    }
    expect_at(line, parse_n(s, n, n - 1) == (int)n, "whole request, last_len %zu", n - 1);

    /* in chunks of every size */
    for (size_t step = 2; step <= n; step++) {
        size_t last = 0;
        int r = HTTP_PARSE_INCOMPLETE;
        while (r == HTTP_PARSE_INCOMPLETE && last < n) {
            size_t i = last + step < n ? last + step : n;
            r = parse_n(s, i, last);
            last = i;
        }
        if (!expect_at(line, r == (int)n && last == n, "step %zu: %d at %zu", step, r, last))
            break;
    }
}

static void test_truncation(void)
{
    truncations(__LINE__, "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n"
                          "User-Agent: test/1.0\r\nAccept: */*\r\nConnection: keep-alive\r\n"
                          "If-None-Match: \"abc\"\r\n\r\n");
    truncations(__LINE__, "\r\n\r\nHEAD / HTTP/1.0\nA: b\r\nC:\n\r\n");
    truncations(__LINE__, "\n\nGET / HTTP/1.1\n\n");
    truncations(__LINE__, "GET / HTTP/1.1\r\n\r\n");
    truncations(__LINE__, "G / HTTP/1.1\r\nX:\r\nY: \t\r\n\r\n");
}

/*
 * The fast path: with last_len, new bytes that cannot end the head are not
 * looked at; the full parse happens once an end of head may be there.
 */
static void test_last_len(void)
{
    static const char bad[] = "GET /\x01 HTTP/1.1\r\nX: y\r\n\r\n";
    size_t n = sizeof(bad) - 1;

    CHECK_INT(parse_n(bad, 6, 0), HTTP_PARSE_ERROR);
    CHECK_INT(parse_n(bad, 6, 5), HTTP_PARSE_INCOMPLETE); /* documented */
    CHECK_INT(parse_n(bad, n - 2, 5), HTTP_PARSE_INCOMPLETE);
    CHECK_INT(parse_n(bad, n, n - 2), HTTP_PARSE_ERROR);
    CHECK_INT(req.error_status, 400);
    CHECK_INT(parse_n(bad, n, n - 1), HTTP_PARSE_ERROR);
    CHECK_INT(parse_n(bad, n, 1), HTTP_PARSE_ERROR);

    /* an end of head straddling last_len */
    static const char ok[] = "GET / HTTP/1.1\r\nA: b\r\n\r\n";
    n = sizeof(ok) - 1;
    for (size_t last = 1; last < n; last++)
        CHECK_INT(parse_n(ok, n, last), n);
    /* a last_len beyond len cannot be trusted: full parse */
    CHECK_INT(parse_n(ok, n, n + 10), n);
    CHECK_INT(parse_n(ok, n - 1, n + 10), HTTP_PARSE_INCOMPLETE);
    /* same length again */
    CHECK_INT(parse_n(ok, n - 1, n - 1), HTTP_PARSE_INCOMPLETE);

    /* leading empty lines look like ends of head: still right */
    static const char lead[] = "\r\n\r\n\nGET / HTTP/1.1\n\n";
    n = sizeof(lead) - 1;
    for (size_t i = 1; i < n; i++)
        CHECK_INT(parse_n(lead, i, i - 1), HTTP_PARSE_INCOMPLETE);
    CHECK_INT(parse_n(lead, n, n - 1), n);

    /* LF LF and LF CR LF both trigger the parse */
    CHECK_INT(parse_n("GET / HTTP/1.1\n\n", 16, 15), 16);
    CHECK_INT(parse_n("GET / HTTP/1.1\n\r\n", 17, 16), 17);
    CHECK_INT(parse_n("GET / HTTP/1.1\n\r\n", 17, 14), 17);
    CHECK_INT(parse_n("GET / HTTP/1.1\r\n\r\n", 18, 14), 18);
}

/* Build prefix, the byte c, suffix into buf; returns the length. */
static size_t with_byte(char *buf, const char *prefix, int c, const char *suffix)
{
    size_t a = strlen(prefix), b = strlen(suffix);
    memcpy(buf, prefix, a);
    buf[a] = (char)c;
    memcpy(buf + a + 1, suffix, b);
    return a + 1 + b;
}

/* Every byte value at every position of the grammar. */
static void test_every_byte(void)
{
    char buf[128], want[16];
    size_t len;
    int r;

    for (int c = 0; c < 256; c++) {
        /* in the method: a tchar or nothing */
        len = with_byte(buf, "GE", c, "T / HTTP/1.1\r\n\r\n");
        r = parse_n(buf, len, 0);
        if (is_tchar(c)) {
            sprintf(want, "GE%cT", c);
            expect_at(__LINE__, r == (int)len && mem_is(req.method, req.method_len, want),
                      "method byte 0x%02x: %d", c, r);
        } else {
            expect_at(__LINE__, r == HTTP_PARSE_ERROR && req.error_status == 400,
                      "method byte 0x%02x: %d", c, r);
        }

        /* in the request-target: visible ASCII only */
        len = with_byte(buf, "GET /a", c, "b HTTP/1.1\r\n\r\n");
        r = parse_n(buf, len, 0);
        if (c >= 0x21 && c <= 0x7e) {
            sprintf(want, "/a%cb", c);
            expect_at(__LINE__, r == (int)len && mem_is(req.target, req.target_len, want),
                      "target byte 0x%02x: %d", c, r);
        } else {
            expect_at(__LINE__, r == HTTP_PARSE_ERROR && req.error_status == 400,
                      "target byte 0x%02x: %d", c, r);
        }

        /* in a field name: a tchar, or the colon that ends it */
        len = with_byte(buf, "GET / HTTP/1.1\r\nXa", c, "b: v\r\n\r\n");
        r = parse_n(buf, len, 0);
        if (c == ':') {
            expect_at(__LINE__,
                      r == (int)len && mem_is(req.headers[0].name, req.headers[0].name_len, "Xa") &&
                          mem_is(req.headers[0].value, req.headers[0].value_len, "b: v"),
                      "name byte ':': %d", r);
        } else if (is_tchar(c)) {
            sprintf(want, "Xa%cb", c);
            expect_at(__LINE__,
                      r == (int)len && mem_is(req.headers[0].name, req.headers[0].name_len, want),
                      "name byte 0x%02x: %d", c, r);
        } else {
            expect_at(__LINE__, r == HTTP_PARSE_ERROR && req.error_status == 400,
                      "name byte 0x%02x: %d", c, r);
        }

        /* at the start of a field line: only CR/LF (end of head) or a tchar */
        len = with_byte(buf, "GET / HTTP/1.1\r\nA: b\r\n", c, "X: v\r\n\r\n");
        r = parse_n(buf, len, 0);
        if (c == '\n') {
            expect_at(__LINE__, r == (int)len - 8 && req.num_headers == 1, "line start byte LF: %d",
                      r);
        } else if (is_tchar(c)) {
            sprintf(want, "%cX", c);
            expect_at(__LINE__,
                      r == (int)len && mem_is(req.headers[1].name, req.headers[1].name_len, want),
                      "line start byte 0x%02x: %d", c, r);
        } else {
            expect_at(__LINE__, r == HTTP_PARSE_ERROR && req.error_status == 400,
                      "line start byte 0x%02x: %d", c, r);
        }

        /* in a field value: VCHAR, obs-text, SP, HTAB */
        len = with_byte(buf, "GET / HTTP/1.1\r\nX: a", c, "b\r\n\r\n");
        r = parse_n(buf, len, 0);
        if (c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7e) || c >= 0x80) {
            sprintf(want, "a%cb", c);
            expect_at(__LINE__,
                      r == (int)len && mem_is(req.headers[0].value, req.headers[0].value_len, want),
                      "value byte 0x%02x: %d", c, r);
        } else {
            expect_at(__LINE__, r == HTTP_PARSE_ERROR && req.error_status == 400,
                      "value byte 0x%02x: %d", c, r);
        }

        /* at the end of a value: whitespace is trimmed */
        len = with_byte(buf, "GET / HTTP/1.1\r\nX: a", c, "\r\n\r\n");
        r = parse_n(buf, len, 0);
        if (c == ' ' || c == '\t' || c == '\n') {
            expect_at(__LINE__,
                      r > 0 && mem_is(req.headers[0].value, req.headers[0].value_len, "a"),
                      "value end byte 0x%02x: %d", c, r);
        } else if ((c >= 0x21 && c <= 0x7e) || c >= 0x80) {
            sprintf(want, "a%c", c);
            expect_at(__LINE__,
                      r == (int)len && mem_is(req.headers[0].value, req.headers[0].value_len, want),
                      "value end byte 0x%02x: %d", c, r);
        } else {
            expect_at(__LINE__, r == HTTP_PARSE_ERROR && req.error_status == 400,
                      "value end byte 0x%02x: %d", c, r);
        }

        /* the major version digit */
        len = with_byte(buf, "GET / HTTP/", c, ".1\r\n\r\n");
        r = parse_n(buf, len, 0);
        if (c == '1')
            expect_at(__LINE__, r == (int)len, "major 0x%02x: %d", c, r);
        else
            expect_at(__LINE__,
                      r == HTTP_PARSE_ERROR &&
                          req.error_status == (c >= '0' && c <= '9' ? 505 : 400),
                      "major 0x%02x: %d %d", c, r, req.error_status);

        /* the minor version digit */
        len = with_byte(buf, "GET / HTTP/1.", c, "\r\n\r\n");
        r = parse_n(buf, len, 0);
        if (c >= '0' && c <= '9')
            expect_at(__LINE__, r == (int)len && req.minor_version == (c == '0' ? 0 : 1),
                      "minor 0x%02x: %d", c, r);
        else
            expect_at(__LINE__, r == HTTP_PARSE_ERROR && req.error_status == 400,
                      "minor 0x%02x: %d", c, r);

        /* after the version: only the line end */
        len = with_byte(buf, "GET / HTTP/1.1", c, "\r\n\r\n");
        r = parse_n(buf, len, 0);
        if (c == '\n')
            expect_at(__LINE__, r == (int)len - 2, "after version LF: %d", r);
        else
            expect_at(__LINE__, r == HTTP_PARSE_ERROR && req.error_status == 400,
                      "after version 0x%02x: %d", c, r);

        /* the separators: exactly one SP */
        len = with_byte(buf, "GET", c, "/ HTTP/1.1\r\n\r\n");
        r = parse_n(buf, len, 0);
        if (c == ' ')
            expect_at(__LINE__, r == (int)len, "separator SP: %d", r);
        else
            expect_at(__LINE__, r == HTTP_PARSE_ERROR && req.error_status == 400,
                      "separator 0x%02x: %d", c, r);
    }
}

/* http_overflow_status of the bytes of a string literal */
#define OVERFLOW(s) http_overflow_status(guarded(s, sizeof(s) - 1), sizeof(s) - 1)

static void test_overflow_status(void)
{
    CHECK_INT(OVERFLOW(""), 414);
    CHECK_INT(OVERFLOW("GET /aaaa"), 414);
    CHECK_INT(OVERFLOW("GET / HTTP/1.1\r"), 414);
    CHECK_INT(OVERFLOW("GET / HTTP/1.1\r\n"), 431);
    CHECK_INT(OVERFLOW("GET / HTTP/1.1\nX: aaaa"), 431);
    CHECK_INT(OVERFLOW("\r\n\r\n\nGET /aaa"), 414);
    CHECK_INT(OVERFLOW("\r\n\r\n\nGET / HTTP/1.1\r\nX"), 431);
    CHECK_INT(OVERFLOW("\r\n\r\n"), 414);
    CHECK_INT(OVERFLOW("\r\n\r"), 414);
    CHECK_INT(OVERFLOW("\n"), 414);
    CHECK_INT(OVERFLOW("GET /\0\n"), 431);
}

/* ---------------------------------------------------------------- http_request_check */

/* Parse s (must succeed) and check it; returns whether both went as wanted. */
static bool check_case(int line, const char *s, int want)
{
    size_t len = strlen(s);
    int r = parse_n(s, len, 0);

    if (!expect_at(line, r == (int)len, "parse returned %d (status %d)", r, req.error_status))
        return false;
    int st = http_request_check(&req, &info);
    return expect_at(line, st == want, "http_request_check returned %d, want %d", st, want);
}

#define REQ_CHECK(s, want) check_case(__LINE__, s, want)

static void test_check_host(void)
{
    REQ_CHECK("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 0);
    CHECK(info.host != NULL && mem_is(info.host->value, info.host->value_len, "example.com"));
    REQ_CHECK("GET / HTTP/1.1\r\n\r\n", 400);
    REQ_CHECK("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
    REQ_CHECK("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n", 400);
    REQ_CHECK("GET / HTTP/1.9\r\n\r\n", 400);
    REQ_CHECK("GET / HTTP/1.0\r\n\r\n", 0);
    CHECK(info.host == NULL);
    REQ_CHECK("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    REQ_CHECK("GET / HTTP/1.0\r\nHost: a b\r\n\r\n", 400);
    REQ_CHECK("GET / HTTP/1.1\r\nHOST: a\r\n\r\n", 0);
    REQ_CHECK("GET / HTTP/1.1\r\nHost:\r\n\r\n", 0); /* RFC 9112 3.2: may be empty */
    CHECK(info.host != NULL && info.host->value_len == 0);

    static const struct {
        int line;
        const char *host;
        bool valid;
    } hosts[] = {
        { __LINE__, "example.com", true },
        { __LINE__, "example.com:8080", true },
        { __LINE__, "example.com:", true },
        { __LINE__, "EXAMPLE.com.", true },
        { __LINE__, "127.0.0.1", true },
        { __LINE__, "127.0.0.1:80", true },
        { __LINE__, "[::1]", true },
        { __LINE__, "[::1]:443", true },
        { __LINE__, "[2001:db8::a:b:c:d]", true },
        { __LINE__, "[::ffff:192.0.2.1]", true },
        { __LINE__, "[v1.fe:x]", true },
        { __LINE__, "xn--bcher-kva.example", true },
        { __LINE__, "a-b_c~d!$&'()*+,;=", true },
        { __LINE__, "ex%41mple", true },
        { __LINE__, "localhost", true },
        { __LINE__, "a b", false },
        { __LINE__, "a/b", false },
        { __LINE__, "user@host", false },
        { __LINE__, "a:b", false },
        { __LINE__, "a:80:90", false },
        { __LINE__, "a:8 0", false },
        { __LINE__, "a\tb", false },
        { __LINE__, "ex%4", false },
        { __LINE__, "ex%zz", false },
        { __LINE__, "%", false },
        { __LINE__, "a\"b", false },
        { __LINE__, "a<b>", false },
        { __LINE__, "a\\b", false },
        { __LINE__, "a?b", false },
        { __LINE__, "a#b", false },
        { __LINE__, "caf\xc3\xa9", false },
        { __LINE__, "[::1", false },
        { __LINE__, "[]", false },
        { __LINE__, "[1234]", false },
        { __LINE__, "[::g]", false },
        { __LINE__, "[::1]x", false },
        { __LINE__, "[::1]:8a", false },
        { __LINE__, "[fe80::1%25eth0]", false },
        { __LINE__, "[v1]", false },
        { __LINE__, "[v.x]", false },
        { __LINE__, "[v1.]", false },
        { __LINE__, "::1", false },
        { __LINE__, "a[b]", false },
    };
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        char buf[128];
        snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", hosts[i].host);
        check_case(hosts[i].line, buf, hosts[i].valid ? 0 : 400);
    }
}

/* RFC 9112 3.2.2: an absolute-form target's authority is checked like Host. */
static void test_check_absolute_form(void)
{
    static const struct {
        int line;
        const char *target;
        bool valid;
    } targets[] = {
        { __LINE__, "/", true },
        { __LINE__, "/a:b@c", true },
        { __LINE__, "*", true }, /* not absolute-form: the path decides */
        { __LINE__, "x", true },
        { __LINE__, "http:/x", true },
        { __LINE__, "http://example.com", true },
        { __LINE__, "http://example.com/", true },
        { __LINE__, "HTTP://example.com/a?b#c", true },
        { __LINE__, "https://example.com:8443/x", true },
        { __LINE__, "http://example.com:/", true },
        { __LINE__, "http://127.0.0.1:80/", true },
        { __LINE__, "http://[::1]/", true },
        { __LINE__, "http://[abcd::ef98:0:7654:321]:8080/x", true },
        { __LINE__, "http://ex%41mple?q", true },
        { __LINE__, "http://x#f", true },
        { __LINE__, "ftp://x/", true }, /* the path module refuses the scheme */
        { __LINE__, "http://[abcd::ef98:0:7654:321", false },
        { __LINE__, "http://[abcd::ef98:0:7654:321/", false },
        { __LINE__, "http://host:1.2/", false },
        { __LINE__, "http://123.40.56.78:9000:80/", false },
        { __LINE__, "http://123.40.56.78:9000:80", false },
        { __LINE__, "http:///", false },
        { __LINE__, "http://", false },
        { __LINE__, "http://:80/", false },
        { __LINE__, "http://user@host/", false },
        { __LINE__, "http://user:pw@host/", false },
        { __LINE__, "http://a\"b/", false },
        { __LINE__, "http://a%zz/", false },
        { __LINE__, "http://[::1]x/", false },
        { __LINE__, "http://[]/", false },
        { __LINE__, "https://h:8a/", false },
        { __LINE__, "x+y.z-1://a:b/", false },
    };
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        char buf[160];
        snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", targets[i].target);
        check_case(targets[i].line, buf, targets[i].valid ? 0 : 400);
        snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\n\r\n", targets[i].target);
        check_case(targets[i].line, buf, targets[i].valid ? 0 : 400);
    }
}

static void test_check_length(void)
{
    static const struct {
        int line;
        const char *fields;
        int status;
        uint64_t length;
    } cases[] = {
        { __LINE__, "Content-Length: 5\r\n", 0, 5 },
        { __LINE__, "Content-Length: 0\r\n", 0, 0 },
        { __LINE__, "Content-Length: 007\r\n", 0, 7 },
        { __LINE__, "content-length: 5\r\n", 0, 5 },
        { __LINE__, "Content-Length: 5, 5\r\n", 0, 5 },
        { __LINE__, "Content-Length: 5,5\r\n", 0, 5 },
        { __LINE__, "Content-Length: 5 ,\t5 , 5\r\n", 0, 5 },
        { __LINE__, "Content-Length: 5, 05\r\n", 0, 5 },
        { __LINE__, "Content-Length: 5\r\nContent-Length: 5\r\n", 0, 5 },
        { __LINE__, "Content-Length: 9223372036854775807\r\n", 0, 9223372036854775807u },
        { __LINE__, "Content-Length: 5, 6\r\n", 400, 0 },
        { __LINE__, "Content-Length: 5\r\nContent-Length: 6\r\n", 400, 0 },
        { __LINE__, "Content-Length: 5\r\nContent-Length: x\r\n", 400, 0 },
        { __LINE__, "Content-Length: x\r\nContent-Length: 5\r\n", 400, 0 },
        { __LINE__, "Content-Length: 5\r\nContent-Length: \r\n", 400, 0 },
        { __LINE__, "Content-Length: \r\n", 400, 0 },
        { __LINE__, "Content-Length: abc\r\n", 400, 0 },
        { __LINE__, "Content-Length: -1\r\n", 400, 0 },
        { __LINE__, "Content-Length: +5\r\n", 400, 0 },
        { __LINE__, "Content-Length: 5 5\r\n", 400, 0 },
        { __LINE__, "Content-Length: 5,\r\n", 400, 0 },
        { __LINE__, "Content-Length: ,5\r\n", 400, 0 },
        { __LINE__, "Content-Length: 5,,5\r\n", 400, 0 },
        { __LINE__, "Content-Length: 0x10\r\n", 400, 0 },
        { __LINE__, "Content-Length: 1e3\r\n", 400, 0 },
        { __LINE__, "Content-Length: 5;\r\n", 400, 0 },
        { __LINE__, "Content-Length: 9223372036854775808\r\n", 400, 0 },
        { __LINE__, "Content-Length: 18446744073709551616\r\n", 400, 0 },
        { __LINE__, "Content-Length: 99999999999999999999999999\r\n", 400, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[256];
        snprintf(buf, sizeof(buf), "POST / HTTP/1.1\r\nHost: a\r\n%s\r\n", cases[i].fields);
        if (check_case(cases[i].line, buf, cases[i].status) && cases[i].status == 0)
            expect_at(cases[i].line,
                      info.has_content_length && info.content_length == cases[i].length,
                      "content_length %" PRIu64, info.content_length);
    }
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\n\r\n", 0);
    CHECK(!info.has_content_length);
    CHECK(!info.chunked);
}

static void test_check_transfer_encoding(void)
{
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 0);
    CHECK(info.chunked);
    CHECK(!info.has_content_length);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n", 0);
    CHECK(info.chunked);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding:  Chunked \r\n\r\n", 0);
    CHECK(info.chunked);
    /* TE + CL, in either order (RFC 9112 6.3: request smuggling) */
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
              "Content-Length: 5\r\n\r\n",
              400);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
              "Transfer-Encoding: chunked\r\n\r\n",
              400);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
              "Transfer-Encoding: gzip\r\n\r\n",
              400);
    /* TE in HTTP/1.0 */
    REQ_CHECK("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    CHECK(!info.chunked);
    REQ_CHECK("POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
    /* codings other than a single chunked */
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 501);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 501);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 501);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
              "Transfer-Encoding: chunked\r\n\r\n",
              501);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", 501);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 501);
    REQ_CHECK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 501);
    CHECK(!info.chunked);
    /* Host errors come first */
    REQ_CHECK("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
}

static void test_check_keep_alive(void)
{
    static const struct {
        int line;
        const char *req;
        bool keep_alive;
    } cases[] = {
        { __LINE__, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", true },
        { __LINE__, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false },
        { __LINE__, "GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n", false },
        { __LINE__, "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", false },
        { __LINE__, "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade,Close\r\n\r\n", false },
        { __LINE__,
          "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n"
          "Connection: close\r\n\r\n",
          false },
        { __LINE__, "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", true },
        { __LINE__, "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", true },
        { __LINE__, "GET / HTTP/1.1\r\nHost: a\r\nX-Connection: close\r\n\r\n", true },
        { __LINE__, "GET / HTTP/1.0\r\n\r\n", false },
        { __LINE__, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true },
        { __LINE__, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true },
        { __LINE__, "GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n", true },
        { __LINE__, "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false },
        { __LINE__, "GET / HTTP/1.0\r\nConnection: close\r\n\r\n", false },
        { __LINE__, "GET / HTTP/1.0\r\nConnection: keep-alive-ish\r\n\r\n", false },
        { __LINE__, "GET / HTTP/1.0\r\nKeep-Alive: timeout=5\r\n\r\n", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (check_case(cases[i].line, cases[i].req, 0))
            expect_at(cases[i].line, info.keep_alive == cases[i].keep_alive, "keep_alive %d",
                      info.keep_alive);

    /* never after an error */
    REQ_CHECK("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", 400);
    CHECK(!info.keep_alive);
    REQ_CHECK("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
    CHECK(!info.keep_alive);
}

static void test_check_expect(void)
{
    REQ_CHECK("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", 0);
    CHECK(info.expect_continue);
    REQ_CHECK("PUT / HTTP/1.1\r\nHost: a\r\nexpect: 100-Continue\r\n\r\n", 0);
    CHECK(info.expect_continue);
    REQ_CHECK("PUT / HTTP/1.1\r\nHost: a\r\n\r\n", 0);
    CHECK(!info.expect_continue);
    REQ_CHECK("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continuex\r\n\r\n", 0);
    CHECK(!info.expect_continue);
    REQ_CHECK("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 0);
    CHECK(!info.expect_continue);
    /* RFC 9110 10.1.1: ignored in HTTP/1.0 */
    REQ_CHECK("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", 0);
    CHECK(!info.expect_continue);
}

static void test_check_method(void)
{
    static const struct {
        int line;
        const char *method;
        enum http_method want;
    } cases[] = {
        { __LINE__, "GET", HTTP_METHOD_GET },          { __LINE__, "HEAD", HTTP_METHOD_HEAD },
        { __LINE__, "POST", HTTP_METHOD_KNOWN },       { __LINE__, "PUT", HTTP_METHOD_KNOWN },
        { __LINE__, "DELETE", HTTP_METHOD_KNOWN },     { __LINE__, "CONNECT", HTTP_METHOD_KNOWN },
        { __LINE__, "OPTIONS", HTTP_METHOD_KNOWN },    { __LINE__, "TRACE", HTTP_METHOD_KNOWN },
        { __LINE__, "PATCH", HTTP_METHOD_KNOWN },      { __LINE__, "get", HTTP_METHOD_UNKNOWN },
        { __LINE__, "Head", HTTP_METHOD_UNKNOWN },     { __LINE__, "GETX", HTTP_METHOD_UNKNOWN },
        { __LINE__, "GE", HTTP_METHOD_UNKNOWN },       { __LINE__, "HEADER", HTTP_METHOD_UNKNOWN },
        { __LINE__, "PROPFIND", HTTP_METHOD_UNKNOWN }, { __LINE__, "POS", HTTP_METHOD_UNKNOWN },
        { __LINE__, "X", HTTP_METHOD_UNKNOWN },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[128];
        snprintf(buf, sizeof(buf), "%s / HTTP/1.1\r\nHost: a\r\n\r\n", cases[i].method);
        if (check_case(cases[i].line, buf, 0))
            expect_at(cases[i].line, info.method == cases[i].want, "method %d, want %d",
                      info.method, cases[i].want);
    }
}

static void test_check_pointers(void)
{
    REQ_CHECK("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0);
    CHECK(info.if_match == NULL && info.if_none_match == NULL && info.if_modified_since == NULL &&
          info.if_unmodified_since == NULL && info.if_range == NULL && info.range == NULL &&
          info.referer == NULL && info.user_agent == NULL);
    CHECK(!info.chunked && !info.has_content_length && !info.expect_continue);

    REQ_CHECK("GET / HTTP/1.1\r\n"
              "IF-MATCH: \"m1\"\r\n"
              "If-None-Match: \"n1\"\r\n"
              "If-Modified-Since: ims1\r\n"
              "If-Unmodified-Since: ius1\r\n"
              "If-Range: ir1\r\n"
              "range: bytes=0-1\r\n"
              "Referer: http://r/\r\n"
              "User-Agent: ua1\r\n"
              "Host: a\r\n"
              "If-Match: \"m2\"\r\n"
              "If-None-Match: \"n2\"\r\n"
              "If-Modified-Since: ims2\r\n"
              "If-Unmodified-Since: ius2\r\n"
              "If-Range: ir2\r\n"
              "Range: bytes=2-3\r\n"
              "Referer: r2\r\n"
              "User-Agent: ua2\r\n"
              "If-Matches: x\r\n"
              "\r\n",
              0);
    CHECK(info.if_match == &req.headers[0]);
    CHECK(info.if_none_match == &req.headers[1]);
    CHECK(info.if_modified_since == &req.headers[2]);
    CHECK(info.if_unmodified_since == &req.headers[3]);
    CHECK(info.if_range == &req.headers[4]);
    CHECK(info.range == &req.headers[5]);
    CHECK(info.referer == &req.headers[6]);
    CHECK(info.user_agent == &req.headers[7]);
    CHECK(info.host == &req.headers[8]);
    CHECK_MEM(info.range->value, info.range->value_len, "bytes=0-1");

    CHECK(http_find_header(&req, "if-match") == &req.headers[0]);
    CHECK(http_find_header(&req, "HOST") == &req.headers[8]);
    CHECK(http_find_header(&req, "If-Matches") == &req.headers[17]);
    CHECK(http_find_header(&req, "If-Matc") == NULL);
    CHECK(http_find_header(&req, "X") == NULL);
    CHECK(http_find_header(&req, "") == NULL);
}

/* ---------------------------------------------------------------- helpers */

static void test_has_token(void)
{
    static const struct {
        int line;
        const char *value;
        const char *token;
        bool want;
    } cases[] = {
        { __LINE__, "close", "close", true },
        { __LINE__, "Close", "close", true },
        { __LINE__, "close", "CLOSE", true },
        { __LINE__, " keep-alive , close ", "close", true },
        { __LINE__, "keep-alive\t,\tclose", "keep-alive", true },
        { __LINE__, "a,,close,", "close", true },
        { __LINE__, ",close", "close", true },
        { __LINE__, "upgrade, close, te", "close", true },
        { __LINE__, "closed", "close", false },
        { __LINE__, "x-close", "close", false },
        { __LINE__, "clos", "close", false },
        { __LINE__, "close", "clos", false },
        { __LINE__, "close;q=1", "close", false },
        { __LINE__, "\"close\"", "close", false },
        { __LINE__, "clo se", "close", false },
        { __LINE__, "", "close", false },
        { __LINE__, ",,, ,\t", "close", false },
        { __LINE__, "close", "", false },
        { __LINE__, "", "", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].value);
        bool got = http_has_token(guarded(cases[i].value, len), len, cases[i].token);
        expect_at(cases[i].line, got == cases[i].want, "has_token(\"%s\", \"%s\") = %d",
                  cases[i].value, cases[i].token, got);
    }
}

static void test_reason(void)
{
    static const struct {
        int status;
        const char *reason;
    } cases[] = {
        { 100, "Continue" },
        { 101, "Switching Protocols" },
        { 200, "OK" },
        { 201, "Created" },
        { 204, "No Content" },
        { 206, "Partial Content" },
        { 301, "Moved Permanently" },
        { 302, "Found" },
        { 303, "See Other" },
        { 304, "Not Modified" },
        { 307, "Temporary Redirect" },
        { 308, "Permanent Redirect" },
        { 400, "Bad Request" },
        { 401, "Unauthorized" },
        { 403, "Forbidden" },
        { 404, "Not Found" },
        { 405, "Method Not Allowed" },
        { 406, "Not Acceptable" },
        { 408, "Request Timeout" },
        { 409, "Conflict" },
        { 410, "Gone" },
        { 411, "Length Required" },
        { 412, "Precondition Failed" },
        { 413, "Content Too Large" },
        { 414, "URI Too Long" },
        { 415, "Unsupported Media Type" },
        { 416, "Range Not Satisfiable" },
        { 417, "Expectation Failed" },
        { 421, "Misdirected Request" },
        { 426, "Upgrade Required" },
        { 428, "Precondition Required" },
        { 429, "Too Many Requests" },
        { 431, "Request Header Fields Too Large" },
        { 500, "Internal Server Error" },
        { 501, "Not Implemented" },
        { 502, "Bad Gateway" },
        { 503, "Service Unavailable" },
        { 504, "Gateway Timeout" },
        { 505, "HTTP Version Not Supported" },
        { 0, "Unknown" },
        { -1, "Unknown" },
        { 299, "Unknown" },
        { 418, "Unknown" },
        { 999, "Unknown" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STR(http_reason(cases[i].status), cases[i].reason);
}

static void test_format_date(void)
{
    static const struct {
        int line;
        int64_t t;
        const char *want;
    } cases[] = {
        { __LINE__, 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
        { __LINE__, 784111777, "Sun, 06 Nov 1994 08:49:37 GMT" },
        { __LINE__, 951782400, "Tue, 29 Feb 2000 00:00:00 GMT" },
        { __LINE__, 1700000000, "Tue, 14 Nov 2023 22:13:20 GMT" },
        { __LINE__, -1, "Wed, 31 Dec 1969 23:59:59 GMT" },
        { __LINE__, 2147483647, "Tue, 19 Jan 2038 03:14:07 GMT" },
        { __LINE__, 2147483648, "Tue, 19 Jan 2038 03:14:08 GMT" },
        { __LINE__, 4102444800, "Fri, 01 Jan 2100 00:00:00 GMT" },
        { __LINE__, -2208988800, "Mon, 01 Jan 1900 00:00:00 GMT" },
        { __LINE__, 253402300799, "Fri, 31 Dec 9999 23:59:59 GMT" },
        { __LINE__, 253402300800, "Fri, 31 Dec 9999 23:59:59 GMT" }, /* clamped */
        { __LINE__, INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT" },
        { __LINE__, -62167219200, "Sat, 01 Jan 0000 00:00:00 GMT" },
        { __LINE__, INT64_MIN, "Sat, 01 Jan 0000 00:00:00 GMT" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[HTTP_DATE_LEN + 2];
        memset(out, 'x', sizeof(out));
        size_t n = http_format_date(out, (time_t)cases[i].t);
        expect_at(cases[i].line,
                  n == HTTP_DATE_LEN && strcmp(out, cases[i].want) == 0 &&
                      out[HTTP_DATE_LEN + 1] == 'x',
                  "format_date(%" PRId64 ") = \"%s\"", cases[i].t, out);
    }
}

static void test_parse_date(void)
{
    static const struct {
        int line;
        const char *s;
        bool valid;
        int64_t t;
    } cases[] = {
        { __LINE__, "Sun, 06 Nov 1994 08:49:37 GMT", true, 784111777 },
        { __LINE__, "Sunday, 06-Nov-94 08:49:37 GMT", true, 784111777 },
        { __LINE__, "Sun Nov  6 08:49:37 1994", true, 784111777 },
        { __LINE__, "Sun Nov 06 08:49:37 1994", true, 784111777 },
        { __LINE__, "Thu, 01 Jan 1970 00:00:00 GMT", true, 0 },
        { __LINE__, "Wed, 31 Dec 1969 23:59:59 GMT", true, -1 },
        { __LINE__, "Tue, 29 Feb 2000 00:00:00 GMT", true, 951782400 },
        { __LINE__, "Tue Feb 29 00:00:00 2000", true, 951782400 },
        { __LINE__, "Tuesday, 29-Feb-00 00:00:00 GMT", true, 951782400 },
        { __LINE__, "Thursday, 01-Jan-70 00:00:00 GMT", true, 0 },
        { __LINE__, "Wednesday, 31-Dec-69 00:00:00 GMT", true, 3155673600 },
        { __LINE__, "Monday, 01-Jan-01 00:00:00 GMT", true, 978307200 },
        { __LINE__, "Saturday, 31-Dec-99 23:59:59 GMT", true, 946684799 },
        { __LINE__, "Tue, 19 Jan 2038 03:14:08 GMT", true, 2147483648 },
        { __LINE__, "Fri, 31 Dec 9999 23:59:59 GMT", true, 253402300799 },
        { __LINE__, "Mon, 06 Nov 1994 08:49:37 GMT", true, 784111777 }, /* weekday not checked */
        { __LINE__, "Sun, 06 Nov 1994 23:59:60 GMT", true, 784166400 }, /* leap second */
        { __LINE__, "Sun Nov 16 08:49:37 1994", true, 784975777 },
        { __LINE__, "Sat, 31 Dec 2016 23:59:59 GMT", true, 1483228799 },
        { __LINE__, "Sun, 06 Nov 1994 08:49:37 UTC", false, 0 },
        { __LINE__, "Sun, 06 Nov 1994 08:49:37 gmt", false, 0 },
        { __LINE__, "sun, 06 Nov 1994 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 06 nov 1994 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 06 Nov 1994 08:49:37 GMT ", false, 0 },
        { __LINE__, " Sun, 06 Nov 1994 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 06 Nov 1994 08:49:37 GMTx", false, 0 },
        { __LINE__, "Sun, 6 Nov 1994 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 06 Nov 94 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun,06 Nov 1994 08:49:37 GMT ", false, 0 },
        { __LINE__, "Sun, 06-Nov-1994 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 06 Nov 1994 8:49:37 GMT ", false, 0 },
        { __LINE__, "Sun, 06 Nov 1994 08:49:37", false, 0 },
        { __LINE__, "Sun, 06 Nov 1994 24:00:00 GMT", false, 0 },
        { __LINE__, "Sun, 06 Nov 1994 08:60:00 GMT", false, 0 },
        { __LINE__, "Sun, 06 Nov 1994 08:49:61 GMT", false, 0 },
        { __LINE__, "Sun, 00 Nov 1994 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 32 Oct 1994 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 31 Nov 1994 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 29 Feb 1900 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 29 Feb 1999 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 30 Feb 2000 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 06 Foo 1994 08:49:37 GMT", false, 0 },
        { __LINE__, "Xyz, 06 Nov 1994 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 06 Nov 199x 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun, 06 Nov 1994 08-49-37 GMT", false, 0 },
        { __LINE__, "Sun, -6 Nov 1994 08:49:37 GMT", false, 0 },
        { __LINE__, "Sunday, 06-Nov-94 08:49:37 GMT ", false, 0 },
        { __LINE__, "Sunday, 06 Nov 94 08:49:37 GMT", false, 0 },
        { __LINE__, "Sunday, 06-Nov-94 08:49:37 UTC", false, 0 },
        { __LINE__, "Sun, 06-Nov-94 08:49:37 GMT", false, 0 },
        { __LINE__, "Sundays, 06-Nov-94 08:49:37 GMT", false, 0 },
        { __LINE__, "Funday, 06-Nov-94 08:49:37 GMT", false, 0 },
        { __LINE__, "sunday, 06-Nov-94 08:49:37 GMT", false, 0 },
        { __LINE__, "Sunday, 31-Feb-94 08:49:37 GMT", false, 0 },
        { __LINE__, "Sun Nov  6 08:49:37 1994 ", false, 0 },
        { __LINE__, "Sun Nov 6 08:49:37 1994", false, 0 },
        { __LINE__, "Sun Nov  6 08:49:37 94", false, 0 },
        { __LINE__, "Sun Nov  x 08:49:37 1994", false, 0 },
        { __LINE__, "Sun Nov   08:49:37 1994", false, 0 },
        { __LINE__, "Sun Nov  0 08:49:37 1994", false, 0 },
        { __LINE__, "Sun Nov  6 08:49:37 1994 GMT", false, 0 },
        { __LINE__, "Sunday Nov  6 08:49:37 1994", false, 0 },
        { __LINE__, "Xyz Nov  6 08:49:37 1994", false, 0 },
        { __LINE__, "Sun Nov  6 25:49:37 1994", false, 0 },
        { __LINE__, "Sun Foo  6 08:49:37 1994", false, 0 },
        { __LINE__, "Sun Nov  6 08:49:37 19x4", false, 0 },
        { __LINE__, "Sun Nov  6 08:49:37-1994", false, 0 },
        { __LINE__, "Sun,Nov  6 08:49:37 1994", false, 0 },
        { __LINE__, "Sunday, 06-Nov-94 08:49:3x GMT", false, 0 },
        { __LINE__, "Sunday, 0x-Nov-94 08:49:37 GMT", false, 0 },
        { __LINE__, "Sunday, 06-Nox-94 08:49:37 GMT", false, 0 },
        { __LINE__, "Sunday, 06-Nov-9x 08:49:37 GMT", false, 0 },
        { __LINE__, "Sunday, 06-Nov-94 08:60:37 GMT", false, 0 },
        { __LINE__, "", false, 0 },
        { __LINE__, "Sun", false, 0 },
        { __LINE__, "Sun, ", false, 0 },
        { __LINE__, "Sunday, ", false, 0 },
        { __LINE__, "Wednesday", false, 0 },
        { __LINE__, "0", false, 0 },
        { __LINE__, "784111777", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].s);
        time_t t = 12345;
        bool ok = http_parse_date(guarded(cases[i].s, len), len, &t);
        if (cases[i].valid)
            expect_at(cases[i].line, ok && (int64_t)t == cases[i].t,
                      "parse_date(\"%s\") = %d, %" PRId64, cases[i].s, ok, (int64_t)t);
        else
            expect_at(cases[i].line, !ok, "parse_date(\"%s\") accepted", cases[i].s);
    }
    /* a NUL inside or after a valid date */
    time_t t;
    CHECK(!http_parse_date(guarded("Sun, 06 Nov 1994 08:49:37 GMT\0", 30), 30, &t));
    CHECK(!http_parse_date(guarded("Sun, 06 Nov 1994\0"
                                   "08:49:37 GMT",
                                   29),
                           29, &t));
    /* a prefix of a valid date is not valid */
    static const char full[] = "Sunday, 06-Nov-94 08:49:37 GMT";
    for (size_t n = 0; n < sizeof(full) - 1; n++)
        CHECK(!http_parse_date(guarded(full, n), n, &t));
}

static void test_date_roundtrip(void)
{
    bool ok = true;

    /* about 16,000 instants from 1900 to 2100, every second of day covered */
    for (int64_t t = -2208988800; t < 4102444800 && ok; t += 393216 + 7) {
        char out[HTTP_DATE_LEN + 1];
        time_t back = 0;
        http_format_date(out, (time_t)t);
        ok = expect_at(__LINE__,
                       http_parse_date(guarded(out, HTTP_DATE_LEN), HTTP_DATE_LEN, &back) &&
                           (int64_t)back == t,
                       "roundtrip %" PRId64 ": %s", t, out);
    }
}

static void test_etag_match(void)
{
    static const struct {
        int line;
        const char *list;
        const char *etag;
        bool strong, weak; /* want under strong and under weak comparison */
    } cases[] = {
        { __LINE__, "\"abc\"", "\"abc\"", true, true },
        { __LINE__, "\"abc\"", "\"abd\"", false, false },
        { __LINE__, "\"abc\"", "\"ab\"", false, false },
        { __LINE__, "\"ab\"", "\"abc\"", false, false },
        { __LINE__, "W/\"abc\"", "\"abc\"", false, true },
        { __LINE__, "\"abc\"", "W/\"abc\"", false, true },
        { __LINE__, "W/\"abc\"", "W/\"abc\"", false, true },
        { __LINE__, "W/\"abc\"", "W/\"abd\"", false, false },
        { __LINE__, "\"x\", \"abc\"", "\"abc\"", true, true },
        { __LINE__, "\"x\",W/\"abc\" ,\t\"y\"", "\"abc\"", false, true },
        { __LINE__, "W/\"abc\", \"abc\"", "\"abc\"", true, true },
        { __LINE__, "\"x\", \"y\"", "\"abc\"", false, false },
        { __LINE__, " , ,\"abc\",, ", "\"abc\"", true, true },
        { __LINE__, "*", "\"abc\"", true, true },
        { __LINE__, " * ", "W/\"abc\"", true, true },
        { __LINE__, "*", "garbage", true, true },
        { __LINE__, "\"\"", "\"\"", true, true },
        { __LINE__, "\"\"", "\"a\"", false, false },
        { __LINE__, "\"a\xff\x80!#~\"", "\"a\xff\x80!#~\"", true, true },
        /* malformed lists match nothing */
        { __LINE__, "", "\"abc\"", false, false },
        { __LINE__, " ", "\"abc\"", false, false },
        { __LINE__, ",", "\"abc\"", false, false },
        { __LINE__, "abc", "\"abc\"", false, false },
        { __LINE__, "\"abc", "\"abc\"", false, false },
        { __LINE__, "abc\"", "\"abc\"", false, false },
        { __LINE__, "\"abc\" \"x\"", "\"abc\"", false, false },
        { __LINE__, "\"abc\"x", "\"abc\"", false, false },
        { __LINE__, "\"abc\", \"x", "\"abc\"", false, false },
        { __LINE__, "\"abc\", x", "\"abc\"", false, false },
        { __LINE__, "\"abc\", *", "\"abc\"", false, false },
        { __LINE__, "*, \"abc\"", "\"abc\"", false, false },
        { __LINE__, "**", "\"abc\"", false, false },
        { __LINE__, "w/\"abc\"", "\"abc\"", false, false },
        { __LINE__, "W\"abc\"", "\"abc\"", false, false },
        { __LINE__, "W/ \"abc\"", "\"abc\"", false, false },
        { __LINE__, "\"a bc\"", "\"a bc\"", false, false },
        { __LINE__, "\"a\tbc\"", "\"a\tbc\"", false, false },
        { __LINE__, "\"a\x7f\"", "\"a\x7f\"", false, false },
        /* a malformed etag argument matches nothing (but "*") */
        { __LINE__, "\"abc\"", "abc", false, false },
        { __LINE__, "\"abc\"", "\"abc", false, false },
        { __LINE__, "\"abc\"", "\"abc\"x", false, false },
        { __LINE__, "\"abc\"", "", false, false },
        { __LINE__, "abc", "abc", false, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].list);
        bool s = http_etag_match(guarded(cases[i].list, len), len, cases[i].etag, true);
        bool w = http_etag_match(guarded(cases[i].list, len), len, cases[i].etag, false);
        expect_at(cases[i].line, s == cases[i].strong && w == cases[i].weak,
                  "etag_match('%s', '%s'): strong %d, weak %d", cases[i].list, cases[i].etag, s, w);
    }
    CHECK(http_etag_match(guarded("*", 1), 1, NULL, true));
    CHECK(!http_etag_match(guarded("\"a\"", 3), 3, NULL, false));
    CHECK(!http_etag_match(guarded("", 0), 0, "\"a\"", false));
}

/*
 * A buffer longer than INT_MAX: the head length must still fit the int
 * result.  The mapping is reserved, not committed; only its first page is
 * touched.
 */
static void test_huge_len(void)
{
    size_t len = (size_t)INT_MAX + 2;
    char *map =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (map == MAP_FAILED) {
        fprintf(stderr, "skipping test_huge_len: mmap: %m\n");
        return;
    }
    memcpy(map, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27);
    CHECK_INT(http_parse_request(map, len, 0, &req), 27);
    CHECK_INT(http_parse_request(map, len, 20, &req), 27);
    memcpy(map, "GET / HTTP/1.1\r\nHost: a\r\n\0", 26);
    CHECK_INT(http_parse_request(map, len, 0, &req), HTTP_PARSE_ERROR);
    CHECK_INT(req.error_status, 400);
    munmap(map, len);
}

/* ---------------------------------------------------------------- chunked bodies */

#define CH_ERR (-1)  /* expected result: HTTP_PARSE_ERROR */
#define CH_MORE (-2) /* expected result: everything consumed, the body not ended */
#define CH_ALL (-4)  /* expected result: the whole input is the body */

/*
 * Feed s[0..len) to a fresh decoder in pieces: the first of first bytes, then pieces of
 * step bytes, each copied before the guard page.  Returns the bytes consumed when the
 * body ended, CH_MORE when all was consumed without an end, or CH_ERR.
 */
static long long chunked_feed(const char *s, size_t len, size_t first, size_t step,
                              uint64_t max_data, size_t max_line)
{
    struct http_chunked st;
    size_t off = 0;
    bool done = false;

    http_chunked_init(&st);
    while (off < len) {
        size_t n = off == 0 ? first : step;
        if (n > len - off)
            n = len - off;
        ssize_t r = http_chunked_skip(&st, guarded(s + off, n), n, max_data, max_line, &done);
        if (r == HTTP_PARSE_ERROR)
            return CH_ERR;
        if (r < 0 || (size_t)r > n || ((size_t)r < n && !done))
            return -3; /* a broken contract: matches no expectation */
        off += (size_t)r;
        if (done)
            return (long long)off;
    }
    return CH_MORE;
}

/* Feed s whole, byte by byte, and split in two at every point: all must give want. */
static void chunked_case(int line, const char *s, size_t len, long long want, uint64_t max_data,
                         size_t max_line)
{
    if (want == CH_ALL)
        want = (long long)len;
    long long got = chunked_feed(s, len, len, len, max_data, max_line);

    expect_at(line, got == want, "in one piece: %lld, want %lld", got, want);
    got = chunked_feed(s, len, 1, 1, max_data, max_line);
    expect_at(line, got == want, "byte by byte: %lld, want %lld", got, want);
    for (size_t split = 1; split < len; split++) {
        got = chunked_feed(s, len, split, len, max_data, max_line);
        if (!expect_at(line, got == want, "split at %zu: %lld, want %lld", split, got, want))
            break;
    }
}

#define CHUNKED(s, want) chunked_case(__LINE__, s, sizeof(s) - 1, want, 1u << 20, 100)
#define CHUNKED_LIMITS(s, want, max_data, max_line) \
    chunked_case(__LINE__, s, sizeof(s) - 1, want, max_data, max_line)
#define CHUNKED_ALL(s) CHUNKED(s, CH_ALL)

static void test_chunked_valid(void)
{
    CHUNKED_ALL("0\r\n\r\n");
    CHUNKED_ALL("5\r\nhello\r\n0\r\n\r\n");
    CHUNKED_ALL("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    CHUNKED_ALL("A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
    CHUNKED_ALL("1f\r\n0123456789012345678901234567890\r\n0\r\n\r\n");
    CHUNKED_ALL("1F\r\n0123456789012345678901234567890\r\n0\r\n\r\n");
    CHUNKED_ALL("0005\r\nhello\r\n000\r\n\r\n");
    CHUNKED_ALL("2\r\n\r\n\r\n0\r\n\r\n"); /* data may hold CRLF */
    CHUNKED_ALL("3\r\n\x00\xff\n\r\n0\r\n\r\n");
    /* chunk extensions */
    CHUNKED_ALL("5;name=value\r\nhello\r\n0;last\r\n\r\n");
    CHUNKED_ALL("5;a;b=c;d\r\nhello\r\n0\r\n\r\n");
    CHUNKED_ALL("5 ;\ta = b ; c\r\nhello\r\n0\r\n\r\n");
    CHUNKED_ALL("5;a=\"x;y=z\"\r\nhello\r\n0\r\n\r\n");
    CHUNKED_ALL("5;a=\"q\\\"\\\\ \t\x80\"\r\nhello\r\n0\r\n\r\n");
    CHUNKED_ALL("5;a=\"\";b=\"\" ;c\r\nhello\r\n0\r\n\r\n");
    CHUNKED_ALL("5;a=b\r\nhello\r\n0;z=\"\\;\"\r\n\r\n");
    CHUNKED_ALL("5;a ;b =c\r\nhello\r\n0;a=\"\"\t; b\r\n\r\n");
    /* trailer fields */
    CHUNKED_ALL("0\r\nX-Checksum: abc\r\n\r\n");
    CHUNKED_ALL("5\r\nhello\r\n0\r\nA: 1\r\nb:\r\nC:  x y\t\r\n\r\n");
    CHUNKED_ALL("0\r\nX: \x80\xff\r\n\r\n");
    /* bare LF, as in the head */
    CHUNKED_ALL("5\nhello\n0\n\n");
    CHUNKED_ALL("5\r\nhello\n0\nA: b\n\r\n");
    /* what follows the body is not consumed */
    CHUNKED("0\r\n\r\nGET / HTTP/1.1\r\n\r\n", 5);
    CHUNKED("5\r\nhello\r\n0\r\nT: v\r\n\r\nGET /", 21);
    CHUNKED("0\n\nX", 3);
    CHUNKED("0\r\n\r\n\r\n", 5);
}

static void test_chunked_incomplete(void)
{
    CHUNKED("", CH_MORE);
    CHUNKED("5", CH_MORE);
    CHUNKED("5\r\nhel", CH_MORE);
    CHUNKED("5\r\nhello", CH_MORE);
    CHUNKED("5\r\nhello\r", CH_MORE);
    CHUNKED("5;a=\"x", CH_MORE);
    CHUNKED("0\r\n", CH_MORE);
    CHUNKED("0\r\nA: b\r\n", CH_MORE);
    CHUNKED("0\r\n\r", CH_MORE);
    CHUNKED_LIMITS("ffffffffffffffff\r\nabc", CH_MORE, UINT64_MAX, 100);
    CHUNKED_LIMITS("00000000000000000000ffffffffffffffff\r\n", CH_MORE, UINT64_MAX, 100);
}

static void test_chunked_errors(void)
{
    CHUNKED("\r\n", CH_ERR);
    CHUNKED("\r\n0\r\n\r\n", CH_ERR);
    CHUNKED("x\r\n", CH_ERR);
    CHUNKED("-1\r\n", CH_ERR);
    CHUNKED("+5\r\n", CH_ERR);
    CHUNKED("0x5\r\nhello\r\n", CH_ERR);
    CHUNKED(" 5\r\nhello\r\n", CH_ERR);
    CHUNKED("5 \r\nhello\r\n", CH_ERR); /* BWS must lead to ";" */
    CHUNKED("5 5\r\nhello\r\n", CH_ERR);
    CHUNKED("5g\r\n", CH_ERR);
    CHUNKED("5\rhello", CH_ERR); /* bare CR */
    CHUNKED("5\r\r\n", CH_ERR);
    CHUNKED("5\r\nhelloX\r\n0\r\n\r\n", CH_ERR); /* data longer than its size */
    CHUNKED("5\r\nhello\rX", CH_ERR);
    CHUNKED("5\r\nhello0\r\n\r\n", CH_ERR);
    CHUNKED("5\r\nhello\r\r\n", CH_ERR);
    /* extensions */
    CHUNKED("5;\r\nhello\r\n", CH_ERR);
    CHUNKED("5;;a\r\nhello\r\n", CH_ERR);
    CHUNKED("5;a=\r\nhello\r\n", CH_ERR);
    CHUNKED("5;a b\r\nhello\r\n", CH_ERR);
    CHUNKED("5;a=b c\r\nhello\r\n", CH_ERR);
    CHUNKED("5;a=b \r\nhello\r\n", CH_ERR);
    CHUNKED("5;a \r\nhello\r\n", CH_ERR);
    CHUNKED("5;a=\"b\" \r\nhello\r\n", CH_ERR);
    CHUNKED("5;a=\"b\"c\r\nhello\r\n", CH_ERR);
    CHUNKED("5;a=\"x\r\nhello\r\n", CH_ERR); /* unterminated quoted-string */
    CHUNKED("5;a=\"x\nhello\r\n", CH_ERR);
    CHUNKED("5;a=\"x\"y\r\nhello\r\n", CH_ERR);
    CHUNKED("5;a=\"\\\r\nhello\r\n", CH_ERR);
    CHUNKED("5;a=\"\x7f\"\r\nhello\r\n", CH_ERR);
    CHUNKED("5;a=\"\x01\"\r\nhello\r\n", CH_ERR);
    CHUNKED("5;a\x00\r\nhello\r\n", CH_ERR);
    CHUNKED("5;a\rb\r\nhello\r\n", CH_ERR);
    CHUNKED("5;=b\r\nhello\r\n", CH_ERR);
    CHUNKED("5;a==b\r\nhello\r\n", CH_ERR);
    CHUNKED("5;@\r\nhello\r\n", CH_ERR);
    /* trailers */
    CHUNKED("0\r\nA: b\r\n c\r\n\r\n", CH_ERR); /* obs-fold */
    CHUNKED("0\r\n A: b\r\n\r\n", CH_ERR);
    CHUNKED("0\r\n: b\r\n\r\n", CH_ERR);
    CHUNKED("0\r\nA : b\r\n\r\n", CH_ERR);
    CHUNKED("0\r\nA\r\n\r\n", CH_ERR);
    CHUNKED("0\r\nA: b\rc\r\n\r\n", CH_ERR);
    CHUNKED("0\r\nA: b\x01\r\n\r\n", CH_ERR);
    CHUNKED("0\r\nA: b\x7f\r\n\r\n", CH_ERR);
    CHUNKED("0\r\n\rX", CH_ERR);
    CHUNKED("0\r\nA(: b\r\n\r\n", CH_ERR);
}

static void test_chunked_limits(void)
{
    /* the size: overflow of 64 bits, and max_data over all chunks */
    CHUNKED("100000\r\n", CH_MORE); /* max_data 1 MiB */
    CHUNKED("100001\r\n", CH_ERR);
    CHUNKED("ffffffffffffffff\r\nabc", CH_ERR);
    CHUNKED_LIMITS("10000000000000000\r\n", CH_ERR, UINT64_MAX, 100);
    CHUNKED_LIMITS("fffffffffffffffff\r\n", CH_ERR, UINT64_MAX, 100);
    CHUNKED_LIMITS("5\r\nhello\r\n0\r\n\r\n", CH_ALL, 5, 100);
    CHUNKED_LIMITS("6\r\nhello!\r\n0\r\n\r\n", CH_ERR, 5, 100);
    CHUNKED_LIMITS("3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n", CH_ALL, 5, 100);
    CHUNKED_LIMITS("3\r\nhel\r\n3\r\nlo!\r\n0\r\n\r\n", CH_ERR, 5, 100);
    CHUNKED_LIMITS("0\r\n\r\n", CH_ALL, 0, 100);
    CHUNKED_LIMITS("1\r\nx\r\n0\r\n\r\n", CH_ERR, 0, 100);
    /* max_line: the bytes of a size or trailer line without its terminator */
    CHUNKED_LIMITS("5;abcd\r\nhello\r\n0\r\n\r\n", CH_ALL, 100, 6);
    CHUNKED_LIMITS("5;abcde\r\nhello\r\n0\r\n\r\n", CH_ERR, 100, 6);
    CHUNKED_LIMITS("000005\r\nhello\r\n0\r\n\r\n", CH_ALL, 100, 6);
    CHUNKED_LIMITS("0000005\r\nhello\r\n0\r\n\r\n", CH_ERR, 100, 6);
    CHUNKED_LIMITS("0\r\nA: 123\r\n\r\n", CH_ALL, 100, 6);
    CHUNKED_LIMITS("0\r\nA: 1234\r\n\r\n", CH_ERR, 100, 6);
    CHUNKED_LIMITS("0\r\nA: 123\r\nB: 456\r\n\r\n", CH_ALL, 100, 6);
    /* each line has its own budget; data does not count */
    CHUNKED_LIMITS("a\r\n0123456789\r\n0\r\n\r\n", CH_ALL, 100, 1);

    /* at most HTTP_MAX_HEADERS trailer fields */
    char body[1024];
    size_t n = (size_t)snprintf(body, sizeof body, "0\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "T:%d\r\n", i % 10);
    memcpy(body + n, "\r\n", 2);
    chunked_case(__LINE__, body, n + 2, (long long)n + 2, 100, 100);
    memcpy(body + n, "T:\r\n\r\n", 6);
    chunked_case(__LINE__, body, n + 6, CH_ERR, 100, 100);
}

/* Calls after the end consume nothing; calls after an error fail again. */
static void test_chunked_after(void)
{
    struct http_chunked st;
    bool done = false;

    http_chunked_init(&st);
    CHECK_INT(http_chunked_skip(&st, guarded("0\r\n\r\nGET", 8), 8, 10, 10, &done), 5);
    CHECK(done);
    done = false;
    CHECK_INT(http_chunked_skip(&st, guarded("GET", 3), 3, 10, 10, &done), 0);
    CHECK(done);
    CHECK_INT(http_chunked_skip(&st, guarded("", 0), 0, 10, 10, &done), 0);
    CHECK(done);

    http_chunked_init(&st);
    CHECK_INT(http_chunked_skip(&st, guarded("5\r\nhe", 5), 5, 10, 10, &done), 5);
    CHECK(!done);
    CHECK_INT(http_chunked_skip(&st, guarded("", 0), 0, 10, 10, &done), 0);
    CHECK(!done);
    CHECK_INT(http_chunked_skip(&st, guarded("llo\r\n0\r\n\r\n", 10), 10, 10, 10, &done), 10);
    CHECK(done);

    http_chunked_init(&st);
    CHECK_INT(http_chunked_skip(&st, guarded("z", 1), 1, 10, 10, &done), HTTP_PARSE_ERROR);
    CHECK_INT(http_chunked_skip(&st, guarded("0\r\n\r\n", 5), 5, 10, 10, &done), HTTP_PARSE_ERROR);
    CHECK(!done);
}

int main(void)
{
    guard_init();

    test_complete();
    test_leading_and_lf();
    test_bare_cr();
    test_errors();
    test_space_before_colon();
    test_obs_fold();
    test_versions();
    test_max_headers();
    test_truncation();
    test_last_len();
    test_every_byte();
    test_overflow_status();
    test_huge_len();

    test_check_host();
    test_check_absolute_form();
    test_check_length();
    test_check_transfer_encoding();
    test_check_keep_alive();
    test_check_expect();
    test_check_method();
    test_check_pointers();

    test_has_token();
    test_reason();
    test_format_date();
    test_parse_date();
    test_date_roundtrip();
    test_etag_match();

    test_chunked_valid();
    test_chunked_incomplete();
    test_chunked_errors();
    test_chunked_limits();
    test_chunked_after();

    return test_done();
}
