/*
 * systemd.h - the thin layer over libsystemd: socket activation and
 * service-manager notifications.  Every sd_* call of tinyhttpd lives in
 * systemd.c.  Outside systemd (no LISTEN_FDS, no NOTIFY_SOCKET) every
 * function quietly does nothing.
 */
#ifndef TINYHTTPD_SYSTEMD_H
#define TINYHTTPD_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Take the sockets passed by the service manager (sd_listen_fds(3)); the
 * LISTEN_* variables are unset.  Each must be a listening stream socket; it
 * is made non-blocking and close-on-exec.  Returns the number of sockets
 * (their fds are SD_LISTEN_FDS_START..+n-1), 0 when none were passed, or a
 * negative errno with a message in err when one is unusable.
 */
int systemd_listen_fds(char *err, size_t errlen);

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

#endif
