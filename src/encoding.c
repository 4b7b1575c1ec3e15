/*
 * encoding.c - Accept-Encoding parsing (RFC 9110 section 12.5.3).
 *
 * Grammar: Accept-Encoding = #( codings [ weight ] ), codings = content-coding
 * / "identity" / "*", weight = OWS ";" OWS "q=" qvalue, qvalue = ( "0" [ "."
 * 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).  The walk is one pass over the
 * value, bounded by len; it never reads v[len].
 */
#include "encoding.h"

#include <strings.h>

static const struct {
    const char *name, *suffix;
} codings[ENCODING_COUNT] = {
    [ENCODING_BR] = { "br", ".br" },
    [ENCODING_ZSTD] = { "zstd", ".zst" },
    [ENCODING_GZIP] = { "gzip", ".gz" },
};

const char *encoding_name(enum encoding e)
{
    return codings[e].name;
}

const char *encoding_suffix(enum encoding e)
{
    return codings[e].suffix;
}

void encoding_accept_init(struct encoding_accept *a)
{
    for (int i = 0; i < ENCODING_COUNT; i++)
        a->q[i] = -1;
    a->star = -1;
    a->identity = -1;
    a->present = false;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 section 5.6.2 tchar. */
static bool is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

/* The qvalue p[0..n) in thousandths, or -1 when it is not one. */
static int parse_qvalue(const char *p, size_t n)
{
    int v, scale = 100;

    if (n == 0 || (p[0] != '0' && p[0] != '1'))
        return -1;
    v = (p[0] - '0') * 1000;
    if (n == 1)
        return v;
    if (p[1] != '.' || n > 5)
        return -1;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v += (p[i] - '0') * scale;
    }
    return v > 1000 ? -1 : v;
}

/* Whether token t[0..n) is the literal name (case-insensitively). */
static bool token_is(const char *t, size_t n, const char *name)
{
    size_t len = 0;

    while (name[len] != '\0')
        len++;
    return n == len && strncasecmp(t, name, n) == 0;
}

static void note(short *slot, int q)
{
    if (*slot < 0 || q < *slot)
        *slot = (short)q;
}

/* One list element p[0..n) (no comma inside): a token and an optional weight. */
static void parse_element(struct encoding_accept *a, const char *p, size_t n)
{
    size_t i = 0, tok;
    int q = 1000;

    while (i < n && is_ows(p[i]))
        i++;
    tok = i;
    while (i < n && is_tchar(p[i]))
        i++;
    size_t tok_len = i - tok;
    while (i < n && is_ows(p[i]))
        i++;
    if (tok_len == 0) {
        return; /* an empty element ("a, , b") or garbage with no name */
    }
    if (i < n) {
        /* Only ";" OWS "q=" qvalue OWS may follow. */
        size_t qs;
        if (p[i] != ';')
            q = 0;
        else {
            i++;
            while (i < n && is_ows(p[i]))
                i++;
            if (n - i < 2 || (p[i] != 'q' && p[i] != 'Q') || p[i + 1] != '=') {
                q = 0;
            } else {
                i += 2;
                qs = i;
                while (i < n && !is_ows(p[i]))
                    i++;
                q = parse_qvalue(p + qs, i - qs);
                while (i < n && is_ows(p[i]))
                    i++;
                if (q < 0 || i < n)
                    q = 0;
            }
        }
    }
    const char *t = p + tok;
    if (token_is(t, tok_len, "br"))
        note(&a->q[ENCODING_BR], q);
    else if (token_is(t, tok_len, "zstd"))
        note(&a->q[ENCODING_ZSTD], q);
    else if (token_is(t, tok_len, "gzip") || token_is(t, tok_len, "x-gzip"))
        note(&a->q[ENCODING_GZIP], q);
    else if (token_is(t, tok_len, "identity"))
        note(&a->identity, q);
    else if (token_is(t, tok_len, "*"))
        note(&a->star, q);
}

void encoding_accept_parse(struct encoding_accept *a, const char *v, size_t len)
{
    size_t start = 0;

    a->present = true;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || v[i] == ',') {
            parse_element(a, v + start, i - start);
            start = i + 1;
        }
    }
}

int encoding_weight(const struct encoding_accept *a, enum encoding e)
{
    if (!a->present)
        return 0;
    if (a->q[e] >= 0)
        return a->q[e];
    return a->star >= 0 ? a->star : 0;
}
