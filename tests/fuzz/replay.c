/*
 * replay.c - run fuzz targets over saved inputs, without libFuzzer.
 *
 *     fuzz_replay TARGET FILE...      TARGET is http, path, range or encoding
 *
 * `make check` runs this (through tests/fuzz/replay.sh) over the seed corpus and every
 * saved crash input, built like the rest of the tree (with --enable-sanitizers, under
 * ASan/UBSan).  Each file is read whole, whatever its size, into a heap buffer of exactly
 * its size and passed to the target.  A target that finds a broken invariant traps, which
 * kills this process and fails the test by itself; otherwise it prints how many inputs ran
 * and exits 0.  A file that cannot be read is an error (exit 1), and so is bad usage (2).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

struct target {
    const char *name;
    int (*fn)(const uint8_t *data, size_t size);
};

static const struct target targets[] = {
    { "http", fuzz_http },
    { "path", fuzz_path },
    { "range", fuzz_range },
    { "encoding", fuzz_encoding },
};

/* Read the whole file into *data (exactly *size bytes, malloc'd).  Returns 0 or errno. */
static int read_input(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL, *exact;
    size_t cap = 0, n = 0;
    int e = 0;

    if (f == NULL)
        return errno;
    for (;;) {
        size_t got;

        if (n == cap) {
            size_t ncap = cap == 0 ? 4096 : cap * 2;
            uint8_t *p = ncap > cap ? realloc(buf, ncap) : NULL;

            if (p == NULL) {
                e = ENOMEM;
                break;
            }
            buf = p;
            cap = ncap;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                e = errno != 0 ? errno : EIO;
            break;
        }
    }
    fclose(f);
    if (e != 0) {
        free(buf);
        return e;
    }
    /* an exactly-sized copy, so that ASan sees a read one byte past the end */
    exact = malloc(n > 0 ? n : 1);
    if (exact == NULL) {
        free(buf);
        return ENOMEM;
    }
    memcpy(exact, buf, n);
    free(buf);
    *data = exact;
    *size = n;
    return 0;
}

int main(int argc, char **argv)
{
    const struct target *t = NULL;
    int count = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: fuzz_replay TARGET FILE...\n"
                        "  TARGET is http, path, range or encoding\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        if (strcmp(argv[1], targets[i].name) == 0)
            t = &targets[i];
    }
    if (t == NULL) {
        fprintf(stderr, "fuzz_replay: unknown target '%s' (http, path or range)\n", argv[1]);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        uint8_t *data = NULL;
        size_t size = 0;
        int e = read_input(argv[i], &data, &size);

        if (e != 0) {
            fprintf(stderr, "fuzz_replay: %s: %s\n", argv[i], strerror(e));
            return 1;
        }
        t->fn(data, size);
        free(data);
        count++;
    }
    printf("fuzz_replay: %s: %d input%s\n", t->name, count, count == 1 ? "" : "s");
    return 0;
}
