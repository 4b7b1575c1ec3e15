/*
 * headers.c - configured response header fields: the rules, their checks,
 * and the match and copy on the request path.
 *
 * Each field is kept as its finished line ("Name: value\r\n") and its name
 * in lower case.  When a rule is added, the fields of earlier rules with a
 * name that the new rule's fields also set are marked "replaced by rule i",
 * a bit mask: at request time a field is skipped when a later matching rule
 * replaces it, one AND per field, with no string comparison.
 */
#include "headers.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct field {
    char *line; /* "Name: value\r\n" */
    size_t len;
    char *name;           /* lower case */
    uint64_t replaced_by; /* the later rules that set this name too */
};

struct rule {
    char *prefix;    /* NULL: any */
    char *extension; /* ".woff2", lower case; NULL: any */
    size_t prefix_len, extension_len;
    bool error_pages;
    struct field *fields;
    size_t nfields;
};

struct headers {
    atomic_uint refs;
    struct rule rules[HEADERS_MAX_RULES];
    size_t nrules;
    size_t bytes; /* of all lines */
};

/* Fields a configuration cannot set: the server writes them, from the file and the
 * connection, or another key does (Strict-Transport-Security: tls_hsts). */
static const char *const owned[] = {
    "accept-ranges",
    "connection",
    "content-encoding",
    "content-length",
    "content-range",
    "content-type",
    "date",
    "etag",
    "keep-alive",
    "last-modified",
    "location",
    "server",
    "strict-transport-security",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "vary",
};

bool headers_owned(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        if (strlen(owned[i]) == len && strncasecmp(owned[i], name, len) == 0)
            return true;
    return false;
}

struct headers *headers_new(void)
{
    struct headers *h = calloc(1, sizeof *h);

    if (h != NULL)
        atomic_init(&h->refs, 1);
    return h;
}

struct headers *headers_ref(struct headers *h)
{
    if (h != NULL)
        atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
    return h;
}

void headers_unref(struct headers *h)
{
    if (h == NULL || atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < h->nrules; i++) {
        struct rule *r = &h->rules[i];
        for (size_t j = 0; j < r->nfields; j++) {
            free(r->fields[j].line);
            free(r->fields[j].name);
        }
        free(r->fields);
        free(r->prefix);
        free(r->extension);
    }
    free(h);
}

int headers_add_rule(struct headers *h, const char *prefix, const char *extension, bool error_pages,
                     const char **why)
{
    struct rule r = { .error_pages = error_pages };

    if (h->nrules >= HEADERS_MAX_RULES) {
        *why = "too many rules (at most 64)";
        return -1;
    }
    if (prefix != NULL && prefix[0] != '\0') {
        if (prefix[0] != '/') {
            *why = "'prefix' must start with '/'";
            return -1;
        }
        if (strlen(prefix) > HEADERS_MAX_PREFIX) {
            *why = "'prefix' is too long";
            return -1;
        }
        for (const char *p = prefix; *p; p++) {
            if ((unsigned char)*p <= ' ' || *p == 0x7f) {
                *why = "'prefix' must not hold spaces or control characters";
                return -1;
            }
        }
        r.prefix_len = strlen(prefix);
        if ((r.prefix = strdup(prefix)) == NULL)
            goto nomem;
    }
    if (extension != NULL && extension[0] != '\0') {
        size_t n = strlen(extension);
        if (extension[0] == '.' || strchr(extension, '/') != NULL || n > 255) {
            *why = "'extension' must be a file name extension without its leading dot";
            free(r.prefix);
            return -1;
        }
        if ((r.extension = malloc(n + 2)) == NULL) {
            free(r.prefix);
            goto nomem;
        }
        r.extension[0] = '.';
        for (size_t i = 0; i <= n; i++)
            r.extension[i + 1] = (char)tolower((unsigned char)extension[i]);
        r.extension_len = n + 1;
    }
    h->rules[h->nrules++] = r;
    return 0;
nomem:
    *why = "out of memory";
    return -1;
}

