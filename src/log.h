/*
 * log.h - diagnostics and access records.
 *
 * Messages carry a syslog priority (LOG_ERR .. LOG_DEBUG) and their source
 * location.  They go to stderr as plain text, one write(2) per line so
 * threads never interleave, or to the systemd journal with structured
 * fields.  The module keeps its settings (level, backend) in one private
 * state; every function is safe from any thread.
 *
 * How failures travel, one convention per layer (for every module):
 *  - Library modules (all of src/ but main.c) return 0 (or a count, or a
 *    value) on success and a negative errno on failure, -EINVAL for input
 *    that does not parse.  A function that allocates and returns an object
 *    returns NULL with errno set instead.  They never exit().
 *  - A message buffer (char *err, size_t errlen: one line, no newline) only
 *    at the start-up and configuration boundary, where the message is the
 *    result: conf_load, fileserve_site_new, server_new and
 *    systemd_listen_fds.  Their callers log it or print it.
 *  - Where nobody is left to return to (the event loop, the workers), the
 *    failure is logged here, once, where it happens.
 *  - main.c alone prints to stderr and turns failures into an exit status.
 */
#ifndef TINYHTTPD_LOG_H
#define TINYHTTPD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

enum log_backend { LOG_BACKEND_STDERR, LOG_BACKEND_JOURNAL };

/* Pick the backend and the most verbose priority written (default: stderr,
 * LOG_INFO).  Call from one thread before others log; log_set_level may be
 * called at any time. */
void log_setup(enum log_backend backend, int level);
void log_set_level(int level);
int log_get_level(void);
enum log_backend log_get_backend(void);

/* Whether stderr is connected to the journal ($JOURNAL_STREAM matches). */
bool log_stderr_is_journal(void);

void log_write(int pri, const char *file, int line, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define log_err(...) log_write(LOG_ERR, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARNING, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_notice(...) log_write(LOG_NOTICE, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_debug(...)                                                       \
    do {                                                                     \
        if (log_get_level() >= LOG_DEBUG)                                    \
            log_write(LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__); \
    } while (0)

/* One request, for the access log.  Strings need not be NUL-terminated and
 * may hold any bytes; they are escaped before they are written. */
struct log_access {
    const char *peer; /* "127.0.0.1" (NUL-terminated) */
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    int minor_version; /* -1 when the request line did not parse */
    int status;
    uint64_t bytes; /* body bytes sent */
    uint64_t duration_usec;
    const char *referer; /* NULL when absent */
    size_t referer_len;
    const char *user_agent; /* NULL when absent */
    size_t user_agent_len;
    const char *tls_protocol; /* "TLSv1.3" over HTTPS, NULL over plain HTTP */
    const char *tls_cipher;
};

/*
 * Write one access record: on stderr a line in the combined log format
 * (as nginx and lighttpd write it) followed by the duration in
 * microseconds; in the journal the fields REMOTE_ADDR, HTTP_METHOD,
 * HTTP_PATH, HTTP_STATUS, HTTP_BYTES, DURATION_USEC.
 */
void log_access(const struct log_access *a);

/*
 * Copy in[0..len) to out (size outsz >= 1, always NUL-terminated), escaping
 * control bytes, bytes >= 0x7f, '"' and '\\' as \xHH.  Returns the length
 * written (truncated output is cut before a partial escape).
 */
size_t log_escape(char *out, size_t outsz, const char *in, size_t len);

#endif
