/*
 * systemd.c - socket activation and sd_notify(3) messages.
 *
 * Design: tinyhttpd does not fork (daemon(7), new-style); the service
 * manager is told READY=1 only once the listeners exist and the pool runs,
 * STOPPING=1 as soon as a shutdown begins, and RELOADING=1 / READY=1 around
 * a reload.  The notify socket is looked up on every call (sd_notify does
 * that), so the messages are simply dropped outside systemd.  The journal
 * functions are log.c's backend: the source location sent is the caller's
 * (SD_JOURNAL_SUPPRESS_LOCATION keeps libsystemd from adding this file's).
 * Functions are safe from any thread.
 */
#include "config.h"

#include "systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <inttypes.h>
#include <time.h>

#include <systemd/sd-daemon.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

int systemd_listen_fds_start(void)
{
    return SD_LISTEN_FDS_START;
}

/* Whether a socket's FileDescriptorName= says it is for HTTPS. */
static bool https_name(const char *name)
{
    return name != NULL && (strncmp(name, "https", 5) == 0 || strncmp(name, "tls", 3) == 0);
}

int systemd_listen_fds(bool *https, size_t max, char *err, size_t errlen)
{
    char **names = NULL;
    int n = sd_listen_fds_with_names(1, &names);
    if (n > 0) {
        for (int i = 0; i < n; i++) {
            if ((size_t)i < max)
                https[i] = https_name(names ? names[i] : NULL);
            free(names ? names[i] : NULL);
        }
    }
    free(names);
    if (n < 0) {
        snprintf(err, errlen, "cannot take sockets from the service manager: %s", strerror(-n));
        return n;
    }
    for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
        int r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1);
        if (r < 0) {
            snprintf(err, errlen, "passed fd %d: %s", fd, strerror(-r));
            return r;
        }
        if (r == 0) {
            snprintf(err, errlen, "passed fd %d is not a listening stream socket", fd);
            return -EINVAL;
        }
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
            int e = errno;
            snprintf(err, errlen, "passed fd %d: fcntl: %s", fd, strerror(e));
            return -e;
        }
    }
    return n;
}

bool systemd_notify_enabled(void)
{
    const char *s = getenv("NOTIFY_SOCKET");
    return s != NULL && *s != '\0';
}

static void notify(const char *msg)
{
    if (!systemd_notify_enabled())
        return;
    int r = sd_notify(0, msg);
    if (r < 0)
        log_warn("sd_notify: %s", strerror(-r));
}

void systemd_notify_ready(const char *status)
{
    char buf[512];
    snprintf(buf, sizeof buf, "READY=1\nSTATUS=%s", status);
    notify(buf);
}

void systemd_notify_status(const char *status)
{
    char buf[512];
    snprintf(buf, sizeof buf, "STATUS=%s", status);
    notify(buf);
}

void systemd_notify_stopping(const char *status)
{
    char buf[512];
    snprintf(buf, sizeof buf, "STOPPING=1\nSTATUS=%s", status);
    notify(buf);
}

void systemd_notify_reloading(void)
{
    struct timespec ts;
    char buf[128];
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    notify(buf);
}

uint64_t systemd_watchdog_usec(void)
{
    uint64_t usec = 0;
    /* 0 when WATCHDOG_USEC is unset, or WATCHDOG_PID names another process
     * (a child that inherited the variables, say). */
    int r = sd_watchdog_enabled(0, &usec);
    if (r < 0) {
        log_warn("WATCHDOG_USEC or WATCHDOG_PID is invalid (%s); not sending keep-alive pings",
                 strerror(-r));
        return 0;
    }
    return r > 0 ? usec : 0;
}

void systemd_notify_watchdog(void)
{
    notify("WATCHDOG=1");
}

int systemd_journal_message(int pri, const char *file, int line, const char *func, const char *msg)
{
    char cfile[300], cline[32];

    snprintf(cfile, sizeof cfile, "CODE_FILE=%s", file);
    snprintf(cline, sizeof cline, "CODE_LINE=%d", line);
    return sd_journal_send_with_location(cfile, cline, func, "MESSAGE=%s", msg, "PRIORITY=%d", pri,
                                         "SYSLOG_IDENTIFIER=tinyhttpd", NULL);
}

int systemd_journal_access(const struct log_access *a, const char *method, const char *target,
                           const char *referer, const char *agent)
{
    const char *version = a->minor_version < 0 ? "" : a->minor_version ? "1.1" : "1.0";
    char f[14][2300];
    struct iovec iov[14];
    int n = 0;

#define FIELD(...) snprintf(f[n], sizeof f[n], __VA_ARGS__), n++
    FIELD("MESSAGE=%s \"%s %s\" %d %" PRIu64, a->peer, method, target, a->status, a->bytes);
    FIELD("PRIORITY=%d", LOG_INFO);
    FIELD("SYSLOG_IDENTIFIER=tinyhttpd");
    FIELD("REMOTE_ADDR=%s", a->peer);
    FIELD("HTTP_METHOD=%s", method);
    FIELD("HTTP_PATH=%s", target);
    FIELD("HTTP_VERSION=%s", version);
    FIELD("HTTP_STATUS=%d", a->status);
    FIELD("HTTP_BYTES=%" PRIu64, a->bytes);
    FIELD("DURATION_USEC=%" PRIu64, a->duration_usec);
    FIELD("HTTP_REFERER=%s", referer);
    FIELD("HTTP_USER_AGENT=%s", agent);
    if (a->tls_protocol != NULL) {
        FIELD("TLS_PROTOCOL=%s", a->tls_protocol);
        FIELD("TLS_CIPHER=%s", a->tls_cipher ? a->tls_cipher : "-");
    }
#undef FIELD
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = f[i];
        iov[i].iov_len = strnlen(f[i], sizeof f[i]);
    }
    return sd_journal_sendv(iov, n);
}
