/*
 * conf.c - the configuration file: one table of keys drives everything.
 *
 * Every setting is one row of `keys` below: its name (also the name of its
 * field in struct conf), its kind (which fixes both the libconfig type the
 * file must hold and how the field is stored, defaulted, compared and
 * freed, and how a reload carries it over), its range or default, whether
 * SIGHUP may change it, and an optional check for what the kind alone
 * cannot say.  conf_defaults, conf_load, conf_free, conf_keep_restart and
 * the conf_key_* accessors all walk that table, so adding a key is adding a
 * row (and an entry in conf/tinyhttpd.conf and tinyhttpd.conf(5), which
 * tests/docs.sh and the unit test enforce).
 *
 * Loading fills a private struct and copies it out only when the whole file
 * is valid, so a bad file never half-applies and the caller (a reload) can
 * keep its old config.  Settings are checked in file order (the order of
 * the root group) and the first error wins; a missing required key is
 * reported after that.  Every string that libconfig returns is strdup'd
 * before config_destroy().
 *
 * String ownership, the one rule: conf_defaults() points the string fields
 * at the table's static default texts, so it cannot fail and needs no
 * conf_free (nothing may write through those pointers, and only conf_free
 * may free them).  conf_load() replaces every one with a strdup'd copy, and
 * conf_free() frees every string field that is not its table default.  So
 * conf_free is correct after conf_defaults alone, after conf_load, and
 * after a caller swaps in its own malloc'd string.  conf_free leaves the
 * struct zeroed ("empty"), which is also what a failed conf_load leaves.
 *
 * libconfig 1.5 quirks this module works around or documents:
 *  - @include paths are resolved against the config file's directory
 *    (config_set_include_dir); 1.5 prepends that directory to absolute
 *    paths too, so absolute @include paths do not work.
 *  - Fed a directory, its flex scanner calls exit(2).  conf_load refuses a
 *    directory as the main file and pre-scans @include lines (recursively,
 *    as libconfig would resolve them) for directories.
 *  - Integer literals beyond 32 bits are silently truncated unless written
 *    with an L suffix (99999999999L); the truncated value still goes
 *    through the range check, but may land inside the range.
 *
 * No global state: every function is safe from any thread on distinct
 * structs.  Never prints, never exits.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <libconfig.h>

#include "headers.h"
#include "tls.h"

/* Nesting depth at which libconfig 1.5 refuses @include (MAX_INCLUDE_DEPTH). */
#define INCLUDE_DEPTH_MAX 10

/*
 * How a key is written in the file and stored in struct conf (at the row's
 * offset); the kind alone says how a field is compared and carried over on
 * reload (key_equal, key_keep), so any key of these kinds can be made
 * restart-only by its row:
 *   KIND_UINT    int or int64 in the file, range-checked, `unsigned` field
 *   KIND_BOOL    boolean, `bool` field
 *   KIND_STR     string, `char *` field (strdup'd by conf_load)
 *   KIND_LEVEL   string naming a syslog level, an `int` field
 *   KIND_TARGET  string naming a log target, an `enum conf_log_target` field
 *   KIND_LISTEN  string or list of strings, a struct conf_listen[CONF_MAX_LISTEN]
 *                field and its size_t count (at count_offset); min is the
 *                least number of addresses
 *   KIND_HEADERS list of groups { prefix; extension; error_pages; set }, a
 *                `struct headers *` field (headers.h; NULL: no rules)
 */
enum key_kind {
    KIND_UINT,
    KIND_BOOL,
    KIND_STR,
    KIND_LEVEL,
    KIND_TARGET,
    KIND_LISTEN,
    KIND_HEADERS
};

struct load;

struct key {
    const char *name;
    enum key_kind kind;
    size_t offset;       /* of the field in struct conf */
    size_t count_offset; /* KIND_LISTEN: of the number of addresses */
    long long min, max;  /* KIND_UINT: the inclusive range */
    long long def_num;   /* KIND_UINT, KIND_BOOL, KIND_LEVEL, KIND_TARGET */
    const char *def_str; /* KIND_STR, KIND_LISTEN; NULL: the key is required */
    const char *choices; /* KIND_LEVEL, KIND_TARGET: the names listed in errors */
    bool reloadable;     /* false: restart-only, key_keep carries it over */
    /* KIND_UINT: the value of "auto", which is then the default; or NULL */
    unsigned (*auto_value)(void);
    /* Extra validation of a KIND_STR value; 0 or -1 after writing the error. */
    int (*check)(struct load *ld, const struct key *k, const config_setting_t *s,
                 const char *value);
};

/* The state of one conf_load: where errors go and how file names print. */
struct load {
    const char *path;        /* the main file, as passed */
    char dir[PATH_MAX];      /* its directory: libconfig's include dir */
    char name[2 * PATH_MAX]; /* scratch: an included file's printable name */
    char *err;
    size_t errlen;
};

static int check_docroot(struct load *ld, const struct key *k, const config_setting_t *s,
                         const char *value);
static int check_index(struct load *ld, const struct key *k, const config_setting_t *s,
                       const char *value);
static int check_nonempty(struct load *ld, const struct key *k, const config_setting_t *s,
                          const char *value);
static int check_protocols(struct load *ld, const struct key *k, const config_setting_t *s,
                           const char *value);
static int check_charset(struct load *ld, const struct key *k, const config_setting_t *s,
                         const char *value);

