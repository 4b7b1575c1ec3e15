/*
 * test_conf.c - the configuration file: fixtures to exact messages, the
 * listen parser, the key table, what a reload keeps, and the sample config.
 *
 * Fixtures live in $srcdir/tests/fixtures/conf ($srcdir defaults to "." so
 * the program also runs from the top of the source tree).  Files the test
 * writes go to a fresh directory under $TMPDIR (or /tmp), never srcdir,
 * which may be read-only (distcheck).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "conf.h"
#include "test.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static const char *srcdir = ".";
static char fixdir[PATH_MAX];
static char tmpdir[PATH_MAX];

static const char *fixture(const char *name)
{
    static char buf[PATH_MAX + 64];

    snprintf(buf, sizeof(buf), "%s/%s", fixdir, name);
    return buf;
}

/* Write text to tmpdir/name; returns the path (a static buffer). */
static const char *write_tmp(const char *name, const char *text)
{
    static char path[PATH_MAX + 64];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL)
        return path;
    fputs(text, f);
    CHECK(fclose(f) == 0);
    return path;
}

/* Read a whole file into a malloc'd string (NULL on failure). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *mem;
    int ch;

    if (f == NULL)
        return NULL;
    mem = open_memstream(&buf, &len);
    if (mem == NULL) {
        fclose(f);
        return NULL;
    }
    while ((ch = getc(f)) != EOF)
        putc(ch, mem);
    fclose(f);
    fclose(mem);
    return buf;
}

static bool conf_is_empty(const struct conf *c)
{
    static const struct conf zero;

    return memcmp(c, &zero, sizeof(zero)) == 0;
}

/* pool_size's default here: one per CPU this thread may run on, at least 2. */
static unsigned cpus_pool_size(void)
{
    cpu_set_t set;
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    return CPU_COUNT(&set) < 2 ? 2 : (unsigned)CPU_COUNT(&set);
}

static void check_listen(const struct conf_listen *l, const char *text, int family,
                         const char *addr, unsigned port)
{
    char buf[INET6_ADDRSTRLEN] = "";

    CHECK_STR(l->text, text);
    CHECK_INT(l->addr.ss_family, family);
    if (family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&l->addr;
        CHECK_INT(l->addr_len, sizeof(struct sockaddr_in));
        CHECK_INT(ntohs(sin->sin_port), port);
        inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&l->addr;
        CHECK_INT(l->addr_len, sizeof(struct sockaddr_in6));
        CHECK_INT(ntohs(sin6->sin6_port), port);
        inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    }
    CHECK_STR(buf, addr);
}

/* Every field but path, listen and document_root. */
static void check_same_settings(const struct conf *a, const struct conf *b)
{
    CHECK_STR(a->index, b->index);
    CHECK_STR(a->mime_types, b->mime_types);
    CHECK_STR(a->user, b->user);
    CHECK_STR(a->group, b->group);
    CHECK_INT(a->defer_accept, b->defer_accept);
    CHECK_INT(a->pool_size, b->pool_size);
    CHECK_INT(a->cpu_affinity, b->cpu_affinity);
    CHECK_INT(a->queue_size, b->queue_size);
    CHECK_INT(a->max_connections, b->max_connections);
    CHECK_INT(a->max_header_size, b->max_header_size);
    CHECK_INT(a->header_timeout, b->header_timeout);
    CHECK_INT(a->keepalive_timeout, b->keepalive_timeout);
    CHECK_INT(a->send_timeout, b->send_timeout);
    CHECK_INT(a->shutdown_timeout, b->shutdown_timeout);
    CHECK_INT(a->log_level, b->log_level);
    CHECK_INT(a->log_target, b->log_target);
    CHECK_INT(a->access_log, b->access_log);
}

/* ------------------------------------------------------------------ bad fixtures */

#define EXPECTED_ADDR "(expected ADDRESS:PORT, [IPv6]:PORT or PORT)"

