/*
 * test_mime.c - tests for mime.c: the built-in table, lookups, and loading a mime.types.
 *
 * The built-in table's bsearch precondition (sorted, no duplicates) is tested through
 * behaviour: every built-in extension below must be found, both through mime_new(NULL) and
 * through the bare built-in table (mime_lookup(NULL, ...)), and the counts must match this
 * list exactly.  mime_new() also checks the order itself and aborts on a violation, which
 * fails this program.  Fixture files are written to mkstemp() files under /tmp.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mime.h"
#include "test.h"

#define LOOKUP(m, name) mime_lookup((m), (name), strlen(name))

struct ext_type {
    const char *ext;
    const char *type;
};

/* Every built-in entry: a change to the built-in table must show up here. */
static const struct ext_type builtins[] = {
    { "7z", "application/x-7z-compressed" },
    { "aac", "audio/aac" },
    { "apng", "image/apng" },
    { "appcache", "text/cache-manifest" },
    { "atom", "application/atom+xml" },
    { "avi", "video/x-msvideo" },
    { "avif", "image/avif" },
    { "bmp", "image/bmp" },
    { "bz2", "application/x-bzip2" },
    { "css", "text/css" },
    { "csv", "text/csv" },
    { "eot", "application/vnd.ms-fontobject" },
    { "epub", "application/epub+zip" },
    { "flac", "audio/flac" },
    { "gif", "image/gif" },
    { "gz", "application/gzip" },
    { "heic", "image/heic" },
    { "htm", "text/html" },
    { "html", "text/html" },
    { "ico", "image/vnd.microsoft.icon" },
    { "ics", "text/calendar" },
    { "jpeg", "image/jpeg" },
    { "jpg", "image/jpeg" },
    { "js", "text/javascript" },
    { "json", "application/json" },
    { "jsonld", "application/ld+json" },
    { "jxl", "image/jxl" },
    { "m4a", "audio/mp4" },
    { "manifest", "text/cache-manifest" },
    { "map", "application/json" },
    { "md", "text/markdown" },
    { "mjs", "text/javascript" },
    { "mov", "video/quicktime" },
    { "mp3", "audio/mpeg" },
    { "mp4", "video/mp4" },
    { "mpeg", "video/mpeg" },
    { "mpg", "video/mpeg" },
    { "oga", "audio/ogg" },
    { "ogg", "audio/ogg" },
    { "ogv", "video/ogg" },
    { "opus", "audio/ogg" },
    { "otf", "font/otf" },
    { "pdf", "application/pdf" },
    { "png", "image/png" },
    { "rss", "application/rss+xml" },
    { "rtf", "application/rtf" },
    { "svg", "image/svg+xml" },
    { "tar", "application/x-tar" },
    { "tif", "image/tiff" },
    { "tiff", "image/tiff" },
    { "toml", "application/toml" },
    { "ttf", "font/ttf" },
    { "txt", "text/plain" },
    { "vcf", "text/vcard" },
    { "wasm", "application/wasm" },
    { "wav", "audio/wav" },
    { "webm", "video/webm" },
    { "webmanifest", "application/manifest+json" },
    { "webp", "image/webp" },
    { "woff", "font/woff" },
    { "woff2", "font/woff2" },
    { "xhtml", "application/xhtml+xml" },
    { "xml", "application/xml" },
    { "xz", "application/x-xz" },
    { "yaml", "application/yaml" },
    { "yml", "application/yaml" },
    { "zip", "application/zip" },
    { "zst", "application/zstd" },
};

#define NBUILTIN (sizeof(builtins) / sizeof(builtins[0]))

static void test_builtin(void)
{
    int fe = -1;
    struct mime *m = mime_new(NULL, &fe);
    char name[64], upper[64];

    CHECK(m != NULL);
    if (m == NULL)
        return;
    CHECK_INT(fe, 0);
    CHECK_INT(mime_count(m), NBUILTIN);
    CHECK_INT(mime_count(NULL), NBUILTIN);
    for (size_t i = 0; i < NBUILTIN; i++) {
        snprintf(name, sizeof(name), "/dir/file.%s", builtins[i].ext);
        for (size_t k = 0; k == 0 || name[k - 1] != '\0'; k++)
            upper[k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 32 : name[k]);
        CHECK_STR(LOOKUP(m, name), builtins[i].type);
        CHECK_STR(LOOKUP(NULL, name), builtins[i].type);
        CHECK_STR(LOOKUP(m, upper), builtins[i].type);
        /* the list above is sorted too, so it cannot hide a duplicate */
        if (i > 0)
            CHECK(strcmp(builtins[i - 1].ext, builtins[i].ext) < 0);
    }
    mime_free(m);

    m = mime_new(NULL, NULL);
    CHECK(m != NULL);
    mime_free(m);
    mime_free(NULL);
}

