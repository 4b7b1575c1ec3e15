/*
 * path.c - turn a request target into a safe path below the document root.
 *
 * This module owns the policy that decides which request targets may name a file at all:
 * the form of the target (origin-form or absolute-form), percent-decoding, the bytes a
 * decoded path may hold, and dot-segment removal.  Everything here is pure (no I/O, no
 * allocation, no global state), so every function is safe from any thread.
 *
 * How path_normalize works: the path part of the target is cut at each raw '/' into
 * segments.  A segment is percent-decoded and checked (bad escape, control byte, encoded '/'
 * or any '\\' -> 400) and classified as empty, ".", ".." or a name; the classification is
 * made after decoding, so "%2e%2e" is "..".  RFC 3986 section 5.2.4 (remove_dot_segments,
 * with empty segments merged) keeps exactly the names that no later ".." cancels, so the
 * segments are walked right to left while counting pending ".."s; a ".." still pending at
 * the left end would have climbed above the root.  A first pass validates every segment and
 * measures the result; only when it fits does a second pass decode the surviving names into
 * out, again right to left.  So out is never written past the result, and -414 means exactly
 * "the result is too long", never "an intermediate step was too long".
 *
 * Invariants of a result: it starts with '/', it has no empty, "." or ".." segment, it holds
 * no byte below 0x20, no 0x7F and no '\\', and it ends with '/' exactly when the last input
 * segment was empty, "." or ".." (which includes the bare root "/").
 */
#include "path.h"

#include <limits.h>
#include <string.h>

enum seg_kind {
    SEG_EMPTY,
    SEG_DOT,
    SEG_DOTDOT,
    SEG_NAME,
};

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Whether s[0..len) starts with the lowercase string prefix, ignoring ASCII case. */
static bool has_prefix_ci(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower((unsigned char)s[i]) != (unsigned char)prefix[i])
            return false;
    }
    return true;
}

/*
 * Find the path part of target[0..len): set *start and *end so that [*start, *end) is the
 * path ("" or starting with '/') without the authority, query or fragment.  Returns false
 * if the target is neither origin-form nor absolute-form with an http or https scheme.
 */
static bool target_path(const char *target, size_t len, const char **start, const char **end)
{
    size_t i = 0;

    if (target == NULL || len == 0)
        return false;
    if (target[0] != '/') {
        size_t host;

        if (has_prefix_ci(target, len, "http://"))
            i = 7;
        else if (has_prefix_ci(target, len, "https://"))
            i = 8;
        else
            return false;
        /* The authority: not empty (RFC 9110 4.2.1), no userinfo (4.2.4), no junk bytes. */
        host = i;
        while (i < len && target[i] != '/' && target[i] != '?' && target[i] != '#') {
            unsigned char c = (unsigned char)target[i];

            if (c <= 0x20 || c == 0x7f || c == '@' || c == '\\')
                return false;
            i++;
        }
        if (i == host)
            return false;
    }
    *start = target + i;
    while (i < len && target[i] != '?' && target[i] != '#')
        i++;
    *end = target + i;
    return true;
}

/*
 * Decode and check the raw segment raw[0..len), which holds no '/'.  If out is not NULL the
 * decoded bytes are written to out[0..*dlen).  Returns the segment's kind, or -1 when it is
 * a bad escape, decodes to '/', '\\', NUL or another control byte, or holds a raw '\\' or
 * control byte.
 */
static int scan_segment(const char *raw, size_t len, char *out, size_t *dlen)
{
    size_t n = 0;
    bool all_dots = true;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];

        if (c == '%') {
            int hi, lo;

            if (len - i < 3)
                return -1;
            hi = hex_value((unsigned char)raw[i + 1]);
            lo = hex_value((unsigned char)raw[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            if (c == '/')
                return -1;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || c == '\\')
            return -1;
        if (c != '.')
            all_dots = false;
        if (out != NULL)
            out[n] = (char)c;
        n++;
    }
    *dlen = n;
    if (n == 0)
        return SEG_EMPTY;
    if (all_dots && n == 1)
        return SEG_DOT;
    if (all_dots && n == 2)
        return SEG_DOTDOT;
    return SEG_NAME;
}

/*
 * Walk the segments of [first, end) from right to left, where first is just past the
 * path's leading '/'.  Pass out == NULL to validate and measure: *length gets the length of
 * the result and *trailing whether it ends in '/'.  Pass out (with the *length and
 * *trailing of the measuring pass) to write the result.  Returns false on a bad segment or
 * a ".." above the root.
 */
static bool walk_segments(const char *first, const char *end, char *out, size_t *length,
                          bool *trailing)
{
    const char *seg_end = end;
    size_t skip = 0, total = 0, o = 0;
    bool rightmost = true;

    if (out != NULL) {
        o = *length;
        out[o] = '\0';
        if (*trailing)
            out[--o] = '/';
    }
    for (;;) {
        const char *seg = seg_end;
        size_t dlen;
        int kind;

        while (seg > first && seg[-1] != '/')
            seg--;
        kind = scan_segment(seg, (size_t)(seg_end - seg), NULL, &dlen);
        if (kind < 0)
            return false;
        if (rightmost && out == NULL)
            *trailing = kind != SEG_NAME;
        rightmost = false;
        if (kind == SEG_DOTDOT) {
            skip++;
        } else if (kind == SEG_NAME) {
            if (skip > 0) {
                skip--;
            } else if (out != NULL) {
                o -= dlen;
                scan_segment(seg, (size_t)(seg_end - seg), out + o, &dlen);
                out[--o] = '/';
            } else {
                total += dlen + 1;
            }
        }
        if (seg == first)
            break;
        seg_end = seg - 1;
    }
    if (skip > 0)
        return false;
    if (out == NULL)
        *length = total + (*trailing ? 1 : 0);
    return true;
}

ssize_t path_normalize(const char *target, size_t len, char *out, size_t out_size)
{
    const char *start, *end;
    size_t length;
    bool trailing;

    if (!target_path(target, len, &start, &end))
        return -400;
    if (start == end) {
        /* absolute-form without a path: the root */
        length = 1;
        trailing = true;
    } else if (!walk_segments(start + 1, end, NULL, &length, &trailing)) {
        return -400;
    }
    if (out == NULL || length >= out_size || length > SSIZE_MAX)
        return -414;
    if (start == end)
        memcpy(out, "/", 2);
    else
        walk_segments(start + 1, end, out, &length, &trailing);
    return (ssize_t)length;
}

bool path_is_hidden(const char *path)
{
    const char *p = path;

    if (p == NULL)
        return true; /* fail closed */
    if (p[0] == '.')
        return true;
    if (strncmp(p, "/.well-known", 12) == 0 && (p[12] == '/' || p[12] == '\0'))
        p += 12;
    for (; *p != '\0'; p++) {
        if (p[0] == '/' && p[1] == '.')
            return true;
    }
    return false;
}

const char *path_query(const char *target, size_t len, size_t *query_len)
{
    size_t i = 0, q;

    if (query_len != NULL)
        *query_len = 0;
    if (target == NULL)
        return NULL;
    while (i < len && target[i] != '?' && target[i] != '#')
        i++;
    if (i == len || target[i] == '#')
        return NULL;
    q = ++i;
    while (i < len && target[i] != '#')
        i++;
    if (query_len != NULL)
        *query_len = i - q;
    return target + q;
}
