/*
 * http.c - HTTP/1.x request-head parsing and the pure helpers around it.
 *
 * Design.  Everything here is a pure function of its arguments: no
 * allocation, no I/O, no mutable globals (only the const tables below), so
 * each function is safe from any thread and is unit-tested and fuzzed on
 * its own.  The parser follows picohttpparser's calling convention: it is
 * handed the whole buffer received so far, returns pointers into it (never
 * copies, never writes), and tells "need more bytes" (HTTP_PARSE_INCOMPLETE)
 * apart from "reject" (HTTP_PARSE_ERROR).  Like lighttpd it also says which
 * status to reject with, so callers never guess between 400, 431 and 505.
 *
 * Syntax (http_parse_request) and semantics (http_request_check) are kept
 * apart: the parser enforces the RFC 9112 grammar of the request-line and
 * field lines strictly -- single SP separators, tokens from a 256-entry
 * class table, no control bytes, no obs-fold, no bare CR -- while the message
 * rules that decide framing and persistence (Host, Content-Length,
 * Transfer-Encoding, Connection, Expect) live in http_request_check.
 *
 * The inner loops are plain table lookups over bytes with an explicit end
 * pointer; no loop reads buf[len].  Byte classes come from one const table
 * so that each character decision is a single load and mask.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* timegm */
#endif

#include "http.h"

#include <limits.h>
#include <string.h>
#include <time.h>

/* Byte classes, combined in http_class[]. */
enum {
    C_TCHAR = 0x01, /* tchar (RFC 9110 5.6.2): may appear in a token */
    C_VCHAR = 0x02, /* VCHAR 0x21..0x7E: may appear in a request-target */
    C_FIELD = 0x04, /* field-content byte: VCHAR, obs-text, SP, HTAB */
    C_REG = 0x08,   /* reg-name byte (RFC 3986): unreserved or sub-delims */
    C_ETAGC = 0x10, /* etagc (RFC 9110 8.8.3): 0x21, 0x23..0x7E, obs-text */
};

/* The combinations that occur, two letters each to keep the table square. */
#define xx 0
#define WS C_FIELD
#define TR (C_TCHAR | C_VCHAR | C_FIELD | C_REG | C_ETAGC)
#define TK (C_TCHAR | C_VCHAR | C_FIELD | C_ETAGC)
#define RG (C_VCHAR | C_FIELD | C_REG | C_ETAGC)
#define VC (C_VCHAR | C_FIELD | C_ETAGC)
#define DQ (C_VCHAR | C_FIELD)
#define OB (C_FIELD | C_ETAGC)

static const unsigned char http_class[256] = {
    xx, xx, xx, xx, xx, xx, xx, xx, xx, WS, xx, xx, xx, xx, xx, xx, /* 00  */
    xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, xx, /* 10  */
    WS, TR, DQ, TK, TR, TK, TR, TR, RG, RG, TR, TR, RG, TR, TR, VC, /* 20  !"#$%&'()*+,-./ */
    TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, VC, RG, VC, RG, VC, VC, /* 30 0123456789:;<=>? */
    VC, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, /* 40 @ABCDEFGHIJKLMNO */
    TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, VC, VC, VC, TK, TR, /* 50 PQRSTUVWXYZ[\]^_ */
    TK, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, /* 60 `abcdefghijklmno */
    TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, TR, VC, TK, VC, TR, xx, /* 70 pqrstuvwxyz{|}~ */
    OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, /* 80  */
    OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, /* 90  */
    OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, /* a0  */
    OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, /* b0  */
    OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, /* c0  */
    OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, /* d0  */
    OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, /* e0  */
    OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, /* f0  */
};

#undef xx
#undef WS
#undef TR
#undef TK
#undef RG
#undef VC
#undef DQ
#undef OB

#define CLASS(c) http_class[(unsigned char)(c)]

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static inline bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline bool is_hex(char c)
{
    unsigned char l = (unsigned char)c | 0x20;

    return is_digit(c) || (l >= 'a' && l <= 'f');
}

static inline unsigned char to_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* a[0..n) equals b[0..n), ignoring ASCII case */
static bool ci_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (to_lower((unsigned char)a[i]) != to_lower((unsigned char)b[i]))
            return false;
    return true;
}

/* ---------------------------------------------------------------- parser */

