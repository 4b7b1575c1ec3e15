/*
 * trigger.h - what the LD_PRELOAD shims share: whether the trigger file
 * named by an environment variable is set for this process.
 *
 * The trigger is set when the file exists and is empty, or holds the
 * calling process's decimal PID; a file naming another PID is ignored, so
 * that a daemon restarted after the fault runs normally.  Without the
 * variable, or without the file, it is not set.
 */
#ifndef TINYHTTPD_SHIM_TRIGGER_H
#define TINYHTTPD_SHIM_TRIGGER_H

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static int shim_triggered(const char *env)
{
    const char *path = getenv(env);
    if (path == NULL || *path == '\0')
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[32];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    if (n == 0)
        return 1;
    buf[n] = '\0';
    char *end;
    long pid = strtol(buf, &end, 10);
    return *end == '\0' && pid == (long)getpid();
}

#endif