static void test_lookup(void)
{
    struct mime *m = mime_new(NULL, NULL);

    CHECK(m != NULL);
    if (m == NULL)
        return;
    CHECK_STR(LOOKUP(m, "index.html"), "text/html");
    CHECK_STR(LOOKUP(m, "/index.html"), "text/html");
    CHECK_STR(LOOKUP(m, "INDEX.HTML"), "text/html");
    CHECK_STR(LOOKUP(m, "a.HtMl"), "text/html");
    CHECK_STR(LOOKUP(m, "/dir/style.css"), "text/css");
    CHECK_STR(LOOKUP(m, "/a/b/c/logo.PNG"), "image/png");
    CHECK_STR(LOOKUP(m, "app.js"), "text/javascript");
    CHECK_STR(LOOKUP(m, "README.md"), "text/markdown");
    CHECK_STR(LOOKUP(m, "x.wasm"), "application/wasm");
    CHECK_STR(LOOKUP(m, "archive.tar.gz"), "application/gzip");
    CHECK_STR(LOOKUP(m, "a.b.c.txt"), "text/plain");
    CHECK_STR(LOOKUP(m, "/a/.hidden.txt"), "text/plain");
    CHECK_STR(LOOKUP(m, "..txt"), "text/plain");

    /* no extension */
    CHECK_STR(LOOKUP(m, ""), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "/"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "README"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "/dir/"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "file."), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "."), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, ".."), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "/a/.."), MIME_DEFAULT_TYPE);

    /* a dotfile's name is not an extension */
    CHECK_STR(LOOKUP(m, ".html"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "/a/.css"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, ".bashrc"), MIME_DEFAULT_TYPE);

    /* dots in directories do not count */
    CHECK_STR(LOOKUP(m, "/dir.html/file"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "/a.b/c.d/e"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "/site.css/"), MIME_DEFAULT_TYPE);

    /* unknown extensions and near misses of known ones */
    CHECK_STR(LOOKUP(m, "a.unknownext"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.h"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.htmlx"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.0"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.~"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.\xc3\xa9"), MIME_DEFAULT_TYPE);
    CHECK_STR(mime_lookup(m, "a.ht\0ml", 7), MIME_DEFAULT_TYPE);
    CHECK_STR(mime_lookup(m, "a.html\0", 7), MIME_DEFAULT_TYPE);

    /* len is honoured */
    CHECK_STR(mime_lookup(m, "a.html.png", 6), "text/html");
    CHECK_STR(mime_lookup(m, "a.htmlx", 6), "text/html");
    CHECK_STR(mime_lookup(m, "a.css/b", 5), "text/css");
    CHECK_STR(mime_lookup(m, "a.css", 0), MIME_DEFAULT_TYPE);
    CHECK_STR(mime_lookup(m, NULL, 0), MIME_DEFAULT_TYPE);
    mime_free(m);
}

/* Write len bytes to a new temporary file; returns its malloc'd name or NULL. */
static char *write_fixture(const char *text, size_t len)
{
    char *name = strdup("/tmp/test_mime.XXXXXX");
    int fd;

    if (name == NULL)
        return NULL;
    fd = mkstemp(name);
    if (fd < 0) {
        perror("mkstemp");
        free(name);
        return NULL;
    }
    if (write(fd, text, len) != (ssize_t)len) {
        perror("write");
        close(fd);
        unlink(name);
        free(name);
        return NULL;
    }
    close(fd);
    return name;
}

static const char fixture[] = "# a comment line: text/x-comment commented\n"
                              "   # an indented comment\n"
                              "\n"
                              "   \t\n"
                              "text/x-custom   foo  BAR\tbaz # trailing comment with ext2\n"
                              "application/x-override html\n"
                              "text/plain\tmd\n"
                              "image/x-new png# a comment right after a token\n"
                              "bad-type-no-slash qqq\n"
                              "text/ empty-subtype\n"
                              "/x no-type\n"
                              "text/x;y semicolon\n"
                              "text/x-later foo\n"
                              "text/x-only-type\n"
                              "application/x-dots tar.gz good.ext sl/ash\n"
                              "Text/X-Case UPPERONLY\n"
                              "text/x-nul nul\0byte okafternul\n"
                              "text/x-crlf crlf\r\n"
                              "  text/x-indented indented  \n"
                              "text/x-noeol lastext";

static void test_file(void)
{
    char *name = write_fixture(fixture, sizeof(fixture) - 1);
    struct mime *m;
    int fe = -1;

    CHECK(name != NULL);
    if (name == NULL)
        return;
    m = mime_new(name, &fe);
    unlink(name);
    free(name);
    CHECK(m != NULL);
    if (m == NULL)
        return;
    CHECK_INT(fe, 0);

    /* new extensions, lowercased; a later line wins over an earlier one */
    CHECK_STR(LOOKUP(m, "a.foo"), "text/x-later");
    CHECK_STR(LOOKUP(m, "a.bar"), "text/x-custom");
    CHECK_STR(LOOKUP(m, "a.BAR"), "text/x-custom");
    CHECK_STR(LOOKUP(m, "a.Baz"), "text/x-custom");
    CHECK_STR(LOOKUP(m, "a.upperonly"), "Text/X-Case");
    CHECK_STR(LOOKUP(m, "a.okafternul"), "text/x-nul");
    CHECK_STR(LOOKUP(m, "a.crlf"), "text/x-crlf");
    CHECK_STR(LOOKUP(m, "a.indented"), "text/x-indented");
    CHECK_STR(LOOKUP(m, "a.lastext"), "text/x-noeol");

    /* the file overrides built-ins; other built-ins stay */
    CHECK_STR(LOOKUP(m, "a.html"), "application/x-override");
    CHECK_STR(LOOKUP(m, "a.md"), "text/plain");
    CHECK_STR(LOOKUP(m, "a.png"), "image/x-new");
    CHECK_STR(LOOKUP(m, "a.htm"), "text/html");
    CHECK_STR(LOOKUP(m, "a.css"), "text/css");
    CHECK_STR(LOOKUP(m, "a.tar.gz"), "application/gzip");

    /* comments, bad types and bad extensions add nothing */
    CHECK_STR(LOOKUP(m, "a.commented"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.comment"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.ext2"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.qqq"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.empty-subtype"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.no-type"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.semicolon"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.ext"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.nul"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.byte"), MIME_DEFAULT_TYPE);
    CHECK_STR(LOOKUP(m, "a.x-only-type"), MIME_DEFAULT_TYPE);

    /* foo bar baz upperonly okafternul crlf indented lastext are new */
    CHECK_INT(mime_count(m), NBUILTIN + 8);
    mime_free(m);

    /* an empty file, or one of blanks only, is read and adds nothing */
    name = write_fixture("", 0);
    CHECK(name != NULL);
    if (name != NULL) {
        m = mime_new(name, &fe);
        unlink(name);
        free(name);
        CHECK(m != NULL);
        CHECK_INT(fe, 0);
        CHECK_INT(mime_count(m), NBUILTIN);
        mime_free(m);
    }
    name = write_fixture(" \t\n\r\n  ", 8);
    CHECK(name != NULL);
    if (name != NULL) {
        m = mime_new(name, &fe);
        unlink(name);
        free(name);
        CHECK(m != NULL);
        CHECK_INT(fe, 0);
        CHECK_INT(mime_count(m), NBUILTIN);
        mime_free(m);
    }
}

static void test_unreadable(void)
{
    struct mime *m;
    int fe = 0;

    m = mime_new("/nonexistent-dir/mime.types", &fe);
    CHECK(m != NULL);
    CHECK_INT(fe, ENOENT);
    CHECK_INT(mime_count(m), NBUILTIN);
    CHECK_STR(LOOKUP(m, "a.html"), "text/html");
    CHECK_STR(LOOKUP(m, "a.zzz"), MIME_DEFAULT_TYPE);
    mime_free(m);

    m = mime_new("/", &fe);
    CHECK(m != NULL);
    CHECK_INT(fe, EISDIR);
    CHECK_STR(LOOKUP(m, "a.css"), "text/css");
    mime_free(m);

    m = mime_new("/nonexistent-dir/mime.types", NULL);
    CHECK(m != NULL);
    mime_free(m);

    /* a file too large to be a mime.types (a sparse one, so it costs nothing) */
    char *name = write_fixture("text/x-big big\n", 15);
    CHECK(name != NULL);
    if (name != NULL) {
        CHECK_INT(truncate(name, 64L * 1024 * 1024), 0);
        m = mime_new(name, &fe);
        unlink(name);
        free(name);
        CHECK(m != NULL);
        CHECK_INT(fe, EFBIG);
        CHECK_INT(mime_count(m), NBUILTIN);
        CHECK_STR(LOOKUP(m, "a.big"), MIME_DEFAULT_TYPE);
        CHECK_STR(LOOKUP(m, "a.png"), "image/png");
        mime_free(m);
    }
}

static void test_system(void)
{
    struct mime *m;
    const char *js;
    int fe = -1;

    if (access("/etc/mime.types", R_OK) != 0) {
        fprintf(stderr, "note: no /etc/mime.types, skipping its checks\n");
        return;
    }
    m = mime_new("/etc/mime.types", &fe);
    CHECK(m != NULL);
    if (m == NULL)
        return;
    CHECK_INT(fe, 0);
    CHECK(mime_count(m) > NBUILTIN);
    CHECK_STR(LOOKUP(m, "index.html"), "text/html");
    CHECK_STR(LOOKUP(m, "a.css"), "text/css");
    CHECK_STR(LOOKUP(m, "a.png"), "image/png");
    CHECK_STR(LOOKUP(m, "a.jpg"), "image/jpeg");
    CHECK_STR(LOOKUP(m, "a.unknownext"), MIME_DEFAULT_TYPE);
    /* whatever the file says wins; Debian's media-types says text/javascript */
    js = LOOKUP(m, "app.js");
    CHECK(strcmp(js, "text/javascript") == 0 || strcmp(js, "application/javascript") == 0);
    mime_free(m);
}

int main(void)
{
    test_builtin();
    test_lookup();
    test_file();
    test_unreadable();
    test_system();
    return test_done();
}