static const struct {
    const char *file;
    const char *in;  /* the file the message names, if not `file` */
    const char *msg; /* after the file name */
} bad[] = {
    { "bad-unknown-key.conf", NULL, ":3: unknown key 'document_rot'" },
    { "bad-type-int.conf", NULL, ":3: 'pool_size' must be an integer or \"auto\"" },
    { "bad-pool-auto.conf", NULL, ":3: 'pool_size' must be an integer or \"auto\"" },
    { "bad-type-int-string.conf", NULL, ":4: 'queue_size' must be an integer" },
    { "bad-type-string.conf", NULL, ":3: 'index' must be a string" },
    { "bad-type-bool.conf", NULL, ":3: 'access_log' must be a boolean" },
    { "bad-type-group.conf", NULL, ":3: 'send_timeout' must be an integer" },
    { "bad-type-listen.conf", NULL, ":3: 'listen' must be a string or a list of strings" },
    { "bad-type-listen-elem.conf", NULL, ":4: 'listen' must be a string or a list of strings" },
    { "bad-range-low.conf", NULL, ":3: 'pool_size' must be between 1 and 1024" },
    { "bad-range-high.conf", NULL, ":3: 'max_header_size' must be between 1024 and 65536" },
    { "bad-range-int64.conf", NULL, ":3: 'max_connections' must be between 1 and 1000000" },
    { "bad-range-negative.conf", NULL, ":3: 'keepalive_timeout' must be between 0 and 3600" },
    { "bad-range-defer.conf", NULL, ":3: 'defer_accept' must be between 0 and 60" },
    { "bad-address.conf", NULL, ":4: 'listen': invalid address '1.2.3:80' " EXPECTED_ADDR },
    { "bad-address-host.conf", NULL,
      ":3: 'listen': invalid address 'localhost:8080' " EXPECTED_ADDR },
    { "bad-duplicate.conf", NULL, ":3: 'listen': duplicate address '127.0.0.1:8080'" },
    { "bad-duplicate-wildcard.conf", NULL, ":3: 'listen': duplicate address '0.0.0.0:80'" },
    { "bad-empty-listen.conf", NULL, ":3: 'listen' must not be empty" },
    { "bad-docroot-missing.conf", NULL,
      ":2: 'document_root' '/nonexistent-tinyhttpd': No such file or directory" },
    { "bad-docroot-notdir.conf", NULL, ":3: 'document_root' '/etc/passwd': Not a directory" },
    { "bad-log-level.conf", NULL,
      ":3: 'log_level' must be one of err, warning, notice, info, debug" },
    { "bad-log-target.conf", NULL, ":3: 'log_target' must be one of auto, stderr, journal" },
    { "bad-index.conf", NULL, ":3: 'index' must be a file name without '/'" },
    { "bad-index-dotdot.conf", NULL, ":3: 'index' must be a file name without '/'" },
    { "bad-index-long.conf", NULL, ":3: 'index' must be a file name of at most 255 bytes" },
    { "bad-user-empty.conf", NULL, ":3: 'user' must not be empty" },
    { "bad-syntax.conf", NULL, ":3: syntax error" },
    { "bad-syntax-duplicate-key.conf", NULL, ":4: duplicate setting name" },
    { "bad-missing-docroot.conf", NULL, ": missing required key 'document_root'" },
    { "bad-first-error.conf", NULL, ":3: 'max_connections' must be between 1 and 1000000" },
    { "bad-include-part.conf", "bad-part.inc", ":2: 'header_timeout' must be between 1 and 3600" },
    { "bad-include-syntax.conf", "include-part.inc", ":2: duplicate setting name" },
    { "bad-include-missing.conf", NULL, ":3: cannot open include file" },
    { "bad-include-dir.conf", NULL, ":4: cannot open include file '.': Is a directory" },
};

/* Load path expecting failure with exactly `want`; *c must come back empty. */
static void check_load_fails(const char *path, const char *want)
{
    struct conf c;
    char err[512];
    int rc;

    memset(&c, 0xa5, sizeof(c)); /* "need not be initialised" */
    memset(err, 'x', sizeof(err));
    rc = conf_load(&c, path, err, sizeof(err));
    CHECK_INT(rc, -1);
    CHECK_STR(err, want);
    CHECK(conf_is_empty(&c));
    conf_free(&c);
}

static void test_bad_fixtures(void)
{
    char want[PATH_MAX + 512];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[PATH_MAX + 64];

        snprintf(path, sizeof(path), "%s", fixture(bad[i].file));
        snprintf(want, sizeof(want), "%s%s", fixture(bad[i].in ? bad[i].in : bad[i].file),
                 bad[i].msg);
        check_load_fails(path, want);
    }
}

/* The tls_* keys: what -t says with OpenSSL, and without it (every tls_*
 * key refused), for the cases that need no certificate on disk.  The ones
 * that do (a key that does not match, an expired certificate, an unreadable
 * key) are in tests/integration/t_config.sh, which makes them with openssl. */
#define NOSSL "HTTPS is not available: tinyhttpd was built without OpenSSL"

static const struct {
    const char *file;
    const char *msg_ssl;   /* after the file name, built with OpenSSL */
    const char *msg_nossl; /* built without it */
} bad_tls[] = {
    { "bad-tls-protocols.conf",
      ":3: 'tls_protocols' must name TLSv1.2, TLSv1.3 or both (older protocols cannot be enabled): "
      "'TLSv1.1'",
      ":3: 'tls_protocols' must name TLSv1.2, TLSv1.3 or both (older protocols cannot be enabled): "
      "'TLSv1.1'" },
    { "bad-tls-hsts.conf", ":3: 'tls_hsts' must be between 0 and 157680000",
      ":3: 'tls_hsts' must be between 0 and 157680000" },
    { "bad-tls-nocert.conf",
      ":3: 'tls_listen': HTTPS needs tls_certificate and tls_certificate_key",
      ":3: 'tls_listen': " NOSSL },
    { "bad-tls-same-addr.conf", ":3: 'tls_listen': '127.0.0.1:8080' is in 'listen' too",
      ":3: 'tls_listen': " NOSSL },
    { "bad-tls-cert-missing.conf",
      ":3: 'tls_certificate': cannot open /nonexistent-tinyhttpd.pem: No such file or directory",
      ":3: 'tls_certificate': " NOSSL },
};

