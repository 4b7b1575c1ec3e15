/*
 * test_range.c - table tests for range.c.
 *
 * Every case is {Range value, size, expected result and, for RANGE_SINGLE, first and
 * length} with its __LINE__.  Each value is copied to the very end of a page followed by an
 * inaccessible page, so reading past len faults even without ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "range.h"
#include "test.h"

static char *guard_page;
static size_t guard_size;

static void guard_init(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    char *p;

    guard_size = ps > 0 ? (size_t)ps : 4096;
    p = mmap(NULL, 2 * guard_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(p + guard_size, guard_size, PROT_NONE) != 0) {
        perror("mmap guard page");
        abort();
    }
    guard_page = p;
}

/* s[0..len) copied so that it ends where the guard page starts. */
static const char *guard_copy(const char *s, size_t len)
{
    char *p;

    if (len > guard_size)
        abort();
    p = guard_page + guard_size - len;
    memcpy(p, s, len);
    return p;
}

#define N RANGE_NONE
#define S RANGE_SINGLE
#define M RANGE_MULTI
#define U RANGE_UNSATISFIABLE

struct range_case {
    int line;
    const char *value;
    size_t len;
    uint64_t size;
    enum range_result want;
    uint64_t first, length; /* for S */
};

#define R(value, size, want)                                 \
    {                                                        \
        __LINE__, value, sizeof(value) - 1, size, want, 0, 0 \
    }
#define RS(value, size, first, length)                             \
    {                                                              \
        __LINE__, value, sizeof(value) - 1, size, S, first, length \
    }

#define MAX UINT64_MAX
#define BIG "18446744073709551616"  /* UINT64_MAX + 1 */
#define MAXS "18446744073709551615" /* UINT64_MAX */
#define HUGE "99999999999999999999999999"