/*
 * pool_size "auto", its default: one worker per CPU the server may run on
 * (its CPU affinity mask, so a service's CPUAffinity= or a cpuset counts),
 * as nginx's worker_processes auto and h2o's num-threads; at least 2, so
 * that one slow job (a cold disk, a large directory listing) never holds
 * up every request.  4 if the CPUs cannot be counted.
 */
static unsigned default_pool_size(void)
{
    cpu_set_t set;
    long n = 0;

    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    else if ((n = sysconf(_SC_NPROCESSORS_ONLN)) < 0)
        n = 4;
    return n < 2 ? 2 : n > 1024 ? 1024 : (unsigned)n;
}

#define RELOAD true
#define RESTART false

/* Each key is named after its field in struct conf. */
#define KEY_LISTEN(field, count, lo, def, when)                                      \
    {                                                                                \
        .name = #field, .kind = KIND_LISTEN, .offset = offsetof(struct conf, field), \
        .count_offset = offsetof(struct conf, count), .min = (lo), .def_str = (def), \
        .reloadable = (when)                                                         \
    }
#define KEY_UINT(field, lo, hi, def, when)                                                      \
    {                                                                                           \
        .name = #field, .kind = KIND_UINT, .offset = offsetof(struct conf, field), .min = (lo), \
        .max = (hi), .def_num = (def), .reloadable = (when)                                     \
    }
#define KEY_UINT_AUTO(field, lo, hi, fn, when)                                                  \
    {                                                                                           \
        .name = #field, .kind = KIND_UINT, .offset = offsetof(struct conf, field), .min = (lo), \
        .max = (hi), .auto_value = (fn), .reloadable = (when)                                   \
    }
#define KEY_BOOL(field, def, when)                                                 \
    {                                                                              \
        .name = #field, .kind = KIND_BOOL, .offset = offsetof(struct conf, field), \
        .def_num = (def), .reloadable = (when)                                     \
    }
#define KEY_STR(field, def, chk, when)                                            \
    {                                                                             \
        .name = #field, .kind = KIND_STR, .offset = offsetof(struct conf, field), \
        .def_str = (def), .check = (chk), .reloadable = (when)                    \
    }
#define KEY_HEADERS(field, when)                                                      \
    {                                                                                 \
        .name = #field, .kind = KIND_HEADERS, .offset = offsetof(struct conf, field), \
        .reloadable = (when)                                                          \
    }
#define KEY_NAMED(field, knd, def, names, when)                                                  \
    {                                                                                            \
        .name = #field, .kind = (knd), .offset = offsetof(struct conf, field), .def_num = (def), \
        .choices = (names), .reloadable = (when)                                                 \
    }

