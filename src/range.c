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