static void test_bad_tls_fixtures(void)
{
    char want[PATH_MAX + 512];
    size_t i;

    for (i = 0; i < sizeof(bad_tls) / sizeof(bad_tls[0]); i++) {
        char path[PATH_MAX + 64];

        snprintf(path, sizeof(path), "%s", fixture(bad_tls[i].file));
        snprintf(want, sizeof(want), "%s%s", path,
                 tls_available() ? bad_tls[i].msg_ssl : bad_tls[i].msg_nossl);
        check_load_fails(path, want);
    }
}

static void test_load_errors(void)
{
    struct conf c;
    char err[64], want[PATH_MAX + 128];
    const char *path;
    int rc;
    size_t i;

    /* Files that cannot be read: "FILE: strerror". */
    path = fixture("nonexistent.conf");
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    check_load_fails(path, want);
    snprintf(want, sizeof(want), "%s: Is a directory", fixdir);
    check_load_fails(fixdir, want);
    if (geteuid() != 0) {
        path = write_tmp("unreadable.conf", "document_root = \"/\";\n");
        CHECK(chmod(path, 0) == 0);
        snprintf(want, sizeof(want), "%s: Permission denied", path);
        check_load_fails(path, want);
    }

    /* More addresses than CONF_MAX_LISTEN; exactly that many is fine. */
    {
        char text[4096];
        size_t n = 0;

        for (i = 0; i < CONF_MAX_LISTEN; i++)
            n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\"%zu\"", i ? ", " : "", 8000 + i);
        snprintf(text + n, sizeof(text) - n, " ];\ndocument_root = \"/\";\n");
        {
            char full[4200];

            snprintf(full, sizeof(full), "# max\nlisten = [ %s", text);
            path = write_tmp("listen-max.conf", full);
            rc = conf_load(&c, path, err, sizeof(err));
            CHECK_INT(rc, 0);
            CHECK_INT(c.nlisten, CONF_MAX_LISTEN);
            CHECK_STR(c.listen[CONF_MAX_LISTEN - 1].text, "8031");
            conf_free(&c);

            snprintf(full, sizeof(full), "# too many\nlisten = [ \"9999\", %s", text);
            path = write_tmp("listen-too-many.conf", full);
            snprintf(want, sizeof(want), "%s:2: 'listen' must have at most 32 addresses", path);
            check_load_fails(path, want);
        }
    }

    /* index: NAME_MAX bytes is a file name, one more is not. */
    {
        char name[NAME_MAX + 2], text[NAME_MAX + 64];

        memset(name, 'i', NAME_MAX);
        name[NAME_MAX] = '\0';
        snprintf(text, sizeof(text), "document_root = \"/\";\nindex = \"%s\";\n", name);
        path = write_tmp("index-max.conf", text);
        CHECK_INT(conf_load(&c, path, err, sizeof(err)), 0);
        CHECK_INT(c.index != NULL ? strlen(c.index) : 0, NAME_MAX);
        conf_free(&c);
        strcat(name, "i");
        snprintf(text, sizeof(text), "document_root = \"/\";\nindex = \"%s\";\n", name);
        path = write_tmp("index-too-long.conf", text);
        snprintf(want, sizeof(want), "%s:2: 'index' must be a file name of at most %d bytes", path,
                 NAME_MAX);
        check_load_fails(path, want);
    }

    /* A short buffer gets a truncated, terminated message; none at all is fine. */
    path = fixture("bad-range-low.conf");
    snprintf(want, sizeof(want), "%s:3: 'pool_size' must be between 1 and 1024", path);
    memset(err, 'x', sizeof(err));
    CHECK_INT(conf_load(&c, path, err, 10), -1);
    CHECK_INT(strlen(err), 9);
    CHECK(strncmp(err, want, 9) == 0);
    CHECK_INT(conf_load(&c, path, NULL, 0), -1);
    CHECK(conf_is_empty(&c));

    /* A path without '/': names stay relative, includes resolve from the cwd. */
    {
        int here = open(".", O_RDONLY | O_DIRECTORY);

        CHECK(here >= 0);
        CHECK(chdir(fixdir) == 0);
        check_load_fails("bad-range-low.conf",
                         "bad-range-low.conf:3: 'pool_size' must be between 1 and 1024");
        check_load_fails("bad-include-part.conf",
                         "bad-part.inc:2: 'header_timeout' must be between 1 and 3600");
        CHECK(fchdir(here) == 0);
        close(here);
    }
}

