/*
 * fuzz_http.c - fuzz target for src/http.c.
 *
 * The input is copied into a buffer of exactly its size, so ASan catches
 * any read past the end, and run through every function of http.h.  Beyond
 * "no crash", it checks the contracts: the consumed length, that every
 * returned pointer lies inside the buffer, that statuses come from the
 * documented sets, that the last_len fast path never changes a complete
 * result, and that dates and entity-tags behave consistently.  The chunked
 * body decoder gets the input too, whole and split at points taken from the
 * input, and must give the same result either way.
 */
#include "http.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

/* p[0..len) lies within buf[0..size) */
static int within(const char *buf, size_t size, const char *p, size_t len)
{
    return p >= buf && len <= size && (size_t)(p - buf) <= size - len;
}

static int same_request(const struct http_request *a, const struct http_request *b)
{
    if (a->method != b->method || a->method_len != b->method_len || a->target != b->target ||
        a->target_len != b->target_len || a->minor_version != b->minor_version ||
        a->num_headers != b->num_headers)
        return 0;
    for (size_t i = 0; i < a->num_headers; i++)
        if (memcmp(&a->headers[i], &b->headers[i], sizeof(a->headers[i])) != 0)
            return 0;
    return 1;
}

static void check_parsed(const char *buf, int r, const struct http_request *req)
{
    size_t n = (size_t)r;

    ENSURE(within(buf, n, req->method, req->method_len) && req->method_len > 0);
    ENSURE(within(buf, n, req->target, req->target_len) && req->target_len > 0);
    ENSURE(req->target > req->method);
    ENSURE(req->minor_version == 0 || req->minor_version == 1);
    ENSURE(req->num_headers <= HTTP_MAX_HEADERS);
    ENSURE(req->error_status == 0);
    for (size_t i = 0; i < req->num_headers; i++) {
        const struct http_header *h = &req->headers[i];
        ENSURE(within(buf, n, h->name, h->name_len) && h->name_len > 0);
        ENSURE(within(buf, n, h->value, h->value_len));
        ENSURE(h->value > h->name);
        if (h->value_len > 0) {
            ENSURE(h->value[0] != ' ' && h->value[0] != '\t');
            ENSURE(h->value[h->value_len - 1] != ' ' && h->value[h->value_len - 1] != '\t');
        }
    }
}

static int in_headers(const struct http_request *req, const struct http_header *h)
{
    return h == NULL || (h >= req->headers && h < req->headers + req->num_headers);
}

static void check_semantics(const struct http_request *req)
{
    struct http_req_info info;
    int st = http_request_check(req, &info);

    ENSURE(st == 0 || st == 400 || st == 501);
    ENSURE(info.method <= HTTP_METHOD_UNKNOWN);
    ENSURE(in_headers(req, info.host) && in_headers(req, info.if_match) &&
           in_headers(req, info.if_none_match) && in_headers(req, info.if_modified_since) &&
           in_headers(req, info.if_unmodified_since) && in_headers(req, info.if_range) &&
           in_headers(req, info.range) && in_headers(req, info.referer) &&
           in_headers(req, info.user_agent));
    if (st != 0) {
        ENSURE(!info.keep_alive);
    } else {
        ENSURE(!(info.chunked && info.has_content_length));
        ENSURE(!info.chunked || req->minor_version == 1);
        ENSURE(req->minor_version == 0 || info.host != NULL);
        ENSURE(!info.has_content_length || info.content_length <= INT64_MAX);
    }

    /* http_find_header finds the first field of each name present */
    for (size_t i = 0; i < req->num_headers; i++) {
        char name[64];
        const struct http_header *h = &req->headers[i];
        if (h->name_len >= sizeof(name))
            continue;
        memcpy(name, h->name, h->name_len);
        name[h->name_len] = '\0';
        const struct http_header *f = http_find_header(req, name);
        ENSURE(f != NULL && f <= h && in_headers(req, f) && f->name_len == h->name_len);
    }
    ENSURE(in_headers(req, http_find_header(req, "host")));
    ENSURE(http_find_header(req, "") == NULL);
}

static void fuzz_parser(const char *buf, size_t size)
{
    static struct http_request req, req2;
    int r = http_parse_request(buf, size, 0, &req);

    ENSURE(r == HTTP_PARSE_INCOMPLETE || r == HTTP_PARSE_ERROR || (r > 0 && (size_t)r <= size));
    if (r == HTTP_PARSE_ERROR)
        ENSURE(req.error_status == 400 || req.error_status == 431 || req.error_status == 505);
    else
        ENSURE(req.error_status == 0);
    if (r > 0) {
        check_parsed(buf, r, &req);
        check_semantics(&req);
        /* the head alone parses the same */
        int r2 = http_parse_request(buf, (size_t)r, 0, &req2);
        ENSURE(r2 == r && same_request(&req, &req2));
    }
    if (r == HTTP_PARSE_INCOMPLETE || (r == HTTP_PARSE_ERROR && req.error_status != 505)) {
        int o = http_overflow_status(buf, size);
        ENSURE(o == 414 || o == 431);
    }

    /*
     * The last_len fast path, at a split point taken from the input: if the
     * prefix was incomplete (the only case where a caller calls again), a
     * complete head must be found exactly as by a full parse, and an
     * incomplete one stays incomplete.  Only an error may show up later.
     */
    if (size > 1) {
        size_t split = 1 + (unsigned char)buf[size - 1] % (size - 1);
        if (http_parse_request(buf, split, 0, &req2) == HTTP_PARSE_INCOMPLETE) {
            int r2 = http_parse_request(buf, size, split, &req2);
            if (r2 == HTTP_PARSE_INCOMPLETE)
                ENSURE(r == HTTP_PARSE_INCOMPLETE || r == HTTP_PARSE_ERROR);
            else
                ENSURE(r2 == r &&
                       (r < 0 ? req2.error_status == req.error_status : same_request(&req, &req2)));
        }
    }
}