static const struct range_case range_cases[] = {
    /* int-range */
    RS("bytes=0-499", 1000, 0, 500),
    RS("bytes=500-999", 1000, 500, 500),
    RS("bytes=0-0", 1000, 0, 1),
    RS("bytes=999-999", 1000, 999, 1),
    RS("bytes=5-5", 10, 5, 1),
    RS("bytes=500-", 1000, 500, 500),
    RS("bytes=0-", 1000, 0, 1000),
    RS("bytes=999-", 1000, 999, 1),
    R("bytes=1000-", 1000, U),
    R("bytes=1000-2000", 1000, U),
    R("bytes=5000-", 1000, U),
    RS("bytes=0-0", 1, 0, 1),
    RS("bytes=0-", 1, 0, 1),
    R("bytes=1-", 1, U),
    R("bytes=1-1", 1, U),
    RS("bytes=007-009", 100, 7, 3),

    /* last past the end is clamped */
    RS("bytes=0-1000", 1000, 0, 1000),
    RS("bytes=500-5000", 1000, 500, 500),
    RS("bytes=0-" MAXS, 1000, 0, 1000),
    RS("bytes=0-" BIG, 1000, 0, 1000),
    RS("bytes=10-" HUGE, 1000, 10, 990),
    RS("bytes=0-5", 1, 0, 1),

    /* first > last is invalid syntax: the whole header is ignored */
    R("bytes=500-499", 1000, N),
    R("bytes=1-0", 1000, N),
    R("bytes=2000-1000", 1000, N),
    R("bytes=0-1,5-4", 1000, N),
    R("bytes=" BIG "-5", 1000, N),
    R("bytes=" BIG "-" MAXS, 1000, N),
    R("bytes=" HUGE "-" BIG, 1000, N),
    R("bytes=" BIG "-" BIG, 1000, U),
    R("bytes=" BIG "-" HUGE, 1000, U),
    R("bytes=00" BIG "-" BIG, 1000, U),
    R("bytes=" BIG "-000" BIG, 1000, U),
    R("bytes=" BIG "-", 1000, U),
    R("bytes=" MAXS "-" MAXS, 1000, U),
    R("bytes=" MAXS "-", MAX, U),
    RS("bytes="
       "18446744073709551614"
       "-",
       MAX, MAX - 1, 1),
    RS("bytes=0-" BIG, MAX, 0, MAX),
    RS("bytes=0-", MAX, 0, MAX),

    /* suffix-range */
    RS("bytes=-500", 1000, 500, 500),
    RS("bytes=-1", 1000, 999, 1),
    RS("bytes=-1000", 1000, 0, 1000),
    RS("bytes=-1001", 1000, 0, 1000),
    RS("bytes=-" MAXS, 1000, 0, 1000),
    RS("bytes=-" BIG, 1000, 0, 1000),
    RS("bytes=-" HUGE, 1000, 0, 1000),
    RS("bytes=-1", 1, 0, 1),
    RS("bytes=-2", 1, 0, 1),
    RS("bytes=-00001", 10, 9, 1),
    RS("bytes=-" BIG, MAX, 0, MAX),
    RS("bytes=-1", MAX, MAX - 1, 1),
    R("bytes=-0", 1000, U),
    R("bytes=-000", 1000, U),
    R("bytes=-0", 1, U),

    /* an empty representation has no satisfiable range */
    R("bytes=0-0", 0, U),
    R("bytes=0-", 0, U),
    R("bytes=-1", 0, U),
    R("bytes=-0", 0, U),
    R("bytes=0-0,-1", 0, U),
    R("bytes=x", 0, N),
    R("items=0-0", 0, N),

    /* several ranges */
    R("bytes=0-0,-1", 1000, M),
    R("bytes=0-1,2-3", 1000, M),
    R("bytes=0-499,400-999", 1000, M),
    R("bytes=0-0,0-0", 1000, M),
    R("bytes=0-1,5000-6000", 1000, M),
    R("bytes=5000-6000,0-1", 1000, M),
    R("bytes=5000-,-0", 1000, U),
    R("bytes=5000-6000,7000-8000", 1000, U),
    R("bytes=0-1,-0", 1, M),
    R("bytes=1-,2-", 1, U),

    /* list syntax: OWS around commas, empty elements */
    R("bytes=0-1, 2-3", 1000, M),
    R("bytes=0-1 ,2-3", 1000, M),
    R("bytes=0-1 \t, \t2-3", 1000, M),
    RS("bytes=,0-1", 1000, 0, 2),
    RS("bytes=0-1,", 1000, 0, 2),
    RS("bytes=, ,0-1, ,", 1000, 0, 2),
    RS("bytes=,,,0-1,,,", 1000, 0, 2),
    R("bytes=0-1,,2-3", 1000, M),
    R("bytes=0-1, ,2-3", 1000, M),
    RS("bytes=0-1 ", 1000, 0, 2),
    RS(" bytes=0-1", 1000, 0, 2),
    RS("\tbytes=0-1\t", 1000, 0, 2),
    RS("bytes= 0-1", 1000, 0, 2),
    R("bytes=", 1000, N),
    R("bytes=,", 1000, N),
    R("bytes= , ,", 1000, N),
    R("bytes= ", 1000, N),

    /* unit */
    RS("Bytes=0-1", 1000, 0, 2),
    RS("BYTES=0-1", 1000, 0, 2),
    RS("bYtEs=-1", 1000, 999, 1),
    R("items=0-1", 1000, N),
    R("byte=0-1", 1000, N),
    R("bytesx=0-1", 1000, N),
    R("bytes 0-1", 1000, N),
    R("bytes =0-1", 1000, N),
    R("bytes= =0-1", 1000, N),
    R("bytes", 1000, N),
    R("bytes:0-1", 1000, N),
    R("=0-1", 1000, N),
    R("", 1000, N),
    R(" ", 1000, N),

    /* invalid range-specs */
    R("bytes=-", 1000, N),
    R("bytes=--1", 1000, N),
    R("bytes=1", 1000, N),
    R("bytes=a-b", 1000, N),
    R("bytes=0x10-20", 1000, N),
    R("bytes=+1-2", 1000, N),
    R("bytes=1-+2", 1000, N),
    R("bytes=-+1", 1000, N),
    R("bytes=1--2", 1000, N),
    R("bytes=1-2-3", 1000, N),
    R("bytes=0 -1", 1000, N),
    R("bytes=0- 1", 1000, N),
    R("bytes=- 1", 1000, N),
    R("bytes=0-1 2-3", 1000, N),
    R("bytes=0-1;2-3", 1000, N),
    R("bytes=0-1,x", 1000, N),
    R("bytes=0-1,2-3,", 1000, M),
    R("bytes=0-1,2-3,-", 1000, N),
    R("bytes=1.5-2", 1000, N),
    R("bytes=0-1\r\n", 1000, N),
    R("bytes=0-1\0", 1000, N),
    R("bytes=\0"
      "0-1",
      1000, N),
    R("bytes=0-1, 5-1", 1000, N),
    R("bytes=5000-6000,5-1", 1000, N),
    R("bytes=-1-2", 1000, N),
};