/* ------------------------------------------------------------------ good fixtures */

static void test_good(void)
{
    struct conf c;
    char err[512] = "";
    const char *path = fixture("good.conf");

    memset(&c, 0x5a, sizeof(c));
    CHECK_INT(conf_load(&c, path, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_STR(c.path, path);
    CHECK_INT(c.nlisten, 4);
    check_listen(&c.listen[0], "127.0.0.1:8080", AF_INET, "127.0.0.1", 8080);
    check_listen(&c.listen[1], "[::1]:8080", AF_INET6, "::1", 8080);
    check_listen(&c.listen[2], "*:8081", AF_INET, "0.0.0.0", 8081);
    check_listen(&c.listen[3], "8082", AF_INET, "0.0.0.0", 8082);
    CHECK_STR(c.document_root, "/");
    CHECK_INT(c.defer_accept, 0);
    CHECK_INT(c.pool_size, 8);
    CHECK_INT(c.cpu_affinity, true);
    CHECK_INT(c.queue_size, 64);
    CHECK_INT(c.max_connections, 100);
    CHECK_INT(c.max_header_size, 4096);
    CHECK_INT(c.header_timeout, 5);
    CHECK_INT(c.keepalive_timeout, 0);
    CHECK_INT(c.send_timeout, 30);
    CHECK_INT(c.shutdown_timeout, 3600);
    CHECK_STR(c.index, "default.htm");
    CHECK_STR(c.mime_types, "");
    CHECK_INT(c.log_level, LOG_DEBUG);
    CHECK_INT(c.log_target, CONF_LOG_STDERR);
    CHECK_INT(c.access_log, false);
    CHECK_STR(c.user, "www-data");
    CHECK_STR(c.group, "www-data");
    conf_free(&c);
    CHECK(conf_is_empty(&c));
    conf_free(&c); /* twice is harmless */
}

/* pool_size's default follows the CPU affinity mask, and is never below 2. */
static void test_default_pool_size(void)
{
    cpu_set_t all, one;
    struct conf d;

    CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
    conf_defaults(&d);
    CHECK_INT(d.pool_size, cpus_pool_size());
    conf_free(&d);

    /* "auto" said out loud is the default. */
    char err[512] = "";
    CHECK_INT(conf_load(&d, write_tmp("auto.conf", "document_root = \"/\";\npool_size = \"auto\";\n"),
                        err, sizeof err),
              0);
    CHECK_STR(err, "");
    CHECK_INT(d.pool_size, cpus_pool_size());
    conf_free(&d);

    /* On one CPU of the mask: 2, not 1. */
    CPU_ZERO(&one);
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (CPU_ISSET(i, &all)) {
            CPU_SET(i, &one);
            break;
        }
    }
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
    conf_defaults(&d);
    CHECK_INT(d.pool_size, 2);
    conf_free(&d);
    CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
}

static void test_minimal_and_defaults(void)
{
    struct conf c, d;
    char err[512] = "";

    memset(&d, 0x5a, sizeof(d));
    conf_defaults(&d);
    CHECK(d.path == NULL);
    CHECK(d.document_root == NULL);
    CHECK_INT(d.nlisten, 1);
    check_listen(&d.listen[0], "0.0.0.0:80", AF_INET, "0.0.0.0", 80);
    CHECK_INT(d.defer_accept, 1);
    CHECK_INT(d.pool_size, cpus_pool_size());
    CHECK_INT(d.cpu_affinity, false);
    CHECK_INT(d.queue_size, 1024);
    CHECK_INT(d.max_connections, 16384);
    CHECK_INT(d.max_header_size, 8192);
    CHECK_INT(d.header_timeout, 10);
    CHECK_INT(d.keepalive_timeout, 15);
    CHECK_INT(d.send_timeout, 60);
    CHECK_INT(d.shutdown_timeout, 30);
    CHECK_STR(d.index, "index.html");
    CHECK_STR(d.mime_types, "/etc/mime.types");
    CHECK_INT(d.log_level, LOG_INFO);
    CHECK_INT(d.log_target, CONF_LOG_AUTO);
    CHECK_INT(d.access_log, true);
    CHECK_STR(d.user, "nobody");
    CHECK_STR(d.group, "nogroup");

    CHECK_INT(conf_load(&c, fixture("minimal.conf"), err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_STR(c.document_root, "/");
    CHECK_INT(c.nlisten, 1);
    check_listen(&c.listen[0], "0.0.0.0:80", AF_INET, "0.0.0.0", 80);
    check_same_settings(&c, &d);
    /* Loaded strings are the conf's own, not the table's. */
    CHECK(c.index != d.index && c.user != d.user);
    conf_free(&c);

    /* conf_free after conf_defaults alone, and after swapping in an own string. */
    d.user = strdup("someone");
    conf_free(&d);
    CHECK(conf_is_empty(&d));
    conf_defaults(&d);
    conf_free(&d);
}

static void test_other_good(void)
{
    struct conf c;
    char err[512] = "";

    CHECK_INT(conf_load(&c, fixture("listen-string.conf"), err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_INT(c.nlisten, 1);
    check_listen(&c.listen[0], "127.0.0.1:8080", AF_INET, "127.0.0.1", 8080);
    conf_free(&c);

    CHECK_INT(conf_load(&c, fixture("ipv6.conf"), err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_INT(c.nlisten, 4);
    check_listen(&c.listen[0], "[::1]:8080", AF_INET6, "::1", 8080);
    check_listen(&c.listen[1], "[::]:8080", AF_INET6, "::", 8080);
    check_listen(&c.listen[2], "[::ffff:127.0.0.1]:80", AF_INET6, "::ffff:127.0.0.1", 80);
    check_listen(&c.listen[3], "0.0.0.0:8080", AF_INET, "0.0.0.0", 8080);
    CHECK_STR(c.document_root, ".");
    CHECK_INT(c.pool_size, 16);
    conf_free(&c);

    CHECK_INT(conf_load(&c, fixture("include.conf"), err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_INT(c.pool_size, 2);
    CHECK_INT(c.access_log, false);
    conf_free(&c);
}

/* ------------------------------------------------------------------ conf_parse_listen */

static void test_parse_listen(void)
{
    static const struct {
        const char *text;
        int family; /* 0: invalid */
        const char *addr;
        unsigned port;
    } cases[] = {
        { "127.0.0.1:8080", AF_INET, "127.0.0.1", 8080 },
        { "0.0.0.0:80", AF_INET, "0.0.0.0", 80 },
        { "255.255.255.255:65535", AF_INET, "255.255.255.255", 65535 },
        { "*:80", AF_INET, "0.0.0.0", 80 },
        { "80", AF_INET, "0.0.0.0", 80 },
        { "1", AF_INET, "0.0.0.0", 1 },
        { "65535", AF_INET, "0.0.0.0", 65535 },
        { "00080", AF_INET, "0.0.0.0", 80 },
        { "[::1]:8080", AF_INET6, "::1", 8080 },
        { "[::]:1", AF_INET6, "::", 1 },
        { "[2001:db8::1]:443", AF_INET6, "2001:db8::1", 443 },
        { "[::ffff:1.2.3.4]:80", AF_INET6, "::ffff:1.2.3.4", 80 },
        { "", 0, NULL, 0 },
        { "0", 0, NULL, 0 },
        { "65536", 0, NULL, 0 },
        { "99999999999999999999", 0, NULL, 0 },
        { "1.2.3.4:0", 0, NULL, 0 },
        { "1.2.3.4:65536", 0, NULL, 0 },
        { "1.2.3.4", 0, NULL, 0 },
        { "1.2.3.4:", 0, NULL, 0 },
        { " 1.2.3.4:80", 0, NULL, 0 },
        { "1.2.3.4:80 ", 0, NULL, 0 },
        { "1.2.3.4: 80", 0, NULL, 0 },
        { "1.2.3:80", 0, NULL, 0 },
        { "1.2.3.4.5:80", 0, NULL, 0 },
        { "256.1.1.1:80", 0, NULL, 0 },
        { "1.2.3.4:80:80", 0, NULL, 0 },
        { "1.2.3.4:+80", 0, NULL, 0 },
        { "1.2.3.4:-1", 0, NULL, 0 },
        { "1.2.3.4:0x50", 0, NULL, 0 },
        { "localhost:80", 0, NULL, 0 },
        { ":80", 0, NULL, 0 },
        { "*", 0, NULL, 0 },
        { "*:", 0, NULL, 0 },
        { "*:0", 0, NULL, 0 },
        { "[::1]", 0, NULL, 0 },
        { "[::1]:", 0, NULL, 0 },
        { "[::1]80", 0, NULL, 0 },
        { "[::1]:80]", 0, NULL, 0 },
        { "[::1:80", 0, NULL, 0 },
        { "[]:80", 0, NULL, 0 },
        { "[*]:80", 0, NULL, 0 },
        { "[1.2.3.4]:80", 0, NULL, 0 },
        { "[fe80::1%eth0]:80", 0, NULL, 0 },
        { "::1:80", 0, NULL, 0 },
        { "::1", 0, NULL, 0 },
        { "::", 0, NULL, 0 },
        { "[::1]:65536", 0, NULL, 0 },
        /* 64 characters: one more than conf_listen.text holds */
        { "1.2.3.4:000000000000000000000000000000000000000000000000000000080", 0, NULL, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conf_listen l;
        int rc;

        memset(&l, 0x77, sizeof(l));
        rc = conf_parse_listen(cases[i].text, &l);
        if (cases[i].family == 0) {
            if (rc != -1)
                fprintf(stderr, "  (accepted \"%s\")\n", cases[i].text);
            CHECK_INT(rc, -EINVAL);
            CHECK(l.text[0] == 0x77); /* untouched on failure */
        } else {
            if (rc != 0)
                fprintf(stderr, "  (rejected \"%s\")\n", cases[i].text);
            CHECK_INT(rc, 0);
            if (rc == 0)
                check_listen(&l, cases[i].text, cases[i].family, cases[i].addr, cases[i].port);
        }
    }
    CHECK_INT(conf_parse_listen(NULL, &(struct conf_listen){ 0 }), -EINVAL);
}

/* ------------------------------------------------------------------ small functions */

static void test_log_level_parse(void)
{
    CHECK_INT(conf_log_level_parse("err"), LOG_ERR);
    CHECK_INT(conf_log_level_parse("error"), LOG_ERR);
    CHECK_INT(conf_log_level_parse("warning"), LOG_WARNING);
    CHECK_INT(conf_log_level_parse("warn"), LOG_WARNING);
    CHECK_INT(conf_log_level_parse("notice"), LOG_NOTICE);
    CHECK_INT(conf_log_level_parse("info"), LOG_INFO);
    CHECK_INT(conf_log_level_parse("debug"), LOG_DEBUG);
    CHECK_INT(conf_log_level_parse(""), -EINVAL);
    CHECK_INT(conf_log_level_parse("INFO"), -EINVAL);
    CHECK_INT(conf_log_level_parse("info "), -EINVAL);
    CHECK_INT(conf_log_level_parse("crit"), -EINVAL);
    CHECK_INT(conf_log_level_parse("emerg"), -EINVAL);
    CHECK_INT(conf_log_level_parse("verbose"), -EINVAL);
    CHECK_INT(conf_log_level_parse(NULL), -EINVAL);
}

static const struct {
    const char *name;
    bool reloadable;
} expected_keys[] = {
    { "listen", false },
    { "defer_accept", false },
    { "reuse_port", false },
    { "document_root", true },
    { "pool_size", false },
    { "cpu_affinity", false },
    { "queue_size", false },
    { "max_connections", false },
    { "max_header_size", false },
    { "header_timeout", true },
    { "keepalive_timeout", true },
    { "send_timeout", true },
    { "shutdown_timeout", true },
    { "shutdown_grace", true },
    { "index", true },
    { "directory_listing", true },
    { "max_ranges", true },
    { "mime_types", true },
    { "precompressed", true },
    { "headers", true },
    { "charset", true },
    { "log_level", true },
    { "log_target", false },
    { "access_log", true },
    { "metrics_listen", false },
    { "user", false },
    { "group", false },
    { "tls_listen", false },
    { "tls_certificate", true },
    { "tls_certificate_key", true },
    { "tls_protocols", true },
    { "tls_ciphers", true },
    { "tls_session_tickets", true },
    { "tls_redirect", true },
    { "tls_hsts", true },
};

#define NEXPECTED (sizeof(expected_keys) / sizeof(expected_keys[0]))

static void test_key_table(void)
{
    size_t n = conf_key_count(), i, j;

    CHECK_INT(n, NEXPECTED);
    for (i = 0; i < n; i++) {
        const char *name = conf_key_name(i);

        CHECK(name != NULL && name[0] != '\0');
        if (name == NULL)
            continue;
        for (j = i + 1; j < n; j++)
            CHECK(conf_key_name(j) == NULL || strcmp(name, conf_key_name(j)) != 0);
    }
    for (i = 0; i < NEXPECTED; i++) {
        bool found = false;

        for (j = 0; j < n; j++) {
            if (conf_key_name(j) != NULL && strcmp(conf_key_name(j), expected_keys[i].name) == 0) {
                found = true;
                if (conf_key_reloadable(j) != expected_keys[i].reloadable)
                    fprintf(stderr, "  (key %s)\n", expected_keys[i].name);
                CHECK_INT(conf_key_reloadable(j), expected_keys[i].reloadable);
            }
        }
        if (!found)
            fprintf(stderr, "  (missing key %s)\n", expected_keys[i].name);
        CHECK(found);
    }
    CHECK(conf_key_name(n) == NULL);
    CHECK(!conf_key_reloadable(n));
}

/* Load a fixture that must be good. */
static void load_good(struct conf *c, const char *name)
{
    char err[512] = "";

    CHECK_INT(conf_load(c, fixture(name), err, sizeof(err)), 0);
    CHECK_STR(err, "");
}

/* Put a malloc'd copy of text in *field (the conf owns it from then on). */
static void set_str(char **field, const char *text)
{
    free(*field);
    *field = strdup(text);
    CHECK(*field != NULL);
}

static void test_keep_restart(void)
{
    struct conf run, next, again;
    char buf[256];
    char *run_user, *next_user, *next_index;

    /* minimal.conf running, good.conf loaded: every restart-only key differs. */
    load_good(&run, "minimal.conf");
    load_good(&next, "good.conf");
    run_user = run.user;
    next_user = next.user;
    next_index = next.index;
    memset(buf, 'x', sizeof(buf));
    conf_keep_restart(&next, &run, buf, sizeof(buf));
    CHECK_STR(buf, "listen, defer_accept, pool_size, cpu_affinity, queue_size, "
                   "max_connections, max_header_size, log_target, user, group");
    /* next has the running values of those keys ... */
    CHECK_INT(next.nlisten, 1);
    check_listen(&next.listen[0], "0.0.0.0:80", AF_INET, "0.0.0.0", 80);
    CHECK_INT(next.defer_accept, 1);
    CHECK_INT(next.pool_size, cpus_pool_size());
    CHECK_INT(next.cpu_affinity, false);
    CHECK_INT(next.queue_size, 1024);
    CHECK_INT(next.max_connections, 16384);
    CHECK_INT(next.max_header_size, 8192);
    CHECK_INT(next.log_target, CONF_LOG_AUTO);
    CHECK_STR(next.user, "nobody");
    CHECK_STR(next.group, "nogroup");
    /* ... strings swapped, not shared ... */
    CHECK(next.user == run_user && run.user == next_user);
    CHECK_STR(run.user, "www-data");
    /* ... and its own values of the reloadable ones. */
    CHECK(next.index == next_index);
    CHECK_STR(next.index, "default.htm");
    CHECK_STR(next.mime_types, "");
    CHECK_INT(next.header_timeout, 5);
    CHECK_INT(next.keepalive_timeout, 0);
    CHECK_INT(next.send_timeout, 30);
    CHECK_INT(next.shutdown_timeout, 3600);
    CHECK_INT(next.log_level, LOG_DEBUG);
    CHECK_INT(next.access_log, false);
    CHECK_STR(run.index, "index.html");
    /* Nothing restart-only is left to differ from what ran (a fresh copy:
     * run holds next's strings now), whatever the table holds. */
    load_good(&again, "minimal.conf");
    conf_keep_restart(&next, &again, buf, sizeof(buf));
    CHECK_STR(buf, "");
    conf_free(&again);
    conf_free(&next);
    conf_free(&run);

    /* Reloadable changes are not named; the listen list compares by text. */
    load_good(&run, "minimal.conf");
    load_good(&next, "minimal.conf");
    next.keepalive_timeout = 0;
    next.log_level = LOG_DEBUG;
    next.access_log = false;
    set_str(&next.document_root, "/etc");
    set_str(&next.index, "x.html");
    conf_keep_restart(&next, &run, buf, sizeof(buf));
    CHECK_STR(buf, "");
    CHECK_STR(next.index, "x.html");
    next.pool_size = 5;
    CHECK(conf_parse_listen("127.0.0.1:80", &next.listen[0]) == 0);
    again = next; /* the fields as they were, strings shared */
    conf_keep_restart(&next, &run, buf, sizeof(buf));
    CHECK_STR(buf, "listen, pool_size");
    CHECK_INT(next.pool_size, cpus_pool_size());
    CHECK_STR(next.listen[0].text, "0.0.0.0:80");

    /* A short buffer holds only whole names, still terminated; none at all
     * still carries the values over. */
    next.pool_size = again.pool_size;
    next.listen[0] = again.listen[0];
    memset(buf, 'x', sizeof(buf));
    conf_keep_restart(&next, &run, buf, 12);
    CHECK_STR(buf, "listen");
    next.pool_size = again.pool_size;
    next.listen[0] = again.listen[0];
    memset(buf, 'x', sizeof(buf));
    conf_keep_restart(&next, &run, buf, 3);
    CHECK_STR(buf, "");
    next.pool_size = again.pool_size;
    buf[0] = 'x';
    conf_keep_restart(&next, &run, buf, 0);
    CHECK_INT(buf[0], 'x');
    CHECK_INT(next.pool_size, cpus_pool_size());
    conf_keep_restart(&next, &run, NULL, 0);
    conf_free(&next);
    conf_free(&run);

    /* The order of listen addresses counts; so does their number. */
    load_good(&run, "good.conf");
    load_good(&next, "good.conf");
    next.listen[0] = run.listen[1];
    next.listen[1] = run.listen[0];
    conf_keep_restart(&next, &run, buf, sizeof(buf));
    CHECK_STR(buf, "listen");
    CHECK_STR(next.listen[0].text, run.listen[0].text);
    next.nlisten = 3;
    conf_keep_restart(&next, &run, buf, sizeof(buf));
    CHECK_STR(buf, "listen");
    CHECK_INT(next.nlisten, 4);
    set_str(&next.user, "nobody");
    next.log_target = CONF_LOG_JOURNAL;
    conf_keep_restart(&next, &run, buf, sizeof(buf));
    CHECK_STR(buf, "log_target, user");
    CHECK_STR(next.user, "www-data");
    CHECK_STR(run.user, "nobody");
    CHECK_INT(next.log_target, CONF_LOG_STDERR);
    conf_free(&next);
    conf_free(&run);
}

/* ------------------------------------------------------------------ the sample config */

/* Is p (a line) "KEY = ..." for a key of the table?  Returns the key's index or -1. */
static int key_line(const char *p)
{
    size_t i;

    for (i = 0; i < conf_key_count(); i++) {
        size_t n = strlen(conf_key_name(i));

        if (strncmp(p, conf_key_name(i), n) == 0 && strncmp(p + n, " = ", 3) == 0)
            return (int)i;
    }
    return -1;
}

/* Copy text, replacing each line that starts with `prefix` by `line`, or
 * with line NULL, uncommenting each "# KEY = ..." line. */
static char *rewrite_lines(const char *text, const char *prefix, const char *line)
{
    char *out = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&out, &len);
    const char *p = text;

    if (mem == NULL)
        return NULL;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);

        if (line != NULL && strncmp(p, prefix, strlen(prefix)) == 0)
            fprintf(mem, "%s\n", line);
        else if (line == NULL && strncmp(p, "# ", 2) == 0 && key_line(p + 2) >= 0)
            fwrite(p + 2, 1, n - 2, mem);
        else
            fwrite(p, 1, n, mem);
        p += n;
    }
    fclose(mem);
    return out;
}

/* How many lines are "KEY = ..." or "# KEY = ...". */
static int count_key_lines(const char *text, const char *key)
{
    const char *p = text;
    int count = 0;

    while (p != NULL && *p != '\0') {
        const char *q = strncmp(p, "# ", 2) == 0 ? p + 2 : p;
        size_t n = strlen(key);

        if (strncmp(q, key, n) == 0 && strncmp(q + n, " = ", 3) == 0)
            count++;
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return count;
}

static void test_sample(void)
{
    char path[PATH_MAX + 64], err[512] = "", line[PATH_MAX + 64];
    struct conf c, u, d;
    char *text, *fixed, *all;
    size_t i;

    snprintf(path, sizeof(path), "%s/conf/tinyhttpd.conf", srcdir);
    text = slurp(path);
    CHECK(text != NULL);
    if (text == NULL)
        return;

    /* Every key is documented exactly once, as a setting or a default. */
    for (i = 0; i < conf_key_count(); i++) {
        int n = count_key_lines(text, conf_key_name(i));

        if (n != 1)
            fprintf(stderr, "  (key %s: %d lines in %s)\n", conf_key_name(i), n, path);
        CHECK_INT(n, 1);
    }
    /* The line `make install` rewrites, exactly as it expects it. */
    CHECK(strstr(text, "\ndocument_root = \"/usr/share/tinyhttpd/www\";\n") != NULL);

    /* As installed (document_root rewritten to an existing directory). */
    snprintf(line, sizeof(line), "document_root = \"%s\";", tmpdir);
    fixed = rewrite_lines(text, "document_root = ", line);
    CHECK(fixed != NULL);
    CHECK_INT(conf_load(&c, write_tmp("sample.conf", fixed), err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_INT(c.nlisten, 1);
    CHECK_STR(c.listen[0].text, "127.0.0.1:8080");
    CHECK_STR(c.document_root, tmpdir);

    /* The commented defaults are the table's: uncommenting them all
     * changes nothing. */
    all = rewrite_lines(fixed, NULL, NULL);
    CHECK(all != NULL && strstr(all, "\npool_size = \"auto\";\n") != NULL);
    CHECK_INT(conf_load(&u, write_tmp("sample-all.conf", all), err, sizeof(err)), 0);
    CHECK_STR(err, "");
    conf_defaults(&d);
    check_same_settings(&c, &d);
    check_same_settings(&u, &d);

    conf_free(&c);
    conf_free(&u);
    conf_free(&d);
    free(all);
    free(fixed);
    free(text);
}

/* ------------------------------------------------------------------ main */

static void remove_tmpdir(void)
{
    static const char *const names[] = {
        "unreadable.conf", "listen-max.conf", "listen-too-many.conf", "sample.conf",
        "sample-all.conf", "index-max.conf",  "index-too-long.conf", "auto.conf",
    };
    char path[PATH_MAX + 64];
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    CHECK(rmdir(tmpdir) == 0);
}

int main(void)
{
    const char *env = getenv("srcdir"), *tmp = getenv("TMPDIR");

    if (env != NULL && env[0] != '\0')
        srcdir = env;
    snprintf(fixdir, sizeof(fixdir), "%s/tests/fixtures/conf", srcdir);
    snprintf(tmpdir, sizeof(tmpdir), "%s/test_conf.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    test_parse_listen();
    test_log_level_parse();
    test_key_table();
    test_good();
    test_default_pool_size();
    test_minimal_and_defaults();
    test_other_good();
    test_bad_fixtures();
    test_bad_tls_fixtures();
    test_load_errors();
    test_keep_restart();
    test_sample();

    remove_tmpdir();
    return test_done();
}
