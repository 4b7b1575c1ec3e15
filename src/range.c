/*
 * range.c - the Range request header (RFC 9110 section 14) against a representation size.
 *
 * This module owns the syntax of a Range field value and the 200/206/416 decision for one
 * file size; it knows nothing about files or responses.  It is pure (no I/O, no allocation,
 * no global state), so it is safe from any thread.
 *
 * The grammar (RFC 9110 14.1.1 and the list rule of 5.6.1):
 *
 *     ranges-specifier = range-unit "=" range-set      ; unit "bytes", any case
 *     range-set        = 1#range-spec                  ; empty elements allowed
 *     range-spec       = first-pos "-" [ last-pos ]    ; first-pos <= last-pos
 *                      / "-" suffix-length
 *
 * Anything else, including another unit, is invalid syntax, which RFC 9110 lets a server
 * ignore: RANGE_NONE.  Whitespace is allowed around the value, after '=' and around commas,
 * never inside a range-spec or around '='.  Numbers have any number of digits: one past
 * UINT64_MAX is still compared exactly (first-pos <= last-pos), a last-pos past the end is
 * clamped, a first-pos past UINT64_MAX is past any end, and a huge suffix-length means the
 * whole representation.  Invariant of RANGE_SINGLE: 1 <= *length and *first + *length <=
 * size, with no overflow.
 */
#include "range.h"

#include <stdbool.h>
#include <string.h>

/* A decimal number as written: its value, or overflow with the digits kept for comparing. */
struct number {
    uint64_t value;
    bool overflow;
    const char *digits;
    size_t ndigits;
};

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static size_t skip_ows(const char *s, size_t len, size_t i)
{
    while (i < len && is_ows(s[i]))
        i++;
    return i;
}

/* Parse 1*DIGIT at s[i..len) into *n; returns the index after it (i when there is none). */
static size_t parse_number(const char *s, size_t len, size_t i, struct number *n)
{
    n->value = 0;
    n->overflow = false;
    n->digits = s + i;
    n->ndigits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        uint64_t d = (uint64_t)(s[i] - '0');

        if (n->value > (UINT64_MAX - d) / 10)
            n->overflow = true;
        else
            n->value = n->value * 10 + d;
        n->ndigits++;
        i++;
    }
    return i;
}

/* Compare two numbers exactly, even when they overflow uint64_t: <0, 0 or >0. */
static int number_cmp(const struct number *a, const struct number *b)
{
    const char *da = a->digits, *db = b->digits;
    size_t na = a->ndigits, nb = b->ndigits;
    int c;

    if (!a->overflow && !b->overflow)
        return (a->value > b->value) - (a->value < b->value);
    if (a->overflow != b->overflow)
        return a->overflow ? 1 : -1;
    while (na > 0 && *da == '0') {
        da++;
        na--;
    }
    while (nb > 0 && *db == '0') {
        db++;
        nb--;
    }
    if (na != nb)
        return na > nb ? 1 : -1;
    c = memcmp(da, db, na);
    return (c > 0) - (c < 0);
}

/*
 * Parse one range-spec at s[*i..len) and move *i past it.  Returns false on invalid syntax.
 * Otherwise *satisfiable tells whether it overlaps [0, size), and if so [*first, *first +
 * *length) is that overlap.
 */
static bool parse_spec(const char *s, size_t len, size_t *i, uint64_t size, bool *satisfiable,
                       uint64_t *first, uint64_t *length)
{
    struct number a, b;
    size_t j = *i;

    if (s[j] == '-') {
        j = parse_number(s, len, j + 1, &a);
        if (a.ndigits == 0)
            return false;
        *i = j;
        *satisfiable = size > 0 && (a.overflow || a.value > 0);
        if (*satisfiable) {
            *length = a.overflow || a.value > size ? size : a.value;
            *first = size - *length;
        }
        return true;
    }
    j = parse_number(s, len, j, &a);
    if (a.ndigits == 0 || j == len || s[j] != '-')
        return false;
    j = parse_number(s, len, j + 1, &b);
    if (b.ndigits > 0 && number_cmp(&a, &b) > 0)
        return false;
    *i = j;
    *satisfiable = !a.overflow && a.value < size;
    if (*satisfiable) {
        uint64_t last = size - 1;

        if (b.ndigits > 0 && !b.overflow && b.value < last)
            last = b.value;
        *first = a.value;
        *length = last - a.value + 1;
    }
    return true;
}