/* In logical order: the order of conf/tinyhttpd.conf and of conf_keep_restart's names. */
static const struct key keys[] = {
    KEY_LISTEN(listen, nlisten, 1, "0.0.0.0:80", RESTART),
    KEY_UINT(defer_accept, 0, 60, 1, RESTART),
    KEY_BOOL(reuse_port, false, RESTART),
    KEY_STR(document_root, NULL, check_docroot, RELOAD), /* NULL: required */
    KEY_UINT_AUTO(pool_size, 1, 1024, default_pool_size, RESTART),
    KEY_BOOL(cpu_affinity, false, RESTART),
    KEY_UINT(queue_size, 1, 1048576, 1024, RESTART),
    KEY_UINT(max_connections, 1, 1000000, 16384, RESTART),
    KEY_UINT(max_header_size, 1024, 65536, 8192, RESTART),
    KEY_UINT(header_timeout, 1, 3600, 10, RELOAD),
    KEY_UINT(keepalive_timeout, 0, 3600, 15, RELOAD),
    KEY_UINT(send_timeout, 1, 3600, 60, RELOAD),
    KEY_UINT(shutdown_timeout, 0, 3600, 30, RELOAD),
    KEY_UINT(shutdown_grace, 0, 3600, 1, RELOAD),
    KEY_STR(index, "index.html", check_index, RELOAD),
    KEY_BOOL(directory_listing, false, RELOAD),
    KEY_UINT(max_ranges, 1, 64, 16, RELOAD),
    KEY_STR(mime_types, "/etc/mime.types", NULL, RELOAD),
    KEY_BOOL(precompressed, true, RELOAD),
    KEY_HEADERS(headers, RELOAD),
    KEY_STR(charset, "", check_charset, RELOAD),
    KEY_NAMED(log_level, KIND_LEVEL, LOG_INFO, "err, warning, notice, info, debug", RELOAD),
    KEY_NAMED(log_target, KIND_TARGET, CONF_LOG_AUTO, "auto, stderr, journal", RESTART),
    KEY_BOOL(access_log, true, RELOAD),
    KEY_LISTEN(metrics_listen, nmetrics_listen, 0, "", RESTART),
    KEY_STR(user, "nobody", check_nonempty, RESTART),
    KEY_STR(group, "nogroup", check_nonempty, RESTART),
    KEY_LISTEN(tls_listen, ntls_listen, 0, "", RESTART),
    KEY_STR(tls_certificate, "", NULL, RELOAD),
    KEY_STR(tls_certificate_key, "", NULL, RELOAD),
    KEY_STR(tls_protocols, "TLSv1.2 TLSv1.3", check_protocols, RELOAD),
    KEY_STR(tls_ciphers, TLS_DEFAULT_CIPHERS, check_nonempty, RELOAD),
    KEY_BOOL(tls_session_tickets, true, RELOAD),
    KEY_BOOL(tls_redirect, false, RELOAD),
    KEY_UINT(tls_hsts, 0, 157680000, 0, RELOAD),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct {
    const char *name;
    int level;
} level_names[] = {
    { "err", LOG_ERR },      { "error", LOG_ERR },     { "warning", LOG_WARNING },
    { "warn", LOG_WARNING }, { "notice", LOG_NOTICE }, { "info", LOG_INFO },
    { "debug", LOG_DEBUG },
};

static const char *const target_names[] = {
    [CONF_LOG_AUTO] = "auto",
    [CONF_LOG_STDERR] = "stderr",
    [CONF_LOG_JOURNAL] = "journal",
};

/* ------------------------------------------------------------------ fields */

static unsigned *field_uint(struct conf *c, const struct key *k)
{
    return (unsigned *)((char *)c + k->offset);
}

static bool *field_bool(struct conf *c, const struct key *k)
{
    return (bool *)((char *)c + k->offset);
}

static char **field_str(struct conf *c, const struct key *k)
{
    return (char **)((char *)c + k->offset);
}

static int *field_int(struct conf *c, const struct key *k)
{
    return (int *)((char *)c + k->offset);
}

static enum conf_log_target *field_target(struct conf *c, const struct key *k)
{
    return (enum conf_log_target *)((char *)c + k->offset);
}

static struct conf_listen *field_listen(struct conf *c, const struct key *k)
{
    return (struct conf_listen *)((char *)c + k->offset);
}

static struct headers **field_headers(struct conf *c, const struct key *k)
{
    return (struct headers **)((char *)c + k->offset);
}

static size_t *field_count(struct conf *c, const struct key *k)
{
    return (size_t *)((char *)c + k->count_offset);
}

static const void *field_const(const struct conf *c, const struct key *k)
{
    return (const char *)c + k->offset;
}

/* Free a string field unless it is the table's static default. */
static void str_release(char **field, const struct key *k)
{
    if (*field != k->def_str)
        free(*field);
    *field = NULL;
}

/* ------------------------------------------------------------------ errors */

/* The printable name of a file libconfig reports (NULL: the main file). */
static const char *file_name(struct load *ld, const char *file)
{
    if (file == NULL)
        return ld->path;
    if (file[0] == '/' || strcmp(ld->dir, ".") == 0)
        return file;
    snprintf(ld->name, sizeof(ld->name), "%s/%s", ld->dir, file);
    return ld->name;
}

/* Write "FILE:LINE: message" (or "FILE: message" when line is 0) to ld->err. */
static void __attribute__((format(printf, 4, 5)))
fail_at(struct load *ld, const char *file, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (ld->err == NULL || ld->errlen == 0)
        return;
    if (line > 0)
        n = snprintf(ld->err, ld->errlen, "%s:%u: ", file, line);
    else
        n = snprintf(ld->err, ld->errlen, "%s: ", file);
    if (n < 0 || (size_t)n >= ld->errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* The same, at a setting's line and file. */
#define fail_setting(ld, s, ...)                                                                 \
    fail_at((ld), file_name((ld), config_setting_source_file(s)), config_setting_source_line(s), \
            __VA_ARGS__)

/* ------------------------------------------------------------------ checks */

static int check_docroot(struct load *ld, const struct key *k, const config_setting_t *s,
                         const char *value)
{
    struct stat st;

    if (stat(value, &st) < 0) {
        int e = errno;
        fail_setting(ld, s, "'%s' '%s': %s", k->name, value, strerror(e));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fail_setting(ld, s, "'%s' '%s': %s", k->name, value, strerror(ENOTDIR));
        return -1;
    }
    return 0;
}

/* A name fileserve.c can append to a directory: one path component. */
static int check_index(struct load *ld, const struct key *k, const config_setting_t *s,
                       const char *value)
{
    if (value[0] == '\0' || strchr(value, '/') != NULL || strcmp(value, ".") == 0 ||
        strcmp(value, "..") == 0) {
        fail_setting(ld, s, "'%s' must be a file name without '/'", k->name);
        return -1;
    }
    if (strlen(value) > NAME_MAX) {
        fail_setting(ld, s, "'%s' must be a file name of at most %d bytes", k->name, NAME_MAX);
        return -1;
    }
    return 0;
}

static int check_nonempty(struct load *ld, const struct key *k, const config_setting_t *s,
                          const char *value)
{
    if (value[0] == '\0') {
        fail_setting(ld, s, "'%s' must not be empty", k->name);
        return -1;
    }
    return 0;
}

/* A charset name (RFC 9110 section 8.3.2: a token), or "" for none. */
static int check_charset(struct load *ld, const struct key *k, const config_setting_t *s,
                         const char *value)
{
    for (const char *p = value; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *p) != NULL)) {
            fail_setting(ld, s, "'%s' must be a charset name such as \"utf-8\", or \"\"", k->name);
            return -1;
        }
    }
    if (strlen(value) > 40) {
        fail_setting(ld, s, "'%s' must be at most 40 characters", k->name);
        return -1;
    }
    return 0;
}

