/*
 * systemd.h - the thin layer over libsystemd: socket activation,
 * service-manager notifications and the journal backend of log.c.  Every
 * sd_* call of tinyhttpd lives in systemd.c.  Outside systemd (no
 * LISTEN_FDS, no NOTIFY_SOCKET) the notifications quietly do nothing.
 */
#ifndef TINYHTTPD_SYSTEMD_H
#define TINYHTTPD_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Take the sockets passed by the service manager (sd_listen_fds(3)); the
 * LISTEN_* variables are unset.  https[i] (for i < max) says whether socket
 * i is for HTTPS: its FileDescriptorName= (systemd.socket(5)) begins with
 * "https" or "tls".  Each must be a listening stream socket; it
 * is made non-blocking and close-on-exec.  Returns the number of sockets
 * (their fds are SD_LISTEN_FDS_START..+n-1), 0 when none were passed, or a
 * negative errno with a message in err when one is unusable.
 */
int systemd_listen_fds(bool *https, size_t max, char *err, size_t errlen);

/* First fd of the passed sockets. */
int systemd_listen_fds_start(void);

/* Whether $NOTIFY_SOCKET is set (so STATUS= updates are worth sending). */
bool systemd_notify_enabled(void);

/* READY=1 with a STATUS= line. */
void systemd_notify_ready(const char *status);

/* STATUS= alone. */
void systemd_notify_status(const char *status);

/* STOPPING=1 with a STATUS= line. */
void systemd_notify_stopping(const char *status);

/* RELOADING=1 with MONOTONIC_USEC=. */
void systemd_notify_reloading(void);

/*
 * The service watchdog's interval in microseconds (sd_watchdog_enabled(3):
 * WATCHDOG_USEC, for this process when WATCHDOG_PID is set), or 0 when no
 * watchdog is configured: then nothing is ever sent.
 */
uint64_t systemd_watchdog_usec(void);

/* WATCHDOG=1: the service is healthy (the caller decides that). */
void systemd_notify_watchdog(void);

struct log_access;

/*
 * The journal backend of log.c (sd_journal_send(3)); log.c decides what is
 * written, these only send it.  A message carries MESSAGE, PRIORITY,
 * CODE_FILE, CODE_LINE, CODE_FUNC and SYSLOG_IDENTIFIER=tinyhttpd.  An
 * access record carries a's numbers and the strings given, which the caller
 * has already escaped, one field each (see log_access in log.h).  Both
 * return 0 or a negative errno (which log.c has nowhere to report).
 */
int systemd_journal_message(int pri, const char *file, int line, const char *func, const char *msg);
int systemd_journal_access(const struct log_access *a, const char *method, const char *target,
                           const char *referer, const char *agent);

#endif
