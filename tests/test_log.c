/*
 * test_log.c - escaping of client bytes, and the text formats of the
 * diagnostic and access lines (stderr is redirected to a temporary file).
 */
#include "config.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "test.h"

#define ESC(in, inlen, outsz, want)                           \
    do {                                                      \
        char out_[512];                                       \
        size_t n_ = log_escape(out_, (outsz), (in), (inlen)); \
        CHECK_STR(out_, (want));                              \
        CHECK_INT(n_, strlen(want));                          \
    } while (0)

static void test_escape(void)
{
    ESC("GET", 3, 64, "GET");
    ESC("a\"b", 3, 64, "a\\x22b");
    ESC("a\\b", 3, 64, "a\\x5cb");
    ESC("\x01\x7f\xff", 3, 64, "\\x01\\x7f\\xff");
    ESC("a\r\nb", 4, 64, "a\\x0d\\x0ab");
    ESC("a\0b", 3, 64, "a\\x00b");
    ESC("/caf\xc3\xa9", 6, 64, "/caf\\xc3\\xa9");
    /* truncation never cuts an escape in half, and always terminates */
    ESC("abcdef", 6, 4, "abc");
    ESC("\x01\x02", 2, 6, "\\x01");
    ESC("\x01\x02", 2, 4, "");
    ESC("", 0, 1, "");
}

/* Run fn with stderr captured; returns the captured text (static buffer). */
static const char *capture(void (*fn)(void))
{
    static char buf[8192];
    char path[] = "/tmp/test_log.XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDERR_FILENO);

    CHECK(fd >= 0 && saved >= 0);
    unlink(path);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static bool matches(const char *text, const char *ere)
{
    regex_t re;
    CHECK(regcomp(&re, ere, REG_EXTENDED | REG_NEWLINE) == 0);
    bool ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    if (!ok)
        fprintf(stderr, "  text: %s  regex: %s\n", text, ere);
    return ok;
}

static void emit_levels(void)
{
    log_setup(LOG_BACKEND_STDERR, LOG_NOTICE);
    log_err("disk %s", "gone");
    log_warn("careful");
    log_notice("note");
    log_info("not shown at notice");
    log_debug("not shown either");
    log_set_level(LOG_DEBUG);
    log_debug("now shown");
}

static void emit_access(void)
{
    static const char target[] = "/a b\"c";
    static const char agent[] = "curl/8\x01";
    struct log_access a = {
        .peer = "127.0.0.1",
        .method = "GET",
        .method_len = 3,
        .target = target,
        .target_len = sizeof target - 1,
        .minor_version = 1,
        .status = 404,
        .bytes = 153,
        .duration_usec = 42,
        .referer = NULL,
        .user_agent = agent,
        .user_agent_len = sizeof agent - 1,
    };
    log_setup(LOG_BACKEND_STDERR, LOG_INFO);
    log_access(&a);
    a.method_len = 0;
    a.target = NULL;
    a.target_len = 0;
    a.minor_version = -1;
    a.status = 408;
    a.bytes = 0;
    log_access(&a);
}

int main(void)
{
    test_escape();

    const char *t = capture(emit_levels);
    CHECK(
        matches(t, "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \\[err\\] disk gone$"));
    CHECK(matches(t, "\\[warning\\] careful$"));
    CHECK(matches(t, "\\[notice\\] note$"));
    CHECK(strstr(t, "not shown") == NULL);
    CHECK(matches(t, "\\[debug\\] now shown$"));

    t = capture(emit_access);
    /* combined log format, then the duration in microseconds */
    CHECK(matches(t, "^127\\.0\\.0\\.1 - - \\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:"
                     "[0-9]{2} \\+0000\\] \"GET /a b\\\\x22c HTTP/1\\.1\" 404 153 \"-\" "
                     "\"curl/8\\\\x01\" 42$"));
    CHECK(matches(t, "\\] \"-\" 408 0 \"-\" \"curl/8\\\\x01\" 42$"));
    return test_done();
}