static const char *result_name(enum range_result r)
{
    switch (r) {
    case RANGE_NONE:
        return "NONE";
    case RANGE_SINGLE:
        return "SINGLE";
    case RANGE_MULTI:
        return "MULTI";
    case RANGE_UNSATISFIABLE:
        return "UNSATISFIABLE";
    case RANGE_EXCESSIVE:
        return "EXCESSIVE";
    }
    return "?";
}

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
        const struct range_case *c = &range_cases[i];
        const char *v = guard_copy(c->value, c->len);
        uint64_t first = 0xdead, length = 0xbeef;
        enum range_result r;

        test_checks++;
        r = range_parse(v, c->len, c->size, &first, &length);
        if (r != c->want) {
            test_failures++;
            fprintf(stderr, "FAIL: %s:%d: \"%s\" size %" PRIu64 ": got %s, want %s\n", __FILE__,
                    c->line, c->value, c->size, result_name(r), result_name(c->want));
            continue;
        }
        test_checks++;
        if (r == RANGE_SINGLE ? first != c->first || length != c->length
                              : first != 0xdead || length != 0xbeef) {
            test_failures++;
            fprintf(stderr,
                    "FAIL: %s:%d: \"%s\" size %" PRIu64 ": got first %" PRIu64 " length %" PRIu64
                    ", want %" PRIu64 " %" PRIu64 "\n",
                    __FILE__, c->line, c->value, c->size, first, length, c->first, c->length);
        }
    }
}

static void test_edges(void)
{
    static char buf[8192];
    uint64_t first = 7, length = 7;
    size_t n;

    CHECK_INT(range_parse(NULL, 0, 100, &first, &length), RANGE_NONE);
    CHECK_INT(range_parse(NULL, 10, 100, &first, &length), RANGE_NONE);
    /* first and length may be NULL */
    CHECK_INT(range_parse("bytes=0-1", 9, 100, NULL, NULL), RANGE_SINGLE);
    /* len is honoured */
    CHECK_INT(range_parse("bytes=0-1,5", 9, 100, &first, &length), RANGE_SINGLE);
    CHECK_INT(first, 0);
    CHECK_INT(length, 2);
    CHECK_INT(range_parse("bytes=0-1", 5, 100, &first, &length), RANGE_NONE);
    CHECK_INT(range_parse("bytes=0-1", 6, 100, &first, &length), RANGE_NONE);
    CHECK_INT(range_parse("bytes=0-1", 8, 100, &first, &length), RANGE_SINGLE);
    CHECK_INT(length, 100);

    /* a long list of ranges is still linear and still MULTI */
    n = (size_t)snprintf(buf, sizeof(buf), "bytes=0-0");
    while (n + 6 < sizeof(buf))
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ", 0-0");
    CHECK_INT(range_parse(buf, n, 10, &first, &length), RANGE_MULTI);
    CHECK_INT(range_parse(buf, n, 0, &first, &length), RANGE_UNSATISFIABLE);

    /* a number with thousands of digits */
    memcpy(buf, "bytes=0-", 8);
    memset(buf + 8, '9', 4000);
    CHECK_INT(range_parse(buf, 4008, 10, &first, &length), RANGE_SINGLE);
    CHECK_INT(first, 0);
    CHECK_INT(length, 10);
    buf[6] = '-';
    memset(buf + 7, '9', 4001);
    CHECK_INT(range_parse(buf, 4008, 10, &first, &length), RANGE_SINGLE);
    CHECK_INT(first, 0);
    CHECK_INT(length, 10);
}

/* range_parse_set on value with room for cap spans: the result and the spans as text
 * "first+length ..." (at most 8 of them). */
