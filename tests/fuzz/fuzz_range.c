/*
 * fuzz_range.c - fuzz target for range.c (range_parse and range_parse_set).
 *
 * The first 8 bytes of the input (when there are 8) are the representation size in host
 * byte order; the rest is the Range field value, copied to a buffer of exactly its size so
 * ASan sees any read past len.  Checked, with __builtin_trap() on a violation:
 *   - the result is one of the four values, and *first / *length are written only for
 *     RANGE_SINGLE, where 1 <= length and first + length <= size without overflow;
 *   - an empty representation never gets SINGLE or MULTI;
 *   - validity is syntax only: RANGE_NONE for one size means RANGE_NONE for every size, and
 *     the number of range-specs does not depend on the size either, so SINGLE for one size
 *     means SINGLE or UNSATISFIABLE for another (and likewise MULTI);
 *   - range_parse_set, with room for 1, 2, 16 or 64 ranges, gives range_parse's result
 *     (and range) for everything but several ranges, and for several ranges SINGLE, MULTI
 *     or EXCESSIVE; its spans are at most cap, 1 for SINGLE and 2 or more for MULTI, each
 *     within [0, size), sorted, more than RANGE_GAP bytes apart; a larger cap gives the
 *     same spans unless a smaller one already did; and the spans are exactly the requested
 *     ranges merged: each range-spec, parsed alone by range_parse, lies inside one span,
 *     and each span starts where one of them starts and ends where one of them ends.
 *
 * Built into tests/fuzz_replay (which replays the seed corpus in `make check`) and, with
 * -DFUZZ_MAIN, into a libFuzzer binary.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "range.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

static enum range_result check_one(const char *v, size_t len, uint64_t size)
{
    uint64_t first = SENTINEL, length = SENTINEL;
    enum range_result r = range_parse(v, len, size, &first, &length);

    switch (r) {
    case RANGE_SINGLE:
        ENSURE(size > 0);
        ENSURE(length >= 1);
        ENSURE(first < size);
        ENSURE(length <= size - first);
        break;
    case RANGE_MULTI:
        ENSURE(size > 0);
        /* fall through */
    case RANGE_NONE:
    case RANGE_UNSATISFIABLE:
        ENSURE(first == SENTINEL && length == SENTINEL);
        break;
    default:
        __builtin_trap();
    }
    return r;
}

/* Whether a and b could come from the same header with different sizes. */
static int same_shape(enum range_result a, enum range_result b)
{
    if (a == RANGE_NONE || b == RANGE_NONE)
        return a == b;
    if (a == RANGE_SINGLE)
        return b == RANGE_SINGLE || b == RANGE_UNSATISFIABLE;
    if (a == RANGE_MULTI)
        return b == RANGE_MULTI || b == RANGE_UNSATISFIABLE;
    return 1;
}

/* The spans against the range-specs of v, each parsed alone by range_parse. */
static void check_cover(const char *v, size_t len, uint64_t size, const struct range_span *spans,
                        size_t n)
{
    const char *eq = memchr(v, '=', len);
    size_t i = (size_t)(eq - v) + 1;
    bool starts[64] = { false }, ends[64] = { false };

    ENSURE(eq != NULL);
    while (i < len) {
        const char *comma = memchr(v + i, ',', len - i);
        size_t elen = comma ? (size_t)(comma - (v + i)) : len - i;
        char *one = malloc(6 + elen);
        uint64_t f, l;

        ENSURE(one != NULL);
        memcpy(one, "bytes=", 6);
        memcpy(one + 6, v + i, elen);
        if (range_parse(one, 6 + elen, size, &f, &l) == RANGE_SINGLE) {
            size_t k = 0;

            while (k < n && !(spans[k].first <= f && l <= spans[k].first + spans[k].length - f))
                k++;
            ENSURE(k < n); /* covered */
            for (k = 0; k < n; k++) {
                starts[k] |= spans[k].first == f;
                ends[k] |= spans[k].first + spans[k].length == f + l;
            }
        }
        free(one);
        i += elen + 1;
    }
    for (size_t k = 0; k < n; k++)
        ENSURE(starts[k] && ends[k]);
}

/* range_parse_set with room for cap spans, checked; the spans go to out (64 of them). */
static enum range_result check_set(const char *v, size_t len, uint64_t size, size_t cap,
                                   struct range_span *out, size_t *n)
{
    uint64_t first = SENTINEL, length = SENTINEL;
    enum range_result one = range_parse(v, len, size, &first, &length);
    enum range_result r = range_parse_set(v, len, size, out, cap, n);

    ENSURE(*n <= cap);
    switch (r) {
    case RANGE_SINGLE:
        ENSURE(*n == 1);
        ENSURE(one == RANGE_SINGLE || one == RANGE_MULTI);
        if (one == RANGE_SINGLE)
            ENSURE(out[0].first == first && out[0].length == length);
        break;
    case RANGE_MULTI:
        ENSURE(*n >= 2);
        ENSURE(one == RANGE_MULTI);
        break;
    case RANGE_EXCESSIVE:
        ENSURE(one == RANGE_MULTI);
        ENSURE(*n == 0);
        break;
    case RANGE_NONE:
    case RANGE_UNSATISFIABLE:
        ENSURE(one == r);
        ENSURE(*n == 0);
        break;
    default:
        __builtin_trap();
    }
    if (*n > 0)
        check_cover(v, len, size, out, *n);
    for (size_t i = 0; i < *n; i++) {
        ENSURE(out[i].length >= 1);
        ENSURE(out[i].first < size);
        ENSURE(out[i].length <= size - out[i].first);
        if (i > 0) {
            uint64_t end = out[i - 1].first + out[i - 1].length;
            ENSURE(out[i].first > end && out[i].first - end > RANGE_GAP);
        }
    }
    return r;
}

static void check_sets(const char *v, size_t len, uint64_t size)
{
    static const size_t caps[] = { 1, 2, 16, 64 };
    struct range_span prev[64], cur[64];
    size_t nprev = 0, n;
    enum range_result rprev = RANGE_EXCESSIVE;

    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        enum range_result r = check_set(v, len, size, caps[i], cur, &n);

        if (rprev != RANGE_EXCESSIVE) {
            /* a bound that was not reached stays unreached with more room */
            ENSURE(r == rprev && n == nprev);
            ENSURE(memcmp(cur, prev, n * sizeof cur[0]) == 0);
        }
        rprev = r;
        nprev = n;
        memcpy(prev, cur, n * sizeof cur[0]);
    }
}

int fuzz_range(const uint8_t *data, size_t size)
{
    static const uint64_t other_sizes[] = { 0, 1, 2, 1000, UINT64_MAX - 1, UINT64_MAX };
    uint64_t rep_size = 0;
    enum range_result r;
    char *v;

    if (size >= 8) {
        memcpy(&rep_size, data, 8);
        data += 8;
        size -= 8;
    }
    v = fuzz_dup_exact(data, size);

    r = check_one(v, size, rep_size);
    for (size_t i = 0; i < sizeof(other_sizes) / sizeof(other_sizes[0]); i++)
        ENSURE(same_shape(r, check_one(v, size, other_sizes[i])));
    ENSURE(range_parse(v, size, rep_size, NULL, NULL) == r);
    check_sets(v, size, rep_size);
    check_sets(v, size, 1000);

    free(v);
    return 0;
}

#ifdef FUZZ_MAIN
FUZZ_ENTRY(fuzz_range)
#endif
