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

#define CHECK_OR_TRAP(cond)           \
    do {                              \
        if (!(cond))                  \
            __builtin_trap();         \
    } while (0)

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

/*
 * A heap copy of data[0..size) of exactly size bytes, so ASan sees a read past the end (for
 * size 0, glibc and ASan give a unique block with no readable byte).  Not inlined, which
 * keeps gcc -O2 from warning that a 0-byte copy leaves the block "maybe uninitialized".
 */
static __attribute__((noinline)) char *dup_exact(const uint8_t *data, size_t size)
{
    char *p = malloc(size);

    if (p == NULL)
        abort();
    if (size > 0)
        memcpy(p, data, size);
    return p;
}

static enum range_result check_one(const char *v, size_t len, uint64_t size)
{
    uint64_t first = SENTINEL, length = SENTINEL;
    enum range_result r = range_parse(v, len, size, &first, &length);

    switch (r) {
    case RANGE_SINGLE:
        CHECK_OR_TRAP(size > 0);
        CHECK_OR_TRAP(length >= 1);
        CHECK_OR_TRAP(first < size);
        CHECK_OR_TRAP(length <= size - first);
        break;
    case RANGE_MULTI:
        CHECK_OR_TRAP(size > 0);
        /* fall through */
    case RANGE_NONE:
    case RANGE_UNSATISFIABLE:
        CHECK_OR_TRAP(first == SENTINEL && length == SENTINEL);
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
    v = dup_exact(data, size);

    r = check_one(v, size, rep_size);
    for (size_t i = 0; i < sizeof(other_sizes) / sizeof(other_sizes[0]); i++)
        CHECK_OR_TRAP(same_shape(r, check_one(v, size, other_sizes[i])));
    CHECK_OR_TRAP(range_parse(v, size, rep_size, NULL, NULL) == r);

    free(v);
    return 0;
}

#ifdef FUZZ_MAIN
FUZZ_ENTRY(fuzz_range)
#endif
