/*
 * fuzz_path.c - fuzz target for path.c (path_normalize, path_is_hidden, path_query).
 *
 * The input is the request target.  It is copied to a buffer of exactly its size, so ASan
 * sees any read past len, and normalised into exactly-sized heap buffers: a large one (the
 * result can never be longer than the input plus "/", so it must never be -414) and small
 * ones that must give the same answer or -414.  A successful result is checked for the
 * module's invariants and compared with a slow, obviously-correct reference (decode first,
 * then a left-to-right stack of segments), so a logic slip in the right-to-left algorithm
 * of path.c shows up as a difference.  Every violation is __builtin_trap().
 *
 * Built into tests/fuzz_replay (which replays the seed corpus in `make check`) and, with
 * -DFUZZ_MAIN, into a libFuzzer binary.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "path.h"

/* Bytes of a decoded path: 0..255, or RAW_SLASH for a '/' that was not an escape. */
#define RAW_SLASH 0x100

static int ref_hex(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool ref_prefix(const uint8_t *s, size_t len, const char *p)
{
    size_t n = strlen(p);

    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];

        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        if (c != (uint8_t)p[i])
            return false;
    }
    return true;
}

/* The reference normaliser; out has room for len + 2 bytes.  Returns length or -400. */
static long ref_normalize(const uint8_t *in, size_t len, char *out)
{
    size_t i = 0, end, n = 0, o = 0, depth = 0, seg;
    unsigned *dec;
    size_t *starts;
    long ret = -400;
    int last_kind = 0; /* 0 empty, 1 ".", 2 "..", 3 name */

    if (len == 0)
        return -400;
    if (in[0] != '/') {
        size_t host;

        if (ref_prefix(in, len, "https://"))
            i = 8;
        else if (ref_prefix(in, len, "http://"))
            i = 7;
        else
            return -400;
        for (host = i; i < len && in[i] != '/' && in[i] != '?' && in[i] != '#'; i++) {
            if (in[i] <= ' ' || in[i] == 0x7f || in[i] == '@' || in[i] == '\\')
                return -400;
        }
        if (i == host)
            return -400;
    }
    for (end = i; end < len && in[end] != '?' && in[end] != '#'; end++)
        ;
    dec = malloc((len + 1) * sizeof(*dec));
    starts = malloc((len + 1) * sizeof(*starts));
    if (dec == NULL || starts == NULL)
        abort();

    /* 1. decode everything, remembering which slashes were real */
    for (; i < end; i++) {
        unsigned c = in[i];

        if (c == '/') {
            dec[n++] = RAW_SLASH;
            continue;
        }
        if (c == '%') {
            if (end - i < 3 || ref_hex(in[i + 1]) < 0 || ref_hex(in[i + 2]) < 0)
                goto out;
            c = (unsigned)(ref_hex(in[i + 1]) * 16 + ref_hex(in[i + 2]));
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            goto out;
        dec[n++] = c;
    }

    /* 2. walk segments left to right with a stack (dec[0] is the leading slash, if any) */
    for (seg = 1; seg <= n; seg++) {
        size_t e = seg, k;

        while (e < n && dec[e] != RAW_SLASH)
            e++;
        k = e - seg;
        if (k == 0) {
            last_kind = 0;
        } else if (k == 1 && dec[seg] == '.') {
            last_kind = 1;
        } else if (k == 2 && dec[seg] == '.' && dec[seg + 1] == '.') {
            last_kind = 2;
            if (depth == 0)
                goto out;
            o = starts[--depth];
        } else {
            last_kind = 3;
            starts[depth++] = o;
            out[o++] = '/';
            for (size_t j = seg; j < e; j++)
                out[o++] = (char)dec[j];
        }
        seg = e;
    }
    if (last_kind != 3 || depth == 0)
        out[o++] = '/';
    out[o] = '\0';
    ret = (long)o;
out:
    free(dec);
    free(starts);
    return ret;
}

/* path_is_hidden by other means: "/." anywhere, except a first segment ".well-known". */
static bool ref_hidden(const char *p)
{
    if (strncmp(p, "/.well-known", 12) == 0 && (p[12] == '/' || p[12] == '\0'))
        p += 12;
    return strstr(p, "/.") != NULL;
}

static void check_result(const char *out, ssize_t r)
{
    ENSURE(r >= 1);
    ENSURE(out[0] == '/');
    ENSURE(strlen(out) == (size_t)r);
    ENSURE(strstr(out, "//") == NULL);
    ENSURE(strstr(out, "/./") == NULL);
    ENSURE(strstr(out, "/../") == NULL);
    ENSURE(!(r >= 2 && strcmp(out + r - 2, "/.") == 0));
    ENSURE(!(r >= 3 && strcmp(out + r - 3, "/..") == 0));
    for (ssize_t i = 0; i < r; i++) {
        unsigned char c = (unsigned char)out[i];

        ENSURE(c >= 0x20 && c != 0x7f && c != '\\');
    }
    ENSURE(path_is_hidden(out) == ref_hidden(out));
}

static void check_query(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data;
    size_t qlen = 99, i;
    const char *q = path_query(t, size, &qlen);

    for (i = 0; i < size && t[i] != '?' && t[i] != '#'; i++)
        ;
    if (i == size || t[i] == '#') {
        ENSURE(q == NULL && qlen == 0);
        return;
    }
    ENSURE(q == t + i + 1);
    ENSURE(qlen <= size - (i + 1));
    ENSURE(memchr(q, '#', qlen) == NULL);
    ENSURE(i + 1 + qlen == size || t[i + 1 + qlen] == '#');
}

int fuzz_path(const uint8_t *data, size_t size)
{
    static const size_t small_sizes[] = { 0, 1, 2, 3, 8, 16 };
    char *in, *big, *ref, *again, *cstr;
    size_t big_size = size + 2;
    ssize_t r;
    long rr;

    in = fuzz_dup_exact(data, size);
    big = malloc(big_size);
    ref = malloc(big_size);
    cstr = malloc(size + 1);
    if (big == NULL || ref == NULL || cstr == NULL)
        abort();

    r = path_normalize(in, size, big, big_size);
    ENSURE(r == -400 || r >= 1);
    rr = ref_normalize(data, size, ref);
    ENSURE(rr == r);
    if (r >= 1) {
        check_result(big, r);
        ENSURE(memcmp(big, ref, (size_t)r + 1) == 0);
    }

    /* smaller out buffers: the same answer, or -414 exactly when it does not fit */
    for (size_t k = 0; k < sizeof(small_sizes) / sizeof(small_sizes[0]); k++) {
        size_t n = small_sizes[k];
        char *small = malloc(n > 0 ? n : 1);
        ssize_t s;

        if (small == NULL)
            abort();
        s = path_normalize(in, size, n > 0 ? small : NULL, n);
        if (r < 0)
            ENSURE(s == r);
        else if ((size_t)r + 1 > n)
            ENSURE(s == -414);
        else
            ENSURE(s == r && memcmp(small, big, (size_t)r + 1) == 0);
        free(small);
    }

    /* a result that needs no decoding and has no '?' or '#' is a fixed point */
    if (r >= 1 && strpbrk(big, "%?#") == NULL) {
        again = malloc((size_t)r + 1);
        if (again == NULL)
            abort();
        ENSURE(path_normalize(big, (size_t)r, again, (size_t)r + 1) == r);
        ENSURE(memcmp(again, big, (size_t)r + 1) == 0);
        free(again);
    }

    /* path_is_hidden on arbitrary (not normalised) strings must not crash */
    for (size_t i = 0; i < size; i++)
        cstr[i] = (char)data[i];
    cstr[size] = '\0';
    (void)path_is_hidden(cstr);
    check_query((const uint8_t *)in, size);

    free(in);
    free(big);
    free(ref);
    free(cstr);
    return 0;
}

#ifdef FUZZ_MAIN
FUZZ_ENTRY(fuzz_path)
#endif