/* Feed buf[0..size) to a chunked decoder in pieces of step bytes after a first of first
 * bytes; the bytes consumed when the body ended, -2 when it did not, -1 on an error. */
static long long chunked_run(const char *buf, size_t size, size_t first, size_t step,
                             uint64_t max_data, size_t max_line)
{
    struct http_chunked st;
    size_t off = 0;
    bool done = false;

    http_chunked_init(&st);
    while (off < size) {
        size_t n = off == 0 ? first : step;
        if (n > size - off)
            n = size - off;
        ssize_t r = http_chunked_skip(&st, buf + off, n, max_data, max_line, &done);
        if (r == HTTP_PARSE_ERROR) {
            ENSURE(!done);
            ENSURE(http_chunked_skip(&st, buf, size, max_data, max_line, &done) ==
                   HTTP_PARSE_ERROR);
            return -1;
        }
        ENSURE(r >= 0 && (size_t)r <= n && ((size_t)r == n || done));
        ENSURE(st.data_total <= max_data);
        off += (size_t)r;
        if (done) {
            /* the end is final: nothing more is consumed */
            ENSURE(http_chunked_skip(&st, buf, size, max_data, max_line, &done) == 0 && done);
            return (long long)off;
        }
    }
    return -2;
}

static void fuzz_chunked(const char *buf, size_t size)
{
    /* the limits come from the last two bytes, so the fuzzer can reach them */
    size_t max_line = size > 0 ? 8 + (unsigned char)buf[size - 1] : 8;
    uint64_t max_data = size > 1 ? (unsigned char)buf[size - 2] * 64u : 0;
    long long whole = chunked_run(buf, size, size, size, max_data, max_line);

    ENSURE(whole == -1 || whole == -2 || (whole >= 3 && (size_t)whole <= size));
    ENSURE(chunked_run(buf, size, 1, 1, max_data, max_line) == whole);
    if (size > 1) {
        size_t split = 1 + (unsigned char)buf[0] % (size - 1);
        ENSURE(chunked_run(buf, size, split, size, max_data, max_line) == whole);
        ENSURE(chunked_run(buf, size, split, 3, max_data, max_line) == whole);
    }
    /* the unlimited decoder accepts at least what the limited one does */
    if (whole >= 0)
        ENSURE(chunked_run(buf, size, size, size, UINT64_MAX, SIZE_MAX) == whole);
}

static void fuzz_helpers(const char *buf, size_t size)
{
    time_t t;

    if (http_parse_date(buf, size, &t)) {
        char out[HTTP_DATE_LEN + 1], out2[HTTP_DATE_LEN + 1];
        time_t t2;
        ENSURE(http_format_date(out, t) == HTTP_DATE_LEN && out[HTTP_DATE_LEN] == '\0');
        ENSURE(http_parse_date(out, HTTP_DATE_LEN, &t2) && t2 == t);
        http_format_date(out2, t2);
        ENSURE(memcmp(out, out2, sizeof(out)) == 0);
    }
    if (size >= sizeof(time_t)) {
        char out[HTTP_DATE_LEN + 1];
        time_t t2;
        memcpy(&t, buf, sizeof(t));
        ENSURE(http_format_date(out, t) == HTTP_DATE_LEN && strlen(out) == HTTP_DATE_LEN);
        ENSURE(http_parse_date(out, HTTP_DATE_LEN, &t2));
    }

    /* etags: a strong match is also a weak match; the input as a list and,
     * up to its first NUL, as the etag itself */
    static const char *const tags[] = { "\"xyzzy\"", "W/\"xyzzy\"", "\"\"", "\"a\"", "bad" };
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        bool s = http_etag_match(buf, size, tags[i], true);
        bool w = http_etag_match(buf, size, tags[i], false);
        ENSURE(!s || w);
    }
    char *tag = malloc(size + 1);
    if (tag != NULL) {
        memcpy(tag, buf, size);
        tag[size] = '\0';
        bool s = http_etag_match(tag, strlen(tag), tag, true);
        bool w = http_etag_match(tag, strlen(tag), tag, false);
        ENSURE(!s || w);
        free(tag);
    }

    bool c = http_has_token(buf, size, "close");
    bool k = http_has_token(buf, size, "keep-alive");
    (void)c;
    (void)k;
    ENSURE(http_reason(size > 0 ? (int)(signed char)buf[0] * 4 : 0) != NULL);
}

int fuzz_http(const uint8_t *data, size_t size)
{
    /* exactly size bytes, so any read past the end is caught */
    char *buf = malloc(size ? size : 1);

    if (buf == NULL)
        return 0;
    if (size > 0)
        memcpy(buf, data, size);
    fuzz_parser(buf, size);
    fuzz_helpers(buf, size);
    fuzz_chunked(buf, size);
    free(buf);
    return 0;
}

#ifdef FUZZ_MAIN
FUZZ_ENTRY(fuzz_http)
#endif
