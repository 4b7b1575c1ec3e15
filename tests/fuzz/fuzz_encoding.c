/*
 * fuzz_encoding.c - fuzz target for encoding.c (encoding_accept_parse).
 *
 * The input is one Accept-Encoding field value, copied to a buffer of exactly its size so
 * ASan sees any read past len.  Checked, with __builtin_trap() on a violation:
 *   - every weight is -1 (not listed) or 0..1000, and encoding_weight is 0..1000;
 *   - parsing is element by element: the value split at its first comma and parsed as two
 *     fields gives the same weights as the whole;
 *   - adding a field can only lower or set a weight that was listed, never raise it.
 *
 * Built into tests/fuzz_replay (which replays the seed corpus in `make check`) and, with
 * -DFUZZ_MAIN, into a libFuzzer binary.
 */
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "fuzz.h"

static void check_ranges(const struct encoding_accept *a)
{
    for (int e = 0; e < ENCODING_COUNT; e++) {
        ENSURE(a->q[e] >= -1 && a->q[e] <= 1000);
        int w = encoding_weight(a, (enum encoding)e);
        ENSURE(w >= 0 && w <= 1000);
    }
    ENSURE(a->star >= -1 && a->star <= 1000);
    ENSURE(a->identity >= -1 && a->identity <= 1000);
}

static int same(const struct encoding_accept *a, const struct encoding_accept *b)
{
    for (int e = 0; e < ENCODING_COUNT; e++)
        if (a->q[e] != b->q[e])
            return 0;
    return a->star == b->star && a->identity == b->identity && a->present == b->present;
}

int fuzz_encoding(const uint8_t *data, size_t size)
{
    struct encoding_accept whole, split, twice;
    char *v = fuzz_dup_exact(data, size);
    const char *comma = memchr(v, ',', size);

    encoding_accept_init(&whole);
    encoding_accept_parse(&whole, v, size);
    check_ranges(&whole);
    ENSURE(whole.present);

    if (comma != NULL) {
        size_t first = (size_t)(comma - v);
        char *a = fuzz_dup_exact((const uint8_t *)v, first);
        char *b = fuzz_dup_exact((const uint8_t *)comma + 1, size - first - 1);
        encoding_accept_init(&split);
        encoding_accept_parse(&split, a, first);
        encoding_accept_parse(&split, b, size - first - 1);
        ENSURE(same(&whole, &split));
        free(a);
        free(b);
    }

    twice = whole;
    encoding_accept_parse(&twice, "br;q=0.5, gzip", 14);
    for (int e = 0; e < ENCODING_COUNT; e++)
        ENSURE(whole.q[e] < 0 || twice.q[e] <= whole.q[e]);

    free(v);
    return 0;
}

#ifdef FUZZ_MAIN
FUZZ_ENTRY(fuzz_encoding)
#endif
