/*
 * log.c - diagnostics and access records, on stderr or in the journal.
 *
 * Design: the module's only state is its settings (backend and level),
 * kept in atomics so that a reload may change the level while workers log.
 * A stderr line is formatted into a stack buffer and written with one
 * write(2), so lines from different threads never interleave.  In the
 * journal every message carries PRIORITY and its code location, and an
 * access record carries one field per part of the request, so that
 * `journalctl -u tinyhttpd HTTP_STATUS=404` finds them; this file decides
 * what goes there, and systemd.c (which holds every sd_* call) sends it.  Bytes that come
 * from a client are escaped before they reach either backend.
 */
#include "config.h"

#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "systemd.h"

static struct {
    atomic_int level;
    atomic_int backend;
} log_state = { LOG_INFO, LOG_BACKEND_STDERR };

static const char *const level_names[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

void log_setup(enum log_backend backend, int level)
{
    atomic_store(&log_state.backend, backend);
    log_set_level(level);
}

void log_set_level(int level)
{
    if (level < LOG_EMERG)
        level = LOG_EMERG;
    if (level > LOG_DEBUG)
        level = LOG_DEBUG;
    atomic_store_explicit(&log_state.level, level, memory_order_relaxed);
}

int log_get_level(void)
{
    return atomic_load_explicit(&log_state.level, memory_order_relaxed);
}

enum log_backend log_get_backend(void)
{
    return atomic_load_explicit(&log_state.backend, memory_order_relaxed);
}

bool log_stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

size_t log_escape(char *out, size_t outsz, const char *in, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (outsz == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
            if (o + 4 >= outsz)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            if (o + 1 >= outsz)
                break;
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
    return o;
}

/* Write all of buf[0..len) to stderr; short writes are retried, errors
 * dropped (there is nowhere left to report them). */
static void write_stderr(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

void log_write(int pri, const char *file, int line, const char *func, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    int saved_errno = errno;

    if (pri > log_get_level())
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    if (log_get_backend() == LOG_BACKEND_JOURNAL) {
        (void)systemd_journal_message(pri, file, line, func, msg);
    } else {
        char buf[1200];
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        int n = snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d [%s] %s\n",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, level_names[pri & 7], msg);
        if (n < 0)
            goto out;
        if ((size_t)n >= sizeof buf) {
            n = sizeof buf - 1;
            buf[n - 1] = '\n';
        }
        write_stderr(buf, (size_t)n);
    }
out:
    errno = saved_errno;
}

void log_access(const struct log_access *a)
{
    char method[64], target[2048], referer[512], agent[512];

    if (a->method_len > 0)
        log_escape(method, sizeof method, a->method, a->method_len);
    else
        strcpy(method, "-");
    log_escape(target, sizeof target, a->target ? a->target : "", a->target ? a->target_len : 0);
    if (a->referer)
        log_escape(referer, sizeof referer, a->referer, a->referer_len);
    else
        strcpy(referer, "-");
    if (a->user_agent)
        log_escape(agent, sizeof agent, a->user_agent, a->user_agent_len);
    else
        strcpy(agent, "-");

    if (log_get_backend() == LOG_BACKEND_JOURNAL) {
        (void)systemd_journal_access(a, method, target, referer, agent);
        return;
    }

    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    char line[4096], request[2200];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    if (a->minor_version >= 0)
        snprintf(request, sizeof request, "%s %s HTTP/1.%d", method, target, a->minor_version);
    else if (a->method_len > 0)
        snprintf(request, sizeof request, "%s %s", method, target);
    else
        strcpy(request, "-");
    int n = snprintf(line, sizeof line,
                     "%s - - [%02d/%s/%04d:%02d:%02d:%02d +0000] \"%s\" %d %" PRIu64
                     " \"%s\" \"%s\" %" PRIu64 "%s%s%s%s\n",
                     a->peer, tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, request, a->status, a->bytes, referer, agent, a->duration_usec,
                     a->tls_protocol ? " " : "", a->tls_protocol ? a->tls_protocol : "",
                     a->tls_protocol ? " " : "",
                     a->tls_protocol ? (a->tls_cipher ? a->tls_cipher : "-") : "");
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    write_stderr(line, (size_t)n);
}