/* RFC 9110 section 5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
    return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int headers_add_field(struct headers *h, const char *text, const char **why)
{
    const char *colon = strchr(text, ':'), *v, *end;
    size_t name_len, value_len;
    struct rule *r;

    if (h->nrules == 0) {
        *why = "no rule";
        return -1;
    }
    r = &h->rules[h->nrules - 1];
    if (colon == NULL || colon == text) {
        *why = "a field must be written \"Name: value\"";
        return -1;
    }
    name_len = (size_t)(colon - text);
    for (size_t i = 0; i < name_len; i++) {
        if (!is_tchar((unsigned char)text[i])) {
            *why = "the field name is not a token (letters, digits and !#$%&'*+-.^_`|~)";
            return -1;
        }
    }
    if (headers_owned(text, name_len)) {
        *why = "the server sets this field itself";
        return -1;
    }
    for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
        ;
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < ' ' && c != '\t') || c == 0x7f) {
            *why = "the field value holds a control character (CR, LF, ...)";
            return -1;
        }
    }
    for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t'); end--)
        ;
    value_len = (size_t)(end - v);
    if (value_len == 0) {
        *why = "the field value is empty";
        return -1;
    }
    size_t line_len = name_len + 2 + value_len + 2;
    if (h->bytes + line_len > HEADERS_MAX_BYTES) {
        *why = "the fields of all rules together exceed 2048 bytes";
        return -1;
    }
    struct field f = { .len = line_len };
    struct field *grown = realloc(r->fields, (r->nfields + 1) * sizeof *grown);
    if (grown == NULL)
        goto nomem;
    r->fields = grown;
    f.line = malloc(line_len + 1);
    f.name = malloc(name_len + 1);
    if (f.line == NULL || f.name == NULL) {
        free(f.line);
        free(f.name);
        goto nomem;
    }
    memcpy(f.line, text, name_len);
    memcpy(f.line + name_len, ": ", 2);
    memcpy(f.line + name_len + 2, v, value_len);
    memcpy(f.line + name_len + 2 + value_len, "\r\n", 3);
    for (size_t i = 0; i < name_len; i++)
        f.name[i] = (char)tolower((unsigned char)text[i]);
    f.name[name_len] = '\0';
    /* Earlier rules' fields of this name are replaced when this rule matches too. */
    uint64_t me = (uint64_t)1 << (h->nrules - 1);
    for (size_t i = 0; i + 1 < h->nrules; i++)
        for (size_t j = 0; j < h->rules[i].nfields; j++)
            if (strcmp(h->rules[i].fields[j].name, f.name) == 0)
                h->rules[i].fields[j].replaced_by |= me;
    r->fields[r->nfields++] = f;
    h->bytes += line_len;
    return 0;
nomem:
    *why = "out of memory";
    return -1;
}

static bool str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

bool headers_equal(const struct headers *a, const struct headers *b)
{
    size_t na = a != NULL ? a->nrules : 0, nb = b != NULL ? b->nrules : 0;

    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        const struct rule *ra = &a->rules[i], *rb = &b->rules[i];
        if (!str_eq(ra->prefix, rb->prefix) || !str_eq(ra->extension, rb->extension) ||
            ra->error_pages != rb->error_pages || ra->nfields != rb->nfields)
            return false;
        for (size_t j = 0; j < ra->nfields; j++)
            if (strcmp(ra->fields[j].line, rb->fields[j].line) != 0)
                return false;
    }
    return true;
}

uint64_t headers_match(const struct headers *h, const char *path, size_t path_len, const char *file,
                       size_t file_len, bool error)
{
    uint64_t mask = 0;

    if (h == NULL)
        return 0;
    for (size_t i = 0; i < h->nrules; i++) {
        const struct rule *r = &h->rules[i];
        if (error && !r->error_pages)
            continue;
        if (r->prefix != NULL &&
            (path == NULL || path_len < r->prefix_len || memcmp(path, r->prefix, r->prefix_len)))
            continue;
        if (r->extension != NULL &&
            (file == NULL || file_len <= r->extension_len ||
             strncasecmp(file + file_len - r->extension_len, r->extension, r->extension_len) ||
             file[file_len - r->extension_len - 1] == '/'))
            continue;
        mask |= (uint64_t)1 << i;
    }
    return mask;
}

size_t headers_size(const struct headers *h)
{
    return h != NULL ? h->bytes : 0;
}

size_t headers_write(const struct headers *h, uint64_t mask, char *out)
{
    size_t n = 0;

    for (size_t i = 0; h != NULL && i < h->nrules; i++) {
        if (!(mask & ((uint64_t)1 << i)))
            continue;
        for (size_t j = 0; j < h->rules[i].nfields; j++) {
            const struct field *f = &h->rules[i].fields[j];
            if (f->replaced_by & mask)
                continue;
            memcpy(out + n, f->line, f->len);
            n += f->len;
        }
    }
    return n;
}

/* Whether type[0..len) ends with suffix (any case). */
static bool ends_with(const char *type, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && strncasecmp(type + len - n, suffix, n) == 0;
}

bool headers_charset_applies(const char *type)
{
    size_t len;

    if (type == NULL || strchr(type, ';') != NULL)
        return false;
    len = strlen(type);
    if (strncasecmp(type, "text/", 5) == 0)
        return true;
    static const char *const app[] = {
        "application/javascript", "application/ecmascript", "application/x-javascript",
        "application/json",       "application/xml",
    };
    for (size_t i = 0; i < sizeof app / sizeof app[0]; i++)
        if (strcasecmp(type, app[i]) == 0)
            return true;
    return ends_with(type, len, "+json") || ends_with(type, len, "+xml");
}