/* A space-separated list of TLSv1.2 and TLSv1.3: nothing older can be enabled. */
static int check_protocols(struct load *ld, const struct key *k, const config_setting_t *s,
                           const char *value)
{
    char copy[64], *save = NULL;
    int n = 0;

    if (strlen(value) >= sizeof copy)
        goto bad;
    strcpy(copy, value);
    for (char *w = strtok_r(copy, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
        if (strcmp(w, "TLSv1.2") != 0 && strcmp(w, "TLSv1.3") != 0)
            goto bad;
        n++;
    }
    if (n > 0)
        return 0;
bad:
    fail_setting(ld, s,
                 "'%s' must name TLSv1.2, TLSv1.3 or both (older protocols cannot be "
                 "enabled): '%s'",
                 k->name, value);
    return -1;
}

/* ------------------------------------------------------------------ listen */

unsigned conf_listen_port(const struct conf_listen *l)
{
    if (l->addr.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&l->addr)->sin6_port);
    return ntohs(((const struct sockaddr_in *)&l->addr)->sin_port);
}

static bool listen_same_addr(const struct conf_listen *a, const struct conf_listen *b)
{
    if (a->addr.ss_family != b->addr.ss_family)
        return false;
    if (a->addr.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)&a->addr;
        const struct sockaddr_in *y = (const struct sockaddr_in *)&b->addr;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    } else {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->addr;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->addr;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
}

/* "1".."65535", decimal digits only; 0 if s is not such a port. */
static unsigned parse_port(const char *s)
{
    unsigned long v = 0;

    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > 65535)
            return 0;
    }
    return (unsigned)v;
}

int conf_parse_listen(const char *text, struct conf_listen *l)
{
    struct conf_listen out;
    char host[INET6_ADDRSTRLEN];
    const char *port_text, *colon;
    size_t len, host_len;
    unsigned port;
    int family;

    if (text == NULL)
        return -EINVAL;
    len = strlen(text);
    if (len == 0 || len >= sizeof(out.text))
        return -EINVAL;

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':')
            return -EINVAL;
        host_len = (size_t)(close - text - 1);
        if (host_len == 0 || host_len >= sizeof(host))
            return -EINVAL;
        memcpy(host, text + 1, host_len);
        host[host_len] = '\0';
        family = AF_INET6;
        port_text = close + 2;
    } else if ((colon = strchr(text, ':')) != NULL) {
        host_len = (size_t)(colon - text);
        if (host_len == 0 || host_len >= sizeof(host))
            return -EINVAL;
        memcpy(host, text, host_len);
        host[host_len] = '\0';
        family = AF_INET;
        port_text = colon + 1; /* a second ':' ("::1:80") fails parse_port */
    } else {
        strcpy(host, "*");
        family = AF_INET;
        port_text = text;
    }

    port = parse_port(port_text);
    if (port == 0)
        return -EINVAL;

    memset(&out, 0, sizeof(out));
    if (family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out.addr;
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
            return -EINVAL;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        out.addr_len = sizeof(*sin6);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&out.addr;
        if (strcmp(host, "*") == 0)
            sin->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
            return -EINVAL;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        out.addr_len = sizeof(*sin);
    }
    memcpy(out.text, text, len + 1);
    *l = out;
    return 0;
}

static int set_listen(struct load *ld, struct conf *c, const struct key *k,
                      const config_setting_t *s)
{
    int type = config_setting_type(s);
    struct conf_listen *list = field_listen(c, k);
    size_t *count = field_count(c, k);
    size_t i, j, n;

    if (type == CONFIG_TYPE_STRING) {
        n = 1;
    } else if (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST) {
        n = (size_t)config_setting_length(s);
    } else {
        fail_setting(ld, s, "'%s' must be a string or a list of strings", k->name);
        return -1;
    }
    if (n < (size_t)k->min) {
        fail_setting(ld, s, "'%s' must not be empty", k->name);
        return -1;
    }
    if (n > CONF_MAX_LISTEN) {
        fail_setting(ld, s, "'%s' must have at most %d addresses", k->name, CONF_MAX_LISTEN);
        return -1;
    }

    *count = 0;
    for (i = 0; i < n; i++) {
        const config_setting_t *e =
            type == CONFIG_TYPE_STRING ? s : config_setting_get_elem(s, (unsigned)i);
        const char *text;

        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            fail_setting(ld, e, "'%s' must be a string or a list of strings", k->name);
            return -1;
        }
        text = config_setting_get_string(e);
        if (conf_parse_listen(text, &list[i]) < 0) {
            fail_setting(ld, e,
                         "'%s': invalid address '%s' (expected ADDRESS:PORT, [IPv6]:PORT or PORT)",
                         k->name, text);
            return -1;
        }
        for (j = 0; j < i; j++) {
            if (listen_same_addr(&list[j], &list[i])) {
                fail_setting(ld, e, "'%s': duplicate address '%s'", k->name, text);
                return -1;
            }
        }
        *count = i + 1;
    }
    return 0;
}

/* A string member of a headers group, NULL when absent; -1 after a type error. */
static int group_string(struct load *ld, const struct key *k, const config_setting_t *g,
                        const char *name, const char **out)
{
    const config_setting_t *m = config_setting_get_member(g, name);

    *out = NULL;
    if (m == NULL)
        return 0;
    if (config_setting_type(m) != CONFIG_TYPE_STRING) {
        fail_setting(ld, m, "'%s': '%s' must be a string", k->name, name);
        return -1;
    }
    *out = config_setting_get_string(m);
    return 0;
}

