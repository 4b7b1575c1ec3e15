/*
 * test_headers.c - unit tests for headers.c: the checks of configured
 * fields, the match by prefix and extension, the order and replacement of
 * fields, and which media types take a charset.
 */
#include <stdlib.h>
#include <string.h>

#include "headers.h"
#include "test.h"

static int add(struct headers *h, const char *text)
{
    const char *why = NULL;
    int r = headers_add_field(h, text, &why);
    CHECK(r == 0 || why != NULL);
    return r;
}

static void test_fields(void)
{
    struct headers *h = headers_new();
    const char *why;

    CHECK(h != NULL);
    CHECK_INT(headers_add_field(h, "X-A: b", &why), -1); /* no rule yet */
    CHECK_INT(headers_add_rule(h, NULL, NULL, false, &why), 0);
    CHECK_INT(add(h, "X-Content-Type-Options: nosniff"), 0);
    CHECK_INT(add(h, "Content-Security-Policy:   default-src 'self'  "), 0);
    CHECK_INT(add(h, "X-Tab:\tv\tw"), 0);
    CHECK_INT(add(h, "X-Bad: a\r\nInjected: yes"), -1);
    CHECK_INT(add(h, "X-Bad: a\nb"), -1);
    CHECK_INT(add(h, "X-Bad: a\rb"), -1);
    CHECK_INT(add(h, "X-Bad: a\x7f"), -1);
    CHECK_INT(add(h, "X Bad: a"), -1);  /* a space in the name */
    CHECK_INT(add(h, "X-Bad : a"), -1); /* before the colon */
    CHECK_INT(add(h, ": a"), -1);
    CHECK_INT(add(h, "X-Bad"), -1);
    CHECK_INT(add(h, "X-Bad:"), -1); /* empty value */
    CHECK_INT(add(h, "X-Bad:   "), -1);
    CHECK_INT(add(h, "X-B\xc3\xa4"
                     "d: a"),
              -1);
    CHECK_INT(add(h, "X-Utf8: caf\xc3\xa9"), 0); /* obs-text is allowed in values */
    static const char *const owned[] = { "Content-Length",
                                         "content-range",
                                         "DATE",
                                         "ETag",
                                         "Connection",
                                         "Transfer-Encoding",
                                         "Content-Encoding",
                                         "Vary",
                                         "Last-Modified",
                                         "Content-Type",
                                         "Server",
                                         "Strict-Transport-Security" };
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s: x", owned[i]);
        CHECK_INT(add(h, buf), -1);
        CHECK(headers_owned(owned[i], strlen(owned[i])));
    }
    CHECK(!headers_owned("Cache-Control", 13));

    char out[HEADERS_MAX_BYTES];
    size_t n = headers_write(h, 1, out);
    CHECK_MEM(out, n,
              "X-Content-Type-Options: nosniff\r\nContent-Security-Policy: default-src 'self'\r\n"
              "X-Tab: v\tw\r\nX-Utf8: caf\xc3\xa9\r\n");
    CHECK_INT(headers_size(h), n);
    headers_unref(h);
}