/*
 * The last_len fast path (picohttpparser's slowloris countermeasure).  When
 * the previous call on this request returned HTTP_PARSE_INCOMPLETE for
 * buf[0..last_len), the head can only have become complete if its final LF
 * arrived in buf[last_len..len), preceded by "\n" or "\n\r".  So we look for
 * "\n\n" or "\n\r\n" starting at last_len - 3 and, if there is none, answer
 * INCOMPLETE without re-parsing: a client dribbling one byte at a time costs
 * O(new bytes) per call, not O(head).
 *
 * Consequence, by design: bytes that arrive on such a call are not
 * validated until the head can be complete.  A head that is already invalid
 * but unterminated (say a NUL in the request-target followed by more bytes
 * and no empty line) keeps returning INCOMPLETE; the error is reported
 * (a) by the first call at which an end of head could have arrived -- that
 * call does a full parse, which validates everything from buf[0] -- or
 * (b) when the caller's buffer fills, as http_overflow_status's 414 or 431;
 * if the client stops sending instead, the caller's timeout ends it.
 * A full parse (last_len == 0) reports an error as soon as the offending
 * byte is in the buffer, even if the head is unfinished.  Whenever the head
 * is complete, the result with any last_len is the same as with 0.
 */
static bool head_may_have_ended(const char *buf, size_t len, size_t last_len)
{
    const char *p = buf + (last_len > 3 ? last_len - 3 : 0);
    const char *end = buf + len;

    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        if (++p == end)
            return false;
        if (*p == '\n' || (*p == '\r' && end - p > 1 && p[1] == '\n'))
            return true;
    }
    return false;
}

static int parse_error(struct http_request *req, int status)
{
    req->error_status = status;
    return HTTP_PARSE_ERROR;
}

/* Inside parse_head: out of bytes means the head is not complete yet. */
#define NEED_BYTE()                       \
    do {                                  \
        if (p == end)                     \
            return HTTP_PARSE_INCOMPLETE; \
    } while (0)

/* Inside parse_head: consume a line terminator (CRLF or bare LF) at p. */
#define EXPECT_EOL()                      \
    do {                                  \
        NEED_BYTE();                      \
        if (*p == '\r') {                 \
            p++;                          \
            NEED_BYTE();                  \
        }                                 \
        if (*p != '\n')                   \
            return parse_error(req, 400); \
        p++;                              \
    } while (0)

/*
 * The request-line at *pp (after any empty lines) into req; on success *pp is past
 * its line terminator and the result is 0, else HTTP_PARSE_INCOMPLETE or
 * HTTP_PARSE_ERROR.
 */
static int parse_request_line(const char **pp, const char *end, struct http_request *req)
{
    const char *p = *pp, *start;

    /* RFC 9112 2.2: ignore empty lines received before the request-line. */
    for (;;) {
        NEED_BYTE();
        if (*p == '\n') {
            p++;
        } else if (*p == '\r') {
            p++;
            NEED_BYTE();
            if (*p != '\n')
                return parse_error(req, 400);
            p++;
        } else {
            break;
        }
    }

    /* method = token, then exactly one SP */
    start = p;
    while (p != end && (CLASS(*p) & C_TCHAR))
        p++;
    NEED_BYTE();
    if (*p != ' ' || p == start)
        return parse_error(req, 400);
    req->method = start;
    req->method_len = (size_t)(p - start);
    p++;

    /* request-target: one or more visible ASCII bytes, then exactly one SP */
    start = p;
    while (p != end && (CLASS(*p) & C_VCHAR))
        p++;
    NEED_BYTE();
    if (*p != ' ' || p == start)
        return parse_error(req, 400);
    req->target = start;
    req->target_len = (size_t)(p - start);
    p++;

    /* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive */
    static const char version[] = "HTTP/d.d";
    char major = 0, minor = 0;
    for (size_t i = 0; i < sizeof(version) - 1; i++, p++) {
        NEED_BYTE();
        if (version[i] == 'd') {
            if (!is_digit(*p))
                return parse_error(req, 400);
            if (i == 5)
                major = *p;
            else
                minor = *p;
        } else if (*p != version[i]) {
            return parse_error(req, 400);
        }
    }
    EXPECT_EOL();
    if (major != '1')
        return parse_error(req, 505);
    req->minor_version = minor == '0' ? 0 : 1;
    *pp = p;
    return 0;
}

/* The field lines at *pp, up to and including the empty line; as parse_request_line. */
static int parse_fields(const char **pp, const char *end, struct http_request *req)
{
    const char *p = *pp, *start;

    for (;;) {
        NEED_BYTE();
        if (*p == '\r' || *p == '\n') {
            EXPECT_EOL();
            break;
        }
        /* obs-fold, or whitespace between the start-line and the first field
         * (RFC 9112 2.2, 5.2): reject rather than guess. */
        if (is_ows(*p))
            return parse_error(req, 400);
        if (req->num_headers == HTTP_MAX_HEADERS)
            return parse_error(req, 431);

        struct http_header *h = &req->headers[req->num_headers];

        /* field-name = token, immediately followed by ':' (no whitespace) */
        start = p;
        while (p != end && (CLASS(*p) & C_TCHAR))
            p++;
        NEED_BYTE();
        if (*p != ':' || p == start)
            return parse_error(req, 400);
        h->name = start;
        h->name_len = (size_t)(p - start);
        p++;

        /* OWS field-value OWS; the value's bytes are field-content bytes */
        while (p != end && is_ows(*p))
            p++;
        start = p;
        while (p != end && (CLASS(*p) & C_FIELD))
            p++;
        const char *value_end = p;
        EXPECT_EOL();
        while (value_end != start && is_ows(value_end[-1]))
            value_end--;
        h->value = start;
        h->value_len = (size_t)(value_end - start);
        req->num_headers++;
    }
    *pp = p;
    return 0;
}

