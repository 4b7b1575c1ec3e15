/*
 * test.h - the few assertions the C unit tests use.
 *
 * Each check prints "FAIL: file:line: ..." on failure and counts it; a test
 * program ends with `return test_done();`, which prints a summary and
 * returns 1 if anything failed (automake's harness reads the exit status).
 */
#ifndef TINYHTTPD_TEST_H
#define TINYHTTPD_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                          \
    do {                                                                     \
        test_checks++;                                                       \
        if (!(cond)) {                                                       \
            test_failures++;                                                 \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                    \
    } while (0)

#define CHECK_INT(got, want)                                                                  \
    do {                                                                                      \
        long long got_ = (long long)(got), want_ = (long long)(want);                         \
        test_checks++;                                                                        \
        if (got_ != want_) {                                                                  \
            test_failures++;                                                                  \
            fprintf(stderr, "FAIL: %s:%d: %s == %lld, want %lld\n", __FILE__, __LINE__, #got, \
                    got_, want_);                                                             \
        }                                                                                     \
    } while (0)

#define CHECK_STR(got, want)                                                                      \
    do {                                                                                          \
        const char *got_ = (got), *want_ = (want);                                                \
        test_checks++;                                                                            \
        if (got_ == NULL || want_ == NULL ? got_ != want_ : strcmp(got_, want_) != 0) {           \
            test_failures++;                                                                      \
            fprintf(stderr, "FAIL: %s:%d: %s == \"%s\", want \"%s\"\n", __FILE__, __LINE__, #got, \
                    got_ ? got_ : "(null)", want_ ? want_ : "(null)");                            \
        }                                                                                         \
    } while (0)

/* got[0..got_len) equals the C string want */
#define CHECK_MEM(got, got_len, want)                                                         \
    do {                                                                                      \
        const char *gotm_ = (const char *)(got), *wantm_ = (want);                            \
        size_t gotl_ = (got_len);                                                             \
        test_checks++;                                                                        \
        if (gotm_ == NULL || gotl_ != strlen(wantm_) || memcmp(gotm_, wantm_, gotl_)) {       \
            test_failures++;                                                                  \
            fprintf(stderr, "FAIL: %s:%d: %s == \"%.*s\", want \"%s\"\n", __FILE__, __LINE__, \
                    #got, gotm_ ? (int)gotl_ : 6, gotm_ ? gotm_ : "(null)", wantm_);          \
        }                                                                                     \
    } while (0)

static inline int test_done(void)
{
    fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures);
    return test_failures ? 1 : 0;
}

#endif