/* One group of the headers list into h. */
static int add_header_rule(struct load *ld, const struct key *k, const config_setting_t *g,
                           struct headers *h)
{
    const char *prefix, *extension, *why;
    const config_setting_t *m, *set;
    bool error_pages = false;
    unsigned i, n = (unsigned)config_setting_length(g);

    for (i = 0; i < n; i++) {
        const char *name = config_setting_name(m = config_setting_get_elem(g, i));
        if (name == NULL || (strcmp(name, "prefix") != 0 && strcmp(name, "extension") != 0 &&
                             strcmp(name, "error_pages") != 0 && strcmp(name, "set") != 0)) {
            fail_setting(ld, m, "'%s': unknown member '%s' (prefix, extension, error_pages, set)",
                         k->name, name ? name : "");
            return -1;
        }
    }
    if (group_string(ld, k, g, "prefix", &prefix) < 0 ||
        group_string(ld, k, g, "extension", &extension) < 0)
        return -1;
    if ((m = config_setting_get_member(g, "error_pages")) != NULL) {
        if (config_setting_type(m) != CONFIG_TYPE_BOOL) {
            fail_setting(ld, m, "'%s': 'error_pages' must be a boolean", k->name);
            return -1;
        }
        error_pages = config_setting_get_bool(m) != 0;
    }
    set = config_setting_get_member(g, "set");
    if (set == NULL ||
        (config_setting_type(set) != CONFIG_TYPE_LIST &&
         config_setting_type(set) != CONFIG_TYPE_ARRAY) ||
        config_setting_length(set) == 0) {
        fail_setting(ld, set != NULL ? set : g,
                     "'%s': each rule needs 'set', a list of \"Name: value\" strings", k->name);
        return -1;
    }
    if (headers_add_rule(h, prefix, extension, error_pages, &why) < 0) {
        fail_setting(ld, g, "'%s': %s", k->name, why);
        return -1;
    }
    n = (unsigned)config_setting_length(set);
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(set, i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            fail_setting(ld, e, "'%s': each field must be a string \"Name: value\"", k->name);
            return -1;
        }
        if (headers_add_field(h, config_setting_get_string(e), &why) < 0) {
            fail_setting(ld, e, "'%s': field %u of 'set': %s", k->name, i + 1, why);
            return -1;
        }
    }
    return 0;
}

static int set_headers(struct load *ld, struct conf *c, const struct key *k,
                       const config_setting_t *s)
{
    struct headers *h;
    unsigned i, n;

    if (config_setting_type(s) != CONFIG_TYPE_LIST) {
        fail_setting(ld, s, "'%s' must be a list of groups ( { ... }, ... )", k->name);
        return -1;
    }
    if ((h = headers_new()) == NULL) {
        fail_setting(ld, s, "'%s': %s", k->name, strerror(ENOMEM));
        return -1;
    }
    n = (unsigned)config_setting_length(s);
    for (i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(s, i);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            fail_setting(ld, g, "'%s' must be a list of groups ( { ... }, ... )", k->name);
            headers_unref(h);
            return -1;
        }
        if (add_header_rule(ld, k, g, h) < 0) {
            headers_unref(h);
            return -1;
        }
    }
    headers_unref(*field_headers(c, k));
    *field_headers(c, k) = h;
    return 0;
}

/* ------------------------------------------------------------------ one setting */

static const struct key *key_find(const char *name)
{
    size_t i;

    for (i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* The string value of s, or NULL after writing a type error. */
static const char *get_string(struct load *ld, const struct key *k, const config_setting_t *s)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        fail_setting(ld, s, "'%s' must be a string", k->name);
        return NULL;
    }
    return config_setting_get_string(s);
}

static int set_one(struct load *ld, struct conf *c, const struct key *k, const config_setting_t *s)
{
    const char *str;
    long long v;
    size_t i;

    switch (k->kind) {
    case KIND_UINT:
        if (k->auto_value != NULL && config_setting_type(s) == CONFIG_TYPE_STRING &&
            strcmp(config_setting_get_string(s), "auto") == 0) {
            *field_uint(c, k) = k->auto_value();
            return 0;
        }
        if (config_setting_type(s) != CONFIG_TYPE_INT &&
            config_setting_type(s) != CONFIG_TYPE_INT64) {
            fail_setting(ld, s, "'%s' must be an integer%s", k->name,
                         k->auto_value != NULL ? " or \"auto\"" : "");
            return -1;
        }
        v = config_setting_get_int64(s);
        if (v < k->min || v > k->max) {
            fail_setting(ld, s, "'%s' must be between %lld and %lld", k->name, k->min, k->max);
            return -1;
        }
        *field_uint(c, k) = (unsigned)v;
        return 0;

    case KIND_BOOL:
        if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
            fail_setting(ld, s, "'%s' must be a boolean", k->name);
            return -1;
        }
        *field_bool(c, k) = config_setting_get_bool(s) != 0;
        return 0;

    case KIND_STR: {
        char *copy;

        if ((str = get_string(ld, k, s)) == NULL)
            return -1;
        if (k->check != NULL && k->check(ld, k, s, str) < 0)
            return -1;
        if ((copy = strdup(str)) == NULL) {
            fail_setting(ld, s, "'%s': %s", k->name, strerror(ENOMEM));
            return -1;
        }
        str_release(field_str(c, k), k);
        *field_str(c, k) = copy;
        return 0;
    }

    case KIND_LEVEL:
        if ((str = get_string(ld, k, s)) == NULL)
            return -1;
        if ((*field_int(c, k) = conf_log_level_parse(str)) < 0) {
            fail_setting(ld, s, "'%s' must be one of %s", k->name, k->choices);
            return -1;
        }
        return 0;

    case KIND_TARGET:
        if ((str = get_string(ld, k, s)) == NULL)
            return -1;
        for (i = 0; i < sizeof(target_names) / sizeof(target_names[0]); i++) {
            if (strcmp(str, target_names[i]) == 0) {
                *field_target(c, k) = (enum conf_log_target)i;
                return 0;
            }
        }
        fail_setting(ld, s, "'%s' must be one of %s", k->name, k->choices);
        return -1;

    case KIND_LISTEN:
        return set_listen(ld, c, k, s);

    case KIND_HEADERS:
        return set_headers(ld, c, k, s);
    }
    abort();
}