/* The full parse of buf[0..len); len <= INT_MAX. */
static int parse_head(const char *buf, size_t len, struct http_request *req)
{
    const char *p = buf, *end = buf + len;
    int r = parse_request_line(&p, end, req);

    if (r == 0)
        r = parse_fields(&p, end, req);
    return r == 0 ? (int)(p - buf) : r;
}

#undef NEED_BYTE
#undef EXPECT_EOL

int http_parse_request(const char *buf, size_t len, size_t last_len, struct http_request *req)
{
    req->method = NULL;
    req->method_len = 0;
    req->target = NULL;
    req->target_len = 0;
    req->minor_version = -1;
    req->num_headers = 0;
    req->error_status = 0;

    /* A last_len beyond len cannot come from a previous call: ignore it. */
    if (last_len != 0 && last_len <= len && !head_may_have_ended(buf, len, last_len))
        return HTTP_PARSE_INCOMPLETE;

    /* The return type caps a head at INT_MAX bytes; treat a longer one as
     * an overflow of the caller's buffer. */
    if (len > INT_MAX) {
        int r = parse_head(buf, INT_MAX, req);
        if (r == HTTP_PARSE_INCOMPLETE)
            r = parse_error(req, http_overflow_status(buf, INT_MAX));
        return r;
    }
    return parse_head(buf, len, req);
}

int http_overflow_status(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;

    while (p != end) {
        if (*p == '\n')
            p++;
        else if (*p == '\r' && end - p > 1 && p[1] == '\n')
            p += 2;
        else
            break;
    }
    if (p != end && memchr(p, '\n', (size_t)(end - p)) != NULL)
        return 431;
    return 414;
}

/* ---------------------------------------------------------------- message rules */

static bool name_is(const struct http_header *h, const char *name, size_t len)
{
    return h->name_len == len && ci_equal(h->name, name, len);
}

#define NAME_IS(h, lit) name_is((h), (lit), sizeof(lit) - 1)

/*
 * Host = uri-host [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2).  uri-host is
 * an IP-literal in brackets ("[" IPv6address "]", checked by character set
 * only, or "[v" HEXDIG "." ...]"), or a reg-name (unreserved, sub-delims and
 * %XX; an IPv4address is a reg-name too), possibly empty.  port = *DIGIT.
 */