static enum range_result set_of(const char *value, uint64_t size, size_t cap, char *out,
                                size_t outlen)
{
    struct range_span spans[64];
    size_t n = 99, len = strlen(value), w = 0;
    enum range_result r = range_parse_set(guard_copy(value, len), len, size, spans, cap, &n);

    out[0] = '\0';
    if (n > cap)
        return (enum range_result) - 1;
    for (size_t i = 0; i < n && i < 8; i++)
        w += (size_t)snprintf(out + w, outlen - w, "%s%" PRIu64 "+%" PRIu64, i ? " " : "",
                              spans[i].first, spans[i].length);
    return r;
}

#define CHECK_SET(value, size, cap, want, want_spans)                                         \
    do {                                                                                      \
        char got_spans_[256];                                                                 \
        CHECK_STR(result_name(set_of((value), (size), (cap), got_spans_, sizeof got_spans_)), \
                  result_name(want));                                                         \
        CHECK_STR(got_spans_, (want_spans));                                                  \
    } while (0)

static void test_set(void)
{
    static char buf[8192];
    struct range_span spans[16];
    size_t n;

    /* one range-spec: exactly range_parse */
    CHECK_SET("bytes=0-99", 1000, 16, S, "0+100");
    CHECK_SET("bytes=-100", 1000, 16, S, "900+100");
    CHECK_SET("bytes=2000-", 1000, 16, U, "");
    CHECK_SET("bytes=a-b", 1000, 16, N, "");
    CHECK_SET("items=0-1,3-4", 1000, 16, N, "");
    CHECK_SET("bytes=0-1,5-1", 1000, 16, N, "");
    /* several: sorted, disjoint */
    CHECK_SET("bytes=0-99,200-299", 1000, 16, M, "0+100 200+100");
    CHECK_SET("bytes=500-599, 0-9", 1000, 16, M, "0+10 500+100");
    CHECK_SET("bytes=0-9,-10", 1000, 16, M, "0+10 990+10");
    /* unsatisfiable ones are left out; what remains may be one */
    CHECK_SET("bytes=0-9,5000-6000", 1000, 16, S, "0+10");
    CHECK_SET("bytes=5000-,6000-", 1000, 16, U, "");
    /* overlapping, adjacent, or within RANGE_GAP: coalesced */
    CHECK_SET("bytes=0-99,50-149", 1000, 16, S, "0+150");
    CHECK_SET("bytes=0-99,100-199", 1000, 16, S, "0+200");
    CHECK_SET("bytes=0-99,180-199", 1000, 16, S, "0+200");        /* gap 80 */
    CHECK_SET("bytes=0-99,181-199", 1000, 16, M, "0+100 181+19"); /* gap 81 */
    CHECK_SET("bytes=10-19,0-99", 1000, 16, S, "0+100");
    CHECK_SET("bytes=300-399,0-9,305-310,200-209", 1000, 16, M, "0+10 200+10 300+100");
    /* the count bound: range-specs, satisfiable or not */
    CHECK_SET("bytes=0-0,10-10,20-20", 1000, 3, S, "0+21");
    CHECK_SET("bytes=0-0,200-200,400-400,600-600", 1000, 3, RANGE_EXCESSIVE, "");
    CHECK_SET("bytes=0-0,200-200,4000-4000,6000-6000", 1000, 3, RANGE_EXCESSIVE, "");
    CHECK_SET("bytes=4000-,5000-,6000-,7000-", 1000, 3, U, "");
    /* the byte bound: at most twice the size before coalescing */
    CHECK_SET("bytes=0-,0-", 1000, 16, S, "0+1000");
    CHECK_SET("bytes=0-,0-,0-0", 1000, 16, RANGE_EXCESSIVE, "");
    CHECK_SET("bytes=-1000,0-999,-1", 1000, 16, RANGE_EXCESSIVE, "");
    CHECK_SET("bytes=0-9,20-", UINT64_MAX, 16, S, "0+18446744073709551615");
    CHECK_SET("bytes=0-,1-", UINT64_MAX, 16, RANGE_EXCESSIVE, "");

    /* 200 overlapping ranges: past the count bound */
    n = (size_t)snprintf(buf, sizeof(buf), "bytes=0-");
    for (int i = 1; i < 200; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",%d-", i);
    CHECK_INT(range_parse_set(buf, n, 100000, spans, 16, &n), RANGE_EXCESSIVE);
    CHECK_INT(n, 0);
}

int main(void)
{
    guard_init();
    test_table();
    test_edges();
    test_set();
    return test_done();
}
