/*
 * test_encoding.c - table tests for encoding.c (Accept-Encoding).
 *
 * Every case is {field value, the weights of br, zstd and gzip that encoding_weight
 * gives} with its __LINE__.  Each value is copied to a heap block of exactly its length,
 * so a read past len shows under ASan.
 */
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "test.h"

struct enc_case {
    int line;
    const char *value;
    int br, zstd, gzip;
};

#define E(v, b, z, g)        \
    {                        \
        __LINE__, v, b, z, g \
    }

static const struct enc_case cases[] = {
    E("gzip, deflate, br, zstd", 1000, 1000, 1000), /* what Chromium sends */
    E("gzip, deflate", 0, 0, 1000),
    E("br", 1000, 0, 0),
    E("BR, GZip", 1000, 0, 1000),  /* tokens are case-insensitive */
    E("x-gzip", 0, 0, 1000),       /* RFC 9110 8.4.1.3 */
    E("br;q=0, gzip", 0, 0, 1000), /* q=0: refused */
    E("br;q=0.000, gzip;q=0.001", 0, 0, 1),
    E("br;q=0.5, gzip;q=1.0", 500, 0, 1000),
    E("br;q=0.123", 123, 0, 0),
    E("br;Q=0.7", 700, 0, 0),                        /* "q" is case-insensitive too */
    E("br ; q=0.5 ,\tgzip\t;\tq=0.25", 500, 0, 250), /* OWS everywhere it may be */
    E("br;q=1.000", 1000, 0, 0),
    E("br;q=1.001", 0, 0, 0),  /* over 1: not a qvalue, refused */
    E("br;q=0.1234", 0, 0, 0), /* four decimals */
    E("br;q=2", 0, 0, 0),
    E("br;q=", 0, 0, 0),
    E("br;q=.5", 0, 0, 0),
    E("br;q=0.5x", 0, 0, 0),
    E("br;level=5", 0, 0, 0), /* not a weight */
    E("br;q=0.5;x=1", 0, 0, 0),
    E("br q=0.5", 0, 0, 0), /* no semicolon */
    E("*", 1000, 1000, 1000),
    E("*;q=0", 0, 0, 0),
    E("br;q=0, *", 0, 1000, 1000), /* the named coding wins over "*" */
    E("*, br;q=0", 0, 1000, 1000), /* whatever the order */
    E("*;q=0.5, gzip", 500, 500, 1000),
    E("identity;q=0", 0, 0, 0), /* nothing else listed: nothing acceptable */
    E("identity", 0, 0, 0),
    E("", 0, 0, 0),
    E(" , ,gzip,, ", 0, 0, 1000), /* empty elements are skipped */
    E("gzip, gzip;q=0", 0, 0, 0), /* listed twice: the lower weight */
    E("gzip;q=0, gzip", 0, 0, 0),
    E("brotli, gz, zst", 0, 0, 0), /* not the names of any coding */
    E("br\x01, gzip", 0, 0, 1000), /* garbage after a token: that element only */
    E("deflate, compress", 0, 0, 0),
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct enc_case *c = &cases[i];
        size_t len = strlen(c->value);
        char *v = malloc(len + 1);
        struct encoding_accept a;

        if (v == NULL)
            abort();
        memcpy(v, c->value, len);
        encoding_accept_init(&a);
        encoding_accept_parse(&a, v, len);
        int br = encoding_weight(&a, ENCODING_BR), zstd = encoding_weight(&a, ENCODING_ZSTD),
            gzip = encoding_weight(&a, ENCODING_GZIP);
        if (br != c->br || zstd != c->zstd || gzip != c->gzip)
            fprintf(stderr, "case at line %d: \"%s\": br %d zstd %d gzip %d\n", c->line, c->value,
                    br, zstd, gzip);
        CHECK_INT(br, c->br);
        CHECK_INT(zstd, c->zstd);
        CHECK_INT(gzip, c->gzip);
        free(v);
    }
}

static void test_fields(void)
{
    struct encoding_accept a;

    /* No field at all: the identity file. */
    encoding_accept_init(&a);
    CHECK_INT(encoding_weight(&a, ENCODING_BR), 0);
    CHECK_INT(encoding_weight(&a, ENCODING_GZIP), 0);

    /* Two fields are one list. */
    encoding_accept_init(&a);
    encoding_accept_parse(&a, "br;q=0", 6);
    encoding_accept_parse(&a, "*", 1);
    CHECK_INT(encoding_weight(&a, ENCODING_BR), 0);
    CHECK_INT(encoding_weight(&a, ENCODING_GZIP), 1000);

    /* identity is recorded. */
    encoding_accept_init(&a);
    encoding_accept_parse(&a, "identity;q=0, gzip", 18);
    CHECK_INT(a.identity, 0);
    CHECK_INT(encoding_weight(&a, ENCODING_GZIP), 1000);

    /* Only len bytes are read. */
    encoding_accept_init(&a);
    encoding_accept_parse(&a, "gzip, br", 4);
    CHECK_INT(encoding_weight(&a, ENCODING_GZIP), 1000);
    CHECK_INT(encoding_weight(&a, ENCODING_BR), 0);

    CHECK_STR(encoding_name(ENCODING_ZSTD), "zstd");
    CHECK_STR(encoding_suffix(ENCODING_ZSTD), ".zst");
    CHECK_STR(encoding_suffix(ENCODING_BR), ".br");
    CHECK_STR(encoding_suffix(ENCODING_GZIP), ".gz");
}

int main(void)
{
    test_table();
    test_fields();
    return test_done();
}
