/*
 * fuzz_range.c - fuzz target for range.c (range_parse).
 *
 * The first 8 bytes of the input (when there are 8) are the representation size in host
 * byte order; the rest is the Range field value, copied to a buffer of exactly its size so
 * ASan sees any read past len.  Checked, with __builtin_trap() on a violation:
 *   - the result is one of the four values, and *first / *length are written only for
 *     RANGE_SINGLE, where 1 <= length and first + length <= size without overflow;
 *   - an empty representation never gets SINGLE or MULTI;
 *   - validity is syntax only: RANGE_NONE for one size means RANGE_NONE for every size, and
 *     the number of range-specs does not depend on the size either, so SINGLE for one size
 *     means SINGLE or UNSATISFIABLE for another (and likewise MULTI).
 *
 * Built into tests/fuzz_replay (which replays the seed corpus in `make check`) and, with
 * -DFUZZ_MAIN, into a libFuzzer binary.
 */
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

    free(v);
    return 0;
}

#ifdef FUZZ_MAIN
FUZZ_ENTRY(fuzz_range)
#endif