static void test_rules(void)
{
    struct headers *h = headers_new();
    const char *why;
    char out[HEADERS_MAX_BYTES];

    CHECK_INT(headers_add_rule(h, "assets/", NULL, false, &why), -1); /* no leading '/' */
    CHECK_INT(headers_add_rule(h, "/a b/", NULL, false, &why), -1);
    CHECK_INT(headers_add_rule(h, NULL, ".woff2", false, &why), -1); /* leading dot */
    CHECK_INT(headers_add_rule(h, NULL, "a/b", false, &why), -1);

    /* 0: everything (and errors); 1: /assets/; 2: *.woff2; 3: /assets/ and *.css */
    CHECK_INT(headers_add_rule(h, "", "", true, &why), 0);
    CHECK_INT(add(h, "X-Content-Type-Options: nosniff"), 0);
    CHECK_INT(add(h, "Cache-Control: no-cache"), 0);
    CHECK_INT(headers_add_rule(h, "/assets/", NULL, false, &why), 0);
    CHECK_INT(add(h, "Cache-Control: public, max-age=31536000, immutable"), 0);
    CHECK_INT(headers_add_rule(h, NULL, "WOFF2", false, &why), 0);
    CHECK_INT(add(h, "Access-Control-Allow-Origin: *"), 0);
    CHECK_INT(headers_add_rule(h, "/assets/", "css", false, &why), 0);
    CHECK_INT(add(h, "cache-control: max-age=60"), 0);
    CHECK_INT(add(h, "Link: <a>"), 0);
    CHECK_INT(add(h, "Link: <b>"), 0); /* a name may repeat within a rule */

#define M(path, file, err) headers_match(h, path, strlen(path), file, strlen(file), err)
    CHECK_INT(M("/index.html", "/index.html", false), 0x1);
    CHECK_INT(M("/assets/app.js", "/assets/app.js", false), 0x3);
    CHECK_INT(M("/assets", "/assets", false), 0x1);
    CHECK_INT(M("/assets/f.woff2", "/assets/f.woff2", false), 0x7);
    CHECK_INT(M("/f.WOFF2", "/f.WOFF2", false), 0x5);
    CHECK_INT(M("/woff2", "/woff2", false), 0x1);
    CHECK_INT(M("/x.woff2/", "/x.woff2/index.html", false), 0x1);
    CHECK_INT(M("/assets/s.css", "/assets/s.css", false), 0xb);
    CHECK_INT(M("/s.css", "/s.css", false), 0x1);
    CHECK_INT(M("/assets/nothere", "/assets/nothere", true), 0x1); /* errors: rule 0 only */
    CHECK_INT(headers_match(h, NULL, 0, NULL, 0, true), 0x1);
    CHECK_INT(headers_match(h, NULL, 0, NULL, 0, false), 0x1);
    CHECK_INT(headers_match(NULL, "/", 1, "/", 1, false), 0);

    /* A later rule replaces an earlier rule's field of the same name. */
    size_t n = headers_write(h, 0x1, out);
    CHECK_MEM(out, n, "X-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\n");
    n = headers_write(h, 0x3, out);
    CHECK_MEM(out, n,
              "X-Content-Type-Options: nosniff\r\n"
              "Cache-Control: public, max-age=31536000, immutable\r\n");
    n = headers_write(h, 0xb, out);
    CHECK_MEM(out, n,
              "X-Content-Type-Options: nosniff\r\ncache-control: max-age=60\r\nLink: <a>\r\n"
              "Link: <b>\r\n");
    n = headers_write(h, 0x5, out);
    CHECK_MEM(out, n,
              "X-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\n"
              "Access-Control-Allow-Origin: *\r\n");
    CHECK_INT(headers_write(h, 0, out), 0);

    /* equality */
    struct headers *g = headers_new();
    CHECK(!headers_equal(h, g));
    CHECK(headers_equal(g, NULL));
    CHECK(headers_equal(NULL, NULL));
    CHECK(headers_equal(h, h));
    headers_unref(g);
    headers_unref(h);
}

static void test_limits(void)
{
    struct headers *h = headers_new();
    const char *why;
    char big[HEADERS_MAX_BYTES + 16];

    for (int i = 0; i < HEADERS_MAX_RULES; i++)
        CHECK_INT(headers_add_rule(h, NULL, NULL, false, &why), 0);
    CHECK_INT(headers_add_rule(h, NULL, NULL, false, &why), -1);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "X-Big: ", 7);
    CHECK_INT(add(h, big), -1);
    big[HEADERS_MAX_BYTES - 2] = '\0'; /* with ": " folded and CRLF: exactly the limit */
    CHECK_INT(add(h, big), 0);
    CHECK_INT(headers_size(h), HEADERS_MAX_BYTES);
    CHECK_INT(add(h, "X-A: b"), -1);
    headers_unref(h);
}

static void test_charset(void)
{
    CHECK(headers_charset_applies("text/html"));
    CHECK(headers_charset_applies("text/plain"));
    CHECK(headers_charset_applies("TEXT/CSS"));
    CHECK(headers_charset_applies("application/javascript"));
    CHECK(headers_charset_applies("application/json"));
    CHECK(headers_charset_applies("application/manifest+json"));
    CHECK(headers_charset_applies("image/svg+xml"));
    CHECK(headers_charset_applies("application/xml"));
    CHECK(!headers_charset_applies("text/html; charset=iso-8859-1"));
    CHECK(!headers_charset_applies("image/png"));
    CHECK(!headers_charset_applies("application/octet-stream"));
    CHECK(!headers_charset_applies("font/woff2"));
    CHECK(!headers_charset_applies("application/gzip"));
    CHECK(!headers_charset_applies(NULL));
}

int main(void)
{
    test_fields();
    test_rules();
    test_limits();
    test_charset();
    return test_done();
}