static bool unit_is_bytes(const char *s)
{
    static const char bytes[] = "bytes";

    for (size_t i = 0; i < sizeof(bytes) - 1; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c + ('a' - 'A'));
        if (c != bytes[i])
            return false;
    }
    return true;
}

enum range_result range_parse(const char *value, size_t len, uint64_t size, uint64_t *first,
                              uint64_t *length)
{
    size_t i, nspecs = 0, nsatisfiable = 0;
    uint64_t one_first = 0, one_length = 0;

    if (value == NULL)
        return RANGE_NONE;
    i = skip_ows(value, len, 0);
    if (len - i < 6 || !unit_is_bytes(value + i) || value[i + 5] != '=')
        return RANGE_NONE;
    i += 6;
    for (;;) {
        bool satisfiable;
        uint64_t f, l;

        i = skip_ows(value, len, i);
        if (i == len)
            break;
        if (value[i] == ',') {
            i++;
            continue;
        }
        if (!parse_spec(value, len, &i, size, &satisfiable, &f, &l))
            return RANGE_NONE;
        nspecs++;
        if (satisfiable) {
            nsatisfiable++;
            one_first = f;
            one_length = l;
        }
        i = skip_ows(value, len, i);
        if (i == len)
            break;
        if (value[i] != ',')
            return RANGE_NONE;
        i++;
    }
    if (nspecs == 0)
        return RANGE_NONE;
    if (nsatisfiable == 0)
        return RANGE_UNSATISFIABLE;
    if (nspecs > 1)
        return RANGE_MULTI;
    if (first != NULL)
        *first = one_first;
    if (length != NULL)
        *length = one_length;
    return RANGE_SINGLE;
}

/* Sort spans[0..n) by first position (insertion sort: n is a small configured bound). */
static void sort_spans(struct range_span *spans, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct range_span x = spans[i];
        size_t j = i;

        while (j > 0 && spans[j - 1].first > x.first) {
            spans[j] = spans[j - 1];
            j--;
        }
        spans[j] = x;
    }
}

/* Merge sorted spans that overlap, touch or are within RANGE_GAP bytes; returns the new n. */
static size_t coalesce_spans(struct range_span *spans, size_t n)
{
    size_t out = 0;

    for (size_t i = 1; i < n; i++) {
        struct range_span *cur = &spans[out];
        uint64_t end = cur->first + cur->length; /* <= size: no overflow */

        if (spans[i].first <= end || spans[i].first - end <= RANGE_GAP) {
            uint64_t iend = spans[i].first + spans[i].length;

            if (iend > end)
                cur->length = iend - cur->first;
        } else {
            spans[++out] = spans[i];
        }
    }
    return out + 1;
}

/*
 * range_parse decides the syntax and the result for everything but several ranges, so
 * the single-range path is the same code as before; only then are the specs walked again
 * (the syntax is known to be valid) to collect the satisfiable ones.
 */
enum range_result range_parse_set(const char *value, size_t len, uint64_t size,
                                  struct range_span *spans, size_t cap, size_t *n)
{
    uint64_t f, l, total = 0, limit = size > UINT64_MAX / 2 ? UINT64_MAX : 2 * size;
    size_t i, nspecs = 0, nsat = 0;
    bool too_many_bytes = false;
    enum range_result r = range_parse(value, len, size, &f, &l);

    *n = 0;
    if (r == RANGE_SINGLE) {
        spans[0].first = f;
        spans[0].length = l;
        *n = 1;
    }
    if (r != RANGE_MULTI)
        return r;
    i = skip_ows(value, len, 0) + 6; /* past "bytes=", which range_parse checked */
    for (;;) {
        bool satisfiable;

        i = skip_ows(value, len, i);
        if (i == len)
            break;
        if (value[i] == ',') {
            i++;
            continue;
        }
        if (!parse_spec(value, len, &i, size, &satisfiable, &f, &l))
            return RANGE_NONE; /* not reached: range_parse accepted the syntax */
        nspecs++;
        if (satisfiable) {
            if (nsat < cap) {
                spans[nsat].first = f;
                spans[nsat].length = l;
            }
            nsat++;
            /* The parts may add up to at most twice the size, before coalescing. */
            if (l > limit - total)
                too_many_bytes = true;
            else
                total += l;
        }
    }
    if (nspecs > cap || too_many_bytes)
        return RANGE_EXCESSIVE; /* range_parse found one satisfiable: not a 416 */
    sort_spans(spans, nsat);
    *n = coalesce_spans(spans, nsat);
    return *n == 1 ? RANGE_SINGLE : RANGE_MULTI;
}
