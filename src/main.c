/*
 * main.c - command line, start-up order and exit status.
 *
 * The only file that exits.  Order: options, configuration (fatal when
 * invalid), logging, signals blocked (so every thread inherits the mask and
 * the server reads them from a signalfd), listeners and document root
 * (which may need root), privileges dropped, then the pool and the loop.
 * Exit status: 0 after an orderly shutdown or a good -t, 1 otherwise.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "server.h"

#define DEFAULT_CONF SYSCONFDIR "/tinyhttpd.conf"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: tinyhttpd [-t] [-c FILE]\n"
            "A static-file HTTP/1.1 server.\n"
            "\n"
            "  -c, --config=FILE  read the configuration from FILE\n"
            "                     (default " DEFAULT_CONF ")\n"
            "  -t, --test         check the configuration and exit\n"
            "  -h, --help         show this help and exit\n"
            "  -V, --version      show the version and exit\n"
            "\n"
            "See tinyhttpd(8) and tinyhttpd.conf(5).\n");
}

/* Started as root: give up root for the configured user and group. */
static int drop_privileges(const struct conf *c)
{
    if (geteuid() != 0)
        return 0;
    errno = 0;
    struct passwd *pw = getpwnam(c->user);
    if (pw == NULL) {
        log_err("cannot drop privileges: user '%s': %s", c->user,
                errno ? strerror(errno) : "no such user");
        return -1;
    }
    errno = 0;
    struct group *gr = getgrnam(c->group);
    if (gr == NULL) {
        log_err("cannot drop privileges: group '%s': %s", c->group,
                errno ? strerror(errno) : "no such group");
        return -1;
    }
    if (pw->pw_uid == 0) {
        log_err("cannot drop privileges: user '%s' is root", c->user);
        return -1;
    }
    if (setgroups(1, &gr->gr_gid) < 0 || setgid(gr->gr_gid) < 0 || setuid(pw->pw_uid) < 0) {
        log_err("cannot drop privileges to %s:%s: %s", c->user, c->group, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0 || geteuid() == 0) {
        log_err("privileges could be regained after dropping them; refusing to run");
        return -1;
    }
    log_info("running as %s:%s", c->user, c->group);
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = DEFAULT_CONF;
    bool test_only = false;
    char err[1024];
    int opt;
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "test", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };

    while ((opt = getopt_long(argc, argv, "c:thV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 't':
            test_only = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tinyhttpd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 1;
    }

    struct conf *conf = calloc(1, sizeof *conf);
    if (conf == NULL) {
        fprintf(stderr, "tinyhttpd: out of memory\n");
        return 1;
    }
    if (conf_load(conf, path, err, sizeof err) < 0) {
        fprintf(stderr, "tinyhttpd: %s\n", err);
        if (test_only)
            fprintf(stderr, "tinyhttpd: configuration file %s test failed\n", path);
        free(conf);
        return 1;
    }
    if (test_only) {
        printf("tinyhttpd: configuration file %s test is successful\n", path);
        conf_free(conf);
        free(conf);
        return 0;
    }

    bool journal = conf->log_target == CONF_LOG_JOURNAL ||
                   (conf->log_target == CONF_LOG_AUTO && log_stderr_is_journal());
    log_setup(journal ? LOG_BACKEND_JOURNAL : LOG_BACKEND_STDERR, conf->log_level);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        log_err("cannot set up signals: %s", strerror(errno));
        conf_free(conf);
        free(conf);
        return 1;
    }

    log_info("tinyhttpd %s starting with %s", PACKAGE_VERSION, path);
    struct server *srv = server_new(conf, err, sizeof err);   /* owns conf from here */
    if (srv == NULL) {
        log_err("%s", err);
        return 1;
    }
    if (drop_privileges(conf) < 0) {
        server_free(srv);
        return 1;
    }
    int r = server_run(srv);
    server_free(srv);
    return r == 0 ? 0 : 1;
}
