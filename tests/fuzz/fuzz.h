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

int fuzz_http(const uint8_t *data, size_t size);
int fuzz_path(const uint8_t *data, size_t size);
int fuzz_range(const uint8_t *data, size_t size);

/* In a libFuzzer build each fuzz_X.c is compiled with -DFUZZ_MAIN and
 * defines LLVMFuzzerTestOneInput as a call to its target. */
#define FUZZ_ENTRY(fn)                                                       \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);           \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)            \
    {                                                                       \
        return fn(data, size);                                              \
    }

#endif
