/*
 * fuzz.h - the fuzz targets, shared by the libFuzzer builds
 * (--enable-fuzzing) and tests/fuzz_replay, which replays the seed corpus
 * through the normal build in `make check`.
 *
 * Each target returns 0 and must never crash, leak or read out of bounds
 * for any input; it aborts (via __builtin_trap) when it finds one of the
 * invariants it checks broken.
 */
#ifndef TINYHTTPD_FUZZ_H
#define TINYHTTPD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int fuzz_http(const uint8_t *data, size_t size);
int fuzz_path(const uint8_t *data, size_t size);
int fuzz_range(const uint8_t *data, size_t size);
int fuzz_encoding(const uint8_t *data, size_t size);

/* A broken invariant: stop here, so the fuzzer (or the replay) reports this input. */
#define ENSURE(cond)          \
    do {                      \
        if (!(cond))          \
            __builtin_trap(); \
    } while (0)

/*
 * A heap copy of data[0..size) of exactly size bytes, so ASan sees a read past the end (for
 * size 0, glibc and ASan give a unique block with no readable byte).  Not inlined, which
 * keeps gcc -O2 from warning that a 0-byte copy leaves the block "maybe uninitialized".
 * The caller frees it.  (unused: not every target needs it.)
 */
static __attribute__((noinline, unused)) char *fuzz_dup_exact(const uint8_t *data, size_t size)
{
    char *p = malloc(size);

    if (p == NULL)
        abort();
    if (size > 0)
        memcpy(p, data, size);
    return p;
}

/* In a libFuzzer build each fuzz_X.c is compiled with -DFUZZ_MAIN and
 * defines LLVMFuzzerTestOneInput as a call to its target. */
#define FUZZ_ENTRY(fn)                                            \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)  \
    {                                                             \
        return fn(data, size);                                    \
    }

#endif