/* ------------------------------------------------------------------ @include guard */

/*
 * libconfig 1.5 exits the process when an @include names a directory, so
 * look for that first: lines of the form `[ \t]*@include[ \t]+"NAME"`
 * (its scanner's pattern, with \\ and \" escapes), resolved as libconfig
 * resolves them, recursively.  Anything else wrong with an include (a
 * missing file, a syntax error) is left to libconfig to report.
 */
static int check_includes(struct load *ld, FILE *f, const char *file, int depth)
{
    char *line = NULL, name[PATH_MAX], inc[2 * PATH_MAX];
    size_t cap = 0;
    unsigned lineno = 0;
    int rc = 0;

    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        const char *p = line;
        size_t n = 0;
        struct stat st;
        FILE *sub;

        lineno++;
        p += strspn(p, " \t");
        if (strncmp(p, "@include", 8) != 0 || (p[8] != ' ' && p[8] != '\t'))
            continue;
        p += 8;
        p += strspn(p, " \t");
        if (*p++ != '"')
            continue;
        for (; *p != '\0' && *p != '"' && n < sizeof(name) - 1; p++) {
            if (p[0] == '\\' && (p[1] == '\\' || p[1] == '"'))
                p++;
            name[n++] = *p;
        }
        if (*p != '"')
            continue;
        name[n] = '\0';

        snprintf(inc, sizeof(inc), "%s/%s", ld->dir, name);
        if (stat(inc, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            fail_at(ld, file, lineno, "cannot open include file '%s': %s", name, strerror(EISDIR));
            rc = -1;
        } else if (depth + 1 < INCLUDE_DEPTH_MAX && (sub = fopen(inc, "r")) != NULL) {
            /* Printed as libconfig prints it: relative to the include dir. */
            char *sub_name = strdup(file_name(ld, name));
            if (sub_name != NULL)
                rc = check_includes(ld, sub, sub_name, depth + 1);
            free(sub_name);
            fclose(sub);
        }
    }
    free(line);
    return rc;
}

/* ------------------------------------------------------------------ public */

void conf_defaults(struct conf *c)
{
    size_t i;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];

        switch (k->kind) {
        case KIND_UINT:
            *field_uint(c, k) = k->auto_value != NULL ? k->auto_value() : (unsigned)k->def_num;
            break;
        case KIND_BOOL:
            *field_bool(c, k) = k->def_num != 0;
            break;
        case KIND_STR:
            *field_str(c, k) = (char *)k->def_str; /* see "String ownership" */
            break;
        case KIND_LEVEL:
            *field_int(c, k) = (int)k->def_num;
            break;
        case KIND_TARGET:
            *field_target(c, k) = (enum conf_log_target)k->def_num;
            break;
        case KIND_LISTEN:
            *field_count(c, k) = 0;
            if (k->def_str[0] != '\0') {
                if (conf_parse_listen(k->def_str, field_listen(c, k)) < 0)
                    abort();
                *field_count(c, k) = 1;
            }
            break;
        case KIND_HEADERS:
            *field_headers(c, k) = NULL;
            break;
        }
    }
}

void conf_free(struct conf *c)
{
    size_t i;

    for (i = 0; i < NKEYS; i++) {
        if (keys[i].kind == KIND_STR)
            str_release(field_str(c, &keys[i]), &keys[i]);
        else if (keys[i].kind == KIND_HEADERS)
            headers_unref(*field_headers(c, &keys[i]));
    }
    free(c->path);
    memset(c, 0, sizeof(*c));
}

/* Split path's directory into ld->dir: "." when it has no '/'. */
static int set_dir(struct load *ld)
{
    const char *slash = strrchr(ld->path, '/');
    size_t n;

    if (slash == NULL) {
        strcpy(ld->dir, ".");
        return 0;
    }
    n = slash == ld->path ? 1 : (size_t)(slash - ld->path);
    if (n >= sizeof(ld->dir))
        return -1;
    memcpy(ld->dir, ld->path, n);
    ld->dir[n] = '\0';
    return 0;
}

/* Open ld->path for libconfig: a readable file, not a directory, whose
 * @include lines name no directory (see check_includes).  NULL on error. */