static bool host_is_valid(const char *s, size_t len)
{
    const char *p = s, *end = s + len;

    if (p != end && *p == '[') {
        p++;
        if (p != end && (*p == 'v' || *p == 'V')) {
            /* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
            const char *hex = ++p;
            while (p != end && is_hex(*p))
                p++;
            if (p == hex || p == end || *p != '.')
                return false;
            const char *rest = ++p;
            while (p != end && ((CLASS(*p) & C_REG) || *p == ':'))
                p++;
            if (p == rest)
                return false;
        } else {
            const char *addr = p;
            bool colon = false;
            while (p != end && (is_hex(*p) || *p == ':' || *p == '.')) {
                colon |= *p == ':';
                p++;
            }
            if (p == addr || !colon)
                return false;
        }
        if (p == end || *p != ']')
            return false;
        p++;
    } else {
        while (p != end && *p != ':') {
            if (*p == '%') {
                if (end - p < 3 || !is_hex(p[1]) || !is_hex(p[2]))
                    return false;
                p += 3;
            } else if (CLASS(*p) & C_REG) {
                p++;
            } else {
                return false;
            }
        }
    }
    if (p == end)
        return true;
    if (*p != ':')
        return false;
    for (p++; p != end; p++)
        if (!is_digit(*p))
            return false;
    return true;
}

/*
 * Content-Length = 1*DIGIT (RFC 9110 8.6).  A list of the same value
 * repeated ("5, 5", sent by some intermediaries that merge fields) is
 * accepted as that value; anything else, including an empty list element,
 * is invalid.  Values above INT64_MAX are rejected so the length always
 * fits an off_t.
 */
static bool parse_content_length(const char *s, size_t len, uint64_t *out)
{
    const char *p = s, *end = s + len;
    bool have = false;
    uint64_t first = 0;

    for (;;) {
        while (p != end && is_ows(*p))
            p++;
        if (p == end || !is_digit(*p))
            return false;
        uint64_t v = 0;
        do {
            unsigned d = (unsigned)(*p - '0');
            if (v > ((uint64_t)INT64_MAX - d) / 10)
                return false;
            v = v * 10 + d;
            p++;
        } while (p != end && is_digit(*p));
        if (have && v != first)
            return false;
        first = v;
        have = true;
        while (p != end && is_ows(*p))
            p++;
        if (p == end)
            break;
        if (*p != ',')
            return false;
        p++;
    }
    *out = first;
    return true;
}

static enum http_method classify_method(const char *m, size_t len)
{
    static const struct {
        const char *name;
        size_t len;
    } known[] = {
        { "POST", 4 },    { "PUT", 3 },   { "DELETE", 6 }, { "CONNECT", 7 },
        { "OPTIONS", 7 }, { "TRACE", 5 }, { "PATCH", 5 },
    };

    if (len == 3 && memcmp(m, "GET", 3) == 0)
        return HTTP_METHOD_GET;
    if (len == 4 && memcmp(m, "HEAD", 4) == 0)
        return HTTP_METHOD_HEAD;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (len == known[i].len && memcmp(m, known[i].name, len) == 0)
            return HTTP_METHOD_KNOWN;
    return HTTP_METHOD_UNKNOWN;
}

/* Remember the first field of a kind. */
static inline void first_of(const struct http_header **slot, const struct http_header *h)
{
    if (*slot == NULL)
        *slot = h;
}

/* What http_request_check gathers from the fields besides *info. */
struct field_tally {
    size_t hosts, te_fields;
    bool te_chunked, conn_close, conn_keep_alive, bad_host, bad_length;
};

/* Note the field h (of a request of HTTP/1.http11) in info and t. */
static void note_field(const struct http_header *h, bool http11, struct http_req_info *info,
                       struct field_tally *t)
{
    switch (h->name_len) {
    case 4:
        if (NAME_IS(h, "host")) {
            t->hosts++;
            first_of(&info->host, h);
            t->bad_host |= !host_is_valid(h->value, h->value_len);
        }
        break;
    case 5:
        if (NAME_IS(h, "range"))
            first_of(&info->range, h);
        break;
    case 6:
        if (NAME_IS(h, "expect") && http_has_token(h->value, h->value_len, "100-continue"))
            info->expect_continue = http11; /* RFC 9110 10.1.1: ignored in 1.0 */
        break;
    case 7:
        if (NAME_IS(h, "referer"))
            first_of(&info->referer, h);
        break;
    case 8:
        if (NAME_IS(h, "if-match"))
            first_of(&info->if_match, h);
        else if (NAME_IS(h, "if-range"))
            first_of(&info->if_range, h);
        break;
    case 10:
        if (NAME_IS(h, "connection")) {
            t->conn_close |= http_has_token(h->value, h->value_len, "close");
            t->conn_keep_alive |= http_has_token(h->value, h->value_len, "keep-alive");
        } else if (NAME_IS(h, "user-agent")) {
            first_of(&info->user_agent, h);
        }
        break;
    case 13:
        if (NAME_IS(h, "if-none-match"))
            first_of(&info->if_none_match, h);
        break;
    case 14:
        if (NAME_IS(h, "content-length")) {
            /* RFC 9110 8.6: several fields must all carry one value */
            uint64_t v = 0;
            if (!parse_content_length(h->value, h->value_len, &v) ||
                (info->has_content_length && v != info->content_length))
                t->bad_length = true;
            else
                info->content_length = v;
            info->has_content_length = true;
        }
        break;
    case 17:
        if (NAME_IS(h, "transfer-encoding")) {
            t->te_fields++;
            t->te_chunked &= h->value_len == 7 && ci_equal(h->value, "chunked", 7);
        } else if (NAME_IS(h, "if-modified-since")) {
            first_of(&info->if_modified_since, h);
        }
        break;
    case 19:
        if (NAME_IS(h, "if-unmodified-since"))
            first_of(&info->if_unmodified_since, h);
        break;
    }
}

/*
 * The authority of an absolute-form target (scheme "://" authority path-abempty
 * [ "?" query ]) is the request's host (RFC 9112 3.2.2), so it gets the Host field's
 * checks; its host must not be empty (RFC 9110 4.2.1) and it has no userinfo (4.2.4:
 * '@' is not a reg-name byte).  Other forms are left to the path module.
 */
static bool target_authority_valid(const char *t, size_t len)
{
    const char *p = t, *end = t + len;

    if (p == end || !is_alpha(*p))
        return true;
    while (p != end && (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-' || *p == '.'))
        p++;
    if (end - p < 3 || memcmp(p, "://", 3) != 0)
        return true;
    const char *host = p + 3;
    for (p = host; p != end && *p != '/' && *p != '?' && *p != '#'; p++)
        ;
    return p != host && *host != ':' && host_is_valid(host, (size_t)(p - host));
}

int http_request_check(const struct http_request *req, struct http_req_info *info)
{
    struct field_tally t = { .te_chunked = true };
    const bool http11 = req->minor_version >= 1;

    memset(info, 0, sizeof(*info));
    info->method = classify_method(req->method, req->method_len);
    for (size_t i = 0; i < req->num_headers; i++)
        note_field(&req->headers[i], http11, info, &t);

    if (http11)
        info->keep_alive = !t.conn_close;
    else
        info->keep_alive = t.conn_keep_alive && !t.conn_close;

    /* RFC 9112 3.2: exactly one valid Host in 1.1; never more than one; an
     * absolute-form target's authority is checked as a Host. */
    int status = 0;
    if (t.hosts > 1 || t.bad_host || (http11 && t.hosts == 0) ||
        !target_authority_valid(req->target, req->target_len))
        status = 400;
    else if (t.bad_length)
        status = 400;
    else if (t.te_fields > 0) {
        /* RFC 9112 6.1, 6.3: TE with CL is a smuggling attempt, TE in
         * HTTP/1.0 means faulty framing.  Only a single "chunked" coding is
         * implemented; any other list, a repeated chunked included, is 501
         * as the header specifies.  (RFC 9112 6.3 asks for 400 when chunked
         * is not the final coding; both close the connection.) */
        if (info->has_content_length || !http11)
            status = 400;
        else if (t.te_fields > 1 || !t.te_chunked)
            status = 501;
        else
            info->chunked = true;
    }
    if (status != 0)
        info->keep_alive = false;
    return status;
}

const struct http_header *http_find_header(const struct http_request *req, const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < req->num_headers; i++)
        if (name_is(&req->headers[i], name, len))
            return &req->headers[i];
    return NULL;
}

bool http_has_token(const char *value, size_t len, const char *token)
{
    const char *p = value, *end = value + len;
    size_t token_len = strlen(token);

    if (token_len == 0)
        return false;
    for (;;) {
        /* skip OWS and empty list elements */
        while (p != end && (is_ows(*p) || *p == ','))
            p++;
        if (p == end)
            return false;
        const char *start = p;
        while (p != end && *p != ',')
            p++;
        const char *item_end = p;
        while (is_ows(item_end[-1])) /* stops at start, which is not OWS */
            item_end--;
        if ((size_t)(item_end - start) == token_len && ci_equal(start, token, token_len))
            return true;
    }
}

const char *http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 421:
        return "Misdirected Request";
    case 426:
        return "Upgrade Required";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

/* ---------------------------------------------------------------- chunked bodies */

/*
 * The decoder is a byte-at-a-time state machine over the chunk-size lines and the
 * trailer section; chunk data is skipped in bulk.  Every state is resumable at any
 * byte, so the way the body is split across calls never changes the result.
 */
enum {
    CH_SIZE_FIRST = 0,  /* the first HEXDIG of a chunk-size (zero: http_chunked_init) */
    CH_SIZE,            /* more HEXDIG, or what follows the size */
    CH_EXT_BWS,         /* BWS that must lead to ";" */
    CH_EXT_NAME_BWS,    /* after ";": BWS, then the extension name */
    CH_EXT_NAME,        /* in the name: more tchar, BWS, "=", ";" or EOL */
    CH_EXT_AFTER_NAME,  /* BWS after the name: "=", ";" or EOL */
    CH_EXT_VAL_BWS,     /* after "=": BWS, then a token or a quoted-string */
    CH_EXT_VAL,         /* in a token value */
    CH_EXT_QUOTED,      /* in a quoted-string */
    CH_EXT_QUOTED_PAIR, /* after a backslash in a quoted-string */
    CH_EXT_END,         /* after a quoted-string: BWS, ";" or EOL */
    CH_SIZE_LF,         /* CR seen at the end of a size line */
    CH_DATA,            /* chunk_left data bytes to skip */
    CH_DATA_CR,         /* the CRLF after the data */
    CH_DATA_LF,
    CH_TRAILER_START, /* the start of a trailer line or of the final empty line */
    CH_TRAILER_NAME,
    CH_TRAILER_VALUE,
    CH_TRAILER_LF, /* CR seen at the end of a trailer field line */
    CH_END_LF,     /* CR seen on the final empty line */
    CH_DONE,
    CH_ERROR,
};

void http_chunked_init(struct http_chunked *st)
{
    memset(st, 0, sizeof(*st));
    st->state = CH_SIZE_FIRST;
}

static int hex_digit(char c)
{
    if (is_digit(c))
        return c - '0';
    return ((unsigned char)c | 0x20) - 'a' + 10;
}

/* A size line (chunk-size and chunk-ext) ended: go to its data or the trailer. */
static void size_line_end(struct http_chunked *st)
{
    st->line_len = 0;
    st->state = st->chunk_left == 0 ? CH_TRAILER_START : CH_DATA;
}

/* A line terminator at c ends the line: CR waits for its LF in lf_state. */
static bool line_end(struct http_chunked *st, char c, int lf_state)
{
    if (c == '\r') {
        st->state = lf_state;
        return true;
    }
    if (c == '\n') {
        if (lf_state == CH_SIZE_LF)
            size_line_end(st);
        else
            st->state = CH_TRAILER_START;
        st->line_len = 0;
        return true;
    }
    return false;
}

/*
 * After a chunk-size, a token value or a quoted-string: BWS (which must lead to the
 * next ";"), ";" or the end of the line.
 */
static bool ext_end_byte(struct http_chunked *st, char c)
{
    if (is_ows(c))
        st->state = CH_EXT_BWS;
    else if (c == ';')
        st->state = CH_EXT_NAME_BWS;
    else
        return line_end(st, c, CH_SIZE_LF);
    return true;
}

/*
 * One byte of a size line after its first digit:
 *   chunk-size *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) EOL
 */
static bool size_line_byte(struct http_chunked *st, char c, uint64_t data_left)
{
    const bool tchar = CLASS(c) & C_TCHAR, ows = is_ows(c);

    switch (st->state) {
    case CH_SIZE:
        if (is_hex(c)) {
            uint64_t d = (uint64_t)hex_digit(c);
            if (st->chunk_left > (UINT64_MAX - d) / 16)
                return false;
            st->chunk_left = st->chunk_left * 16 + d;
            return st->chunk_left <= data_left;
        }
        return ext_end_byte(st, c);
    case CH_EXT_BWS:
        if (c == ';')
            st->state = CH_EXT_NAME_BWS;
        return ows || c == ';';
    case CH_EXT_NAME_BWS:
    case CH_EXT_VAL_BWS:
        if (ows)
            return true;
        if (st->state == CH_EXT_VAL_BWS && c == '"') {
            st->state = CH_EXT_QUOTED;
            return true;
        }
        st->state = st->state == CH_EXT_NAME_BWS ? CH_EXT_NAME : CH_EXT_VAL;
        return tchar;
    case CH_EXT_NAME:
        if (tchar)
            return true;
        if (c == '\r' || c == '\n' || c == ';')
            return ext_end_byte(st, c);
        /* fall through */
    case CH_EXT_AFTER_NAME:
        if (c == '=')
            st->state = CH_EXT_VAL_BWS;
        else if (c == ';')
            st->state = CH_EXT_NAME_BWS;
        else if (ows)
            st->state = CH_EXT_AFTER_NAME;
        return ows || c == '=' || c == ';';
    case CH_EXT_VAL:
        return tchar || ext_end_byte(st, c);
    case CH_EXT_QUOTED:
        /* qdtext = HTAB / SP / 0x21 / 0x23-5B / 0x5D-7E / obs-text */
        if (c == '"')
            st->state = CH_EXT_END;
        else if (c == '\\')
            st->state = CH_EXT_QUOTED_PAIR;
        return CLASS(c) & C_FIELD;
    case CH_EXT_QUOTED_PAIR:
        st->state = CH_EXT_QUOTED;
        return CLASS(c) & C_FIELD;
    case CH_EXT_END:
        return ext_end_byte(st, c);
    }
    return false;
}

/* One byte of a trailer field line or of the lines' terminators. */
static bool trailer_byte(struct http_chunked *st, char c)
{
    switch (st->state) {
    case CH_TRAILER_START:
        if (c == '\r') {
            st->state = CH_END_LF;
            return true;
        }
        if (c == '\n') {
            st->state = CH_DONE;
            return true;
        }
        /* a field-name starts the line: no obs-fold, no whitespace */
        st->state = CH_TRAILER_NAME;
        return (CLASS(c) & C_TCHAR) && ++st->trailers <= HTTP_MAX_HEADERS;
    case CH_TRAILER_NAME:
        if (c == ':')
            st->state = CH_TRAILER_VALUE;
        return c == ':' || (CLASS(c) & C_TCHAR);
    case CH_TRAILER_VALUE:
        return (CLASS(c) & C_FIELD) || line_end(st, c, CH_TRAILER_LF);
    case CH_TRAILER_LF:
        st->state = CH_TRAILER_START;
        st->line_len = 0;
        return c == '\n';
    case CH_END_LF:
        st->state = CH_DONE;
        return c == '\n';
    }
    return false;
}

/*
 * One byte outside chunk data; false on a malformed body or a limit.  Every byte but
 * CR and LF counts towards the current line's length (a byte that is wrong where a
 * line terminator is due fails anyway).
 */
static bool chunked_byte(struct http_chunked *st, char c, uint64_t max_data, size_t max_line)
{
    if (c != '\r' && c != '\n' && (st->line_len == UINT32_MAX || ++st->line_len > max_line))
        return false;
    switch (st->state) {
    case CH_SIZE_FIRST:
        if (!is_hex(c))
            return false;
        st->chunk_left = (uint64_t)hex_digit(c);
        st->state = CH_SIZE;
        return st->chunk_left <= max_data - st->data_total;
    case CH_SIZE_LF:
        if (c != '\n')
            return false;
        size_line_end(st);
        return true;
    case CH_DATA_CR:
        if (c == '\r') {
            st->state = CH_DATA_LF;
            return true;
        }
        st->state = CH_SIZE_FIRST; /* a bare LF ends the data too */
        return c == '\n';
    case CH_DATA_LF:
        st->state = CH_SIZE_FIRST;
        return c == '\n';
    case CH_TRAILER_START:
    case CH_TRAILER_NAME:
    case CH_TRAILER_VALUE:
    case CH_TRAILER_LF:
    case CH_END_LF:
        return trailer_byte(st, c);
    default:
        return size_line_byte(st, c, max_data - st->data_total);
    }
}

ssize_t http_chunked_skip(struct http_chunked *st, const char *buf, size_t len, uint64_t max_data,
                          size_t max_line, bool *done)
{
    size_t i = 0;

    *done = false;
    if (st->state == CH_ERROR)
        return HTTP_PARSE_ERROR;
    while (i < len && st->state != CH_DONE) {
        if (st->state == CH_DATA) {
            uint64_t n = len - i < st->chunk_left ? len - i : st->chunk_left;
            i += (size_t)n;
            st->chunk_left -= n;
            st->data_total += n;
            if (st->chunk_left == 0)
                st->state = CH_DATA_CR;
            continue;
        }
        if (!chunked_byte(st, buf[i++], max_data, max_line)) {
            st->state = CH_ERROR;
            return HTTP_PARSE_ERROR;
        }
    }
    *done = st->state == CH_DONE;
    return (ssize_t)i;
}

/* ---------------------------------------------------------------- dates */

/* Fixed English names: HTTP dates must not depend on the locale. */
static const char day_names[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char day_names_long[7][10] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};
static const char month_names[12][4] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static void put_2digits(char *out, int v)
{
    out[0] = (char)('0' + v / 10);
    out[1] = (char)('0' + v % 10);
}

/*
 * IMF-fixdate = day-name "," SP day SP month SP year SP hour ":" minute ":"
 * second SP "GMT", e.g. "Sun, 06 Nov 1994 08:49:37 GMT".  Times outside the
 * years 0000..9999 (which have no 4-digit year) are clamped to that range.
 */
size_t http_format_date(char out[HTTP_DATE_LEN + 1], time_t t)
{
    static const int64_t min_t = -62167219200; /* 0000-01-01T00:00:00Z */
    static const int64_t max_t = 253402300799; /* 9999-12-31T23:59:59Z */
    int64_t t64 = (int64_t)t;
    struct tm tm;

    if (t64 < min_t)
        t64 = min_t;
    else if (t64 > max_t)
        t64 = max_t;
    t = (time_t)t64;
    if (gmtime_r(&t, &tm) == NULL) {
        memcpy(out, "Thu, 01 Jan 1970 00:00:00 GMT", HTTP_DATE_LEN + 1);
        return HTTP_DATE_LEN;
    }
    int year = tm.tm_year + 1900;

    memcpy(out, day_names[tm.tm_wday], 3);
    out[3] = ',';
    out[4] = ' ';
    put_2digits(out + 5, tm.tm_mday);
    out[7] = ' ';
    memcpy(out + 8, month_names[tm.tm_mon], 3);
    out[11] = ' ';
    put_2digits(out + 12, year / 100);
    put_2digits(out + 14, year % 100);
    out[16] = ' ';
    put_2digits(out + 17, tm.tm_hour);
    out[19] = ':';
    put_2digits(out + 20, tm.tm_min);
    out[22] = ':';
    put_2digits(out + 23, tm.tm_sec);
    memcpy(out + 25, " GMT", 5);
    return HTTP_DATE_LEN;
}

/* Two digits at p as a number, or -1. */
static int get_2digits(const char *p)
{
    if (!is_digit(p[0]) || !is_digit(p[1]))
        return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* The month whose 3-letter name (case-sensitive) is at p, or -1. */
static int get_month(const char *p)
{
    for (int i = 0; i < 12; i++)
        if (memcmp(p, month_names[i], 3) == 0)
            return i;
    return -1;
}

/* "hh:mm:ss" at p into tm; false if malformed or out of range. */
static bool get_time(const char *p, struct tm *tm)
{
    if (p[2] != ':' || p[5] != ':')
        return false;
    tm->tm_hour = get_2digits(p);
    tm->tm_min = get_2digits(p + 3);
    tm->tm_sec = get_2digits(p + 6);
    /* 60 is a leap second; timegm folds it into the next minute */
    return tm->tm_hour >= 0 && tm->tm_hour < 24 && tm->tm_min >= 0 && tm->tm_min < 60 &&
           tm->tm_sec >= 0 && tm->tm_sec <= 60;
}

static bool day_is_valid(int year, int mon, int day)
{
    static const unsigned char days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    if (day < 1 || day > days[mon])
        return false;
    return mon != 1 || day <= 28 || leap;
}

/*
 * HTTP-date (RFC 9110 5.6.7), the whole of s[0..len), case-sensitive:
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"     29 bytes
 *   rfc850-date  "Sunday, 06-Nov-94 08:49:37 GMT"    24 + day name
 *   asctime-date "Sun Nov  6 08:49:37 1994"          24 bytes
 * The day name must be a valid one but need not match the date.  A two-digit
 * year below 70 is 20yy, otherwise 19yy: a pure function cannot apply RFC
 * 9110's "more than 50 years in the future" rule, which needs the clock.
 */
bool http_parse_date(const char *s, size_t len, time_t *out)
{
    struct tm tm;
    int year, mon, day, wday;
    size_t name_len = 0;

    memset(&tm, 0, sizeof(tm));
    while (name_len < len && name_len < 10 && is_alpha(s[name_len]))
        name_len++;

    if (len == 29 && name_len == 3 && s[3] == ',') {
        for (wday = 0; wday < 7 && memcmp(s, day_names[wday], 3) != 0; wday++)
            ;
        if (wday == 7 || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
            memcmp(s + 25, " GMT", 4) != 0)
            return false;
        int hi = get_2digits(s + 12), lo = get_2digits(s + 14);
        day = get_2digits(s + 5);
        mon = get_month(s + 8);
        if (hi < 0 || lo < 0 || day < 0 || mon < 0 || !get_time(s + 17, &tm))
            return false;
        year = hi * 100 + lo;
    } else if (len == 24 && name_len == 3 && s[3] == ' ') {
        for (wday = 0; wday < 7 && memcmp(s, day_names[wday], 3) != 0; wday++)
            ;
        if (wday == 7 || s[7] != ' ' || s[10] != ' ' || s[19] != ' ')
            return false;
        int hi = get_2digits(s + 20), lo = get_2digits(s + 22);
        mon = get_month(s + 4);
        day = s[8] == ' ' && is_digit(s[9]) ? s[9] - '0' : get_2digits(s + 8);
        if (hi < 0 || lo < 0 || day < 0 || mon < 0 || !get_time(s + 11, &tm))
            return false;
        year = hi * 100 + lo;
    } else if (name_len >= 6 && len == name_len + 24) {
        for (wday = 0; wday < 7; wday++)
            if (strlen(day_names_long[wday]) == name_len &&
                memcmp(s, day_names_long[wday], name_len) == 0)
                break;
        const char *p = s + name_len;
        if (wday == 7 || p[0] != ',' || p[1] != ' ' || p[4] != '-' || p[8] != '-' || p[11] != ' ' ||
            memcmp(p + 20, " GMT", 4) != 0)
            return false;
        day = get_2digits(p + 2);
        mon = get_month(p + 5);
        year = get_2digits(p + 9);
        if (day < 0 || mon < 0 || year < 0 || !get_time(p + 12, &tm))
            return false;
        year += year < 70 ? 2000 : 1900;
    } else {
        return false;
    }
    if (!day_is_valid(year, mon, day))
        return false;

    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    *out = timegm(&tm);
    return true;
}

/* ---------------------------------------------------------------- entity tags */

/*
 * entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE at p (RFC 9110 8.8.3).  Returns
 * the byte after it, with its opaque part and weakness, or NULL.
 */
static const char *parse_etag(const char *p, const char *end, const char **opaque,
                              size_t *opaque_len, bool *weak)
{
    *weak = false;
    if (end - p >= 2 && p[0] == 'W' && p[1] == '/') {
        *weak = true;
        p += 2;
    }
    if (p == end || *p != '"')
        return NULL;
    *opaque = ++p;
    while (p != end && (CLASS(*p) & C_ETAGC))
        p++;
    if (p == end || *p != '"')
        return NULL;
    *opaque_len = (size_t)(p - *opaque);
    return p + 1;
}

bool http_etag_match(const char *value, size_t len, const char *etag, bool strong)
{
    const char *p = value, *end = value + len;
    const char *tag, *opaque;
    size_t tag_len, opaque_len;
    bool tag_weak, weak, match = false;

    while (p != end && is_ows(*p))
        p++;
    while (end != p && is_ows(end[-1]))
        end--;
    if (end - p == 1 && *p == '*')
        return true;

    if (etag == NULL)
        return false;
    const char *etag_end = etag + strlen(etag);
    if (parse_etag(etag, etag_end, &tag, &tag_len, &tag_weak) != etag_end)
        return false;

    /* #entity-tag: the whole list must be well-formed for anything to match */
    for (;;) {
        while (p != end && (is_ows(*p) || *p == ','))
            p++;
        if (p == end)
            return match;
        p = parse_etag(p, end, &opaque, &opaque_len, &weak);
        if (p == NULL)
            return false;
        if (opaque_len == tag_len && memcmp(opaque, tag, tag_len) == 0 &&
            (!strong || (!weak && !tag_weak)))
            match = true;
        while (p != end && is_ows(*p))
            p++;
        if (p != end && *p != ',')
            return false;
    }
}