static FILE *open_main(struct load *ld)
{
    struct stat st;
    FILE *f;

    if (set_dir(ld) < 0) {
        fail_at(ld, ld->path, 0, "%s", strerror(ENAMETOOLONG));
        return NULL;
    }
    if ((f = fopen(ld->path, "r")) == NULL || fstat(fileno(f), &st) < 0) {
        int e = errno;
        fail_at(ld, ld->path, 0, "%s", strerror(e));
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        fail_at(ld, ld->path, 0, "%s", strerror(EISDIR));
    } else if (check_includes(ld, f, ld->path, 0) == 0) {
        rewind(f);
        return f;
    }
    fclose(f);
    return NULL;
}

/* libconfig's parse of f (with its includes) into cfg; 0 or -1. */
static int parse_file(struct load *ld, config_t *cfg, FILE *f)
{
    config_set_include_dir(cfg, ld->dir);
    if (config_read(cfg, f) == CONFIG_TRUE)
        return 0;
    fail_at(ld, file_name(ld, config_error_file(cfg)),
            config_error_type(cfg) == CONFIG_ERR_PARSE ? (unsigned)config_error_line(cfg) : 0, "%s",
            config_error_text(cfg));
    return -1;
}

/* Every setting of the file, in file order, into c; the first error wins. */
static int apply_settings(struct load *ld, config_t *cfg, struct conf *c)
{
    config_setting_t *root = config_root_setting(cfg);
    int n = config_setting_length(root);

    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const struct key *k = key_find(config_setting_name(s));

        if (k == NULL) {
            fail_setting(ld, s, "unknown key '%s'", config_setting_name(s));
            return -1;
        }
        if (set_one(ld, c, k, s) < 0)
            return -1;
    }
    return 0;
}

/* Where to report a problem with key name: its setting, else the file. */
static void fail_key(struct load *ld, config_t *cfg, const char *name, const char *msg)
{
    const config_setting_t *s = config_lookup(cfg, name);
    if (s != NULL)
        fail_setting(ld, s, "'%s': %s", name, msg);
    else
        fail_at(ld, ld->path, 0, "'%s': %s", name, msg);
}

/* The metrics listener's addresses serve nothing else. */
static int check_metrics(struct load *ld, config_t *cfg, const struct conf *c)
{
    char msg[160];

    for (size_t i = 0; i < c->nmetrics_listen; i++) {
        const struct conf_listen *m = &c->metrics_listen[i];
        for (size_t j = 0; j < c->nlisten + c->ntls_listen; j++) {
            bool tls = j >= c->nlisten;
            if (listen_same_addr(m, tls ? &c->tls_listen[j - c->nlisten] : &c->listen[j])) {
                snprintf(msg, sizeof msg, "'%s' is in '%s' too", m->text,
                         tls ? "tls_listen" : "listen");
                fail_key(ld, cfg, "metrics_listen", msg);
                return -1;
            }
        }
    }
    return 0;
}

/* The tls_* keys together: a certificate and key that load, match and are
 * valid now, and HTTPS addresses that are not plain ones too.  HTTPS is on
 * when tls_certificate is set (a socket passed by systemd may need it
 * without tls_listen). */
static int check_tls(struct load *ld, config_t *cfg, struct conf *c)
{
    char msg[512];
    const char *bad = "tls_certificate";

    c->tls_warning[0] = '\0';
    if (!tls_available()) {
        for (size_t i = 0; i < NKEYS; i++) {
            if (strncmp(keys[i].name, "tls_", 4) == 0 && config_lookup(cfg, keys[i].name)) {
                fail_key(ld, cfg, keys[i].name,
                         "HTTPS is not available: tinyhttpd was built without OpenSSL");
                return -1;
            }
        }
        return 0;
    }
    bool cert = c->tls_certificate[0] != '\0', key = c->tls_certificate_key[0] != '\0';
    if (!cert && !key) {
        if (c->ntls_listen == 0)
            return 0;
        fail_key(ld, cfg, "tls_listen", "HTTPS needs tls_certificate and tls_certificate_key");
        return -1;
    }
    if (!cert || !key) {
        fail_key(ld, cfg, cert ? "tls_certificate" : "tls_certificate_key",
                 cert ? "HTTPS needs tls_certificate_key as well"
                      : "HTTPS needs tls_certificate as well");
        return -1;
    }
    for (size_t i = 0; i < c->ntls_listen; i++) {
        for (size_t j = 0; j < c->nlisten; j++) {
            if (listen_same_addr(&c->tls_listen[i], &c->listen[j])) {
                snprintf(msg, sizeof msg, "'%s' is in 'listen' too", c->tls_listen[i].text);
                fail_key(ld, cfg, "tls_listen", msg);
                return -1;
            }
        }
    }
    struct tls_ctx *ctx =
        tls_ctx_new(c, msg, sizeof msg, &bad, c->tls_warning, sizeof c->tls_warning);
    if (ctx == NULL) {
        fail_key(ld, cfg, bad, msg);
        return -1;
    }
    tls_ctx_free(ctx);
    return 0;
}

/* Required keys present, then c takes ownership of every default string
 * still in place and of its path. */
static int finish(struct load *ld, struct conf *c)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        char **field;

        if (k->kind != KIND_STR)
            continue;
        field = field_str(c, k);
        if (*field == NULL) {
            fail_at(ld, ld->path, 0, "missing required key '%s'", k->name);
            return -1;
        }
        if (*field == k->def_str && (*field = strdup(k->def_str)) == NULL) {
            fail_at(ld, ld->path, 0, "%s", strerror(ENOMEM));
            return -1;
        }
    }
    if ((c->path = strdup(ld->path)) == NULL) {
        fail_at(ld, ld->path, 0, "%s", strerror(ENOMEM));
        return -1;
    }
    return 0;
}

int conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
    struct load ld = { .path = path, .err = err, .errlen = errlen };
    struct conf tmp;
    config_t cfg;
    FILE *f;
    int rc = -1;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    conf_defaults(&tmp);
    if ((f = open_main(&ld)) == NULL) {
        memset(c, 0, sizeof(*c));
        return -1;
    }
    config_init(&cfg);
    if (parse_file(&ld, &cfg, f) == 0 && apply_settings(&ld, &cfg, &tmp) == 0 &&
        check_metrics(&ld, &cfg, &tmp) == 0 && check_tls(&ld, &cfg, &tmp) == 0 &&
        finish(&ld, &tmp) == 0)
        rc = 0;
    config_destroy(&cfg);
    fclose(f);
    if (rc < 0) {
        conf_free(&tmp);
        memset(c, 0, sizeof(*c));
        return -1;
    }
    *c = tmp;
    return 0;
}

size_t conf_key_count(void)
{
    return NKEYS;
}

const char *conf_key_name(size_t i)
{
    return i < NKEYS ? keys[i].name : NULL;
}

bool conf_key_reloadable(size_t i)
{
    return i < NKEYS && keys[i].reloadable;
}

static bool str_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool key_equal(const struct conf *a, const struct conf *b, const struct key *k)
{
    size_t i;

    switch (k->kind) {
    case KIND_UINT:
        return *(const unsigned *)field_const(a, k) == *(const unsigned *)field_const(b, k);
    case KIND_BOOL:
        return *(const bool *)field_const(a, k) == *(const bool *)field_const(b, k);
    case KIND_STR:
        return str_equal(*(char *const *)field_const(a, k), *(char *const *)field_const(b, k));
    case KIND_LEVEL:
        return *(const int *)field_const(a, k) == *(const int *)field_const(b, k);
    case KIND_TARGET:
        return *(const enum conf_log_target *)field_const(a, k) ==
               *(const enum conf_log_target *)field_const(b, k);
    case KIND_LISTEN: {
        const struct conf_listen *la = field_const(a, k), *lb = field_const(b, k);
        size_t na = *(const size_t *)((const char *)a + k->count_offset);
        size_t nb = *(const size_t *)((const char *)b + k->count_offset);
        if (na != nb)
            return false;
        for (i = 0; i < na && i < CONF_MAX_LISTEN; i++)
            if (strcmp(la[i].text, lb[i].text) != 0)
                return false;
        return true;
    }
    case KIND_HEADERS:
        return headers_equal(*(struct headers *const *)field_const(a, k),
                             *(struct headers *const *)field_const(b, k));
    }
    abort();
}

/* Give next running's value of k.  A string is swapped, not copied, so
 * each struct still owns exactly the strings conf_free will free. */
static void key_keep(struct conf *next, struct conf *running, const struct key *k)
{
    char *str;

    switch (k->kind) {
    case KIND_UINT:
        *field_uint(next, k) = *field_uint(running, k);
        return;
    case KIND_BOOL:
        *field_bool(next, k) = *field_bool(running, k);
        return;
    case KIND_STR:
        str = *field_str(next, k);
        *field_str(next, k) = *field_str(running, k);
        *field_str(running, k) = str;
        return;
    case KIND_LEVEL:
        *field_int(next, k) = *field_int(running, k);
        return;
    case KIND_TARGET:
        *field_target(next, k) = *field_target(running, k);
        return;
    case KIND_LISTEN:
        memcpy(field_listen(next, k), field_listen(running, k),
               CONF_MAX_LISTEN * sizeof(struct conf_listen));
        *field_count(next, k) = *field_count(running, k);
        return;
    case KIND_HEADERS: {
        struct headers *h = *field_headers(next, k);
        *field_headers(next, k) = *field_headers(running, k);
        *field_headers(running, k) = h;
        return;
    }
    }
    abort();
}

/* The names of the restart-only keys that differ, comma-separated into buf. */
static void restart_changes(const struct conf *a, const struct conf *b, char *buf, size_t len)
{
    size_t i, used = 0;

    if (buf == NULL || len == 0)
        return;
    buf[0] = '\0';
    for (i = 0; i < NKEYS; i++) {
        int n;

        if (keys[i].reloadable || key_equal(a, b, &keys[i]))
            continue;
        n = snprintf(buf + used, len - used, "%s%s", used > 0 ? ", " : "", keys[i].name);
        if (n < 0 || (size_t)n >= len - used) {
            buf[used] = '\0'; /* never a cut-off name */
            return;
        }
        used += (size_t)n;
    }
}

void conf_keep_restart(struct conf *next, struct conf *running, char *changed, size_t len)
{
    size_t i;

    restart_changes(running, next, changed, len);
    for (i = 0; i < NKEYS; i++)
        if (!keys[i].reloadable)
            key_keep(next, running, &keys[i]);
}

int conf_log_level_parse(const char *name)
{
    size_t i;

    if (name == NULL)
        return -EINVAL;
    for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcmp(name, level_names[i].name) == 0)
            return level_names[i].level;
    return -EINVAL;
}
