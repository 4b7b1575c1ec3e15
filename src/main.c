/*
 * main.c - command line, start-up order and exit status.
 *
 * The only file that exits.  Order: options, configuration (fatal when
 * invalid), logging, signals blocked (so every thread inherits the mask and
 * the server reads them from a signalfd), listeners and document root
 * (which may need root), privileges dropped, then the pool and the loop;
 * main() is those steps, one function each.
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
    fprintf(out, "Usage: tinyhttpd [-t] [-c FILE]\n"
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

/* What the command line asks for. */
struct options {
    const char *path; /* the configuration file */
    bool test_only;   /* -t: check the file and exit */
};

/*
 * --print-keys, a hidden option (not in --help or tinyhttpd(8): it is for
 * tests/docs.sh, not for users): print the configuration keys, one line
 * each in the table's order, "NAME reload" or "NAME restart".
 */
enum { OPT_PRINT_KEYS = 256 };

static int print_keys(void)
{
    for (size_t i = 0; i < conf_key_count(); i++)
        printf("%s %s\n", conf_key_name(i), conf_key_reloadable(i) ? "reload" : "restart");
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "tinyhttpd: cannot write the key list: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

/* Fill *o from argv.  Returns -1 to go on, or the exit status when the
 * command line is done (help, version, the key list, or an error). */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "test", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "print-keys", no_argument, NULL, OPT_PRINT_KEYS },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    *o = (struct options){ .path = DEFAULT_CONF };
    while ((opt = getopt_long(argc, argv, "c:thV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            o->path = optarg;
            break;
        case 't':
            o->test_only = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
            return 0;
        case OPT_PRINT_KEYS:
            return print_keys();
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
    return -1;
}

/* Load the configuration (the messages of a failure and of -t on stderr
 * and stdout).  Returns it, or NULL when the program should end with
 * *status. */
static struct conf *load_conf(const struct options *o, int *status)
{
    char err[1024];
    struct conf *conf = calloc(1, sizeof *conf);

    *status = 1;
    if (conf == NULL) {
        fprintf(stderr, "tinyhttpd: out of memory\n");
        return NULL;
    }
    if (conf_load(conf, o->path, err, sizeof err) < 0) {
        fprintf(stderr, "tinyhttpd: %s\n", err);
        if (o->test_only)
            fprintf(stderr, "tinyhttpd: configuration file %s test failed\n", o->path);
        free(conf);
        return NULL;
    }
    if (o->test_only && conf->tls_warning[0] != '\0')
        fprintf(stderr, "tinyhttpd: warning: %s\n", conf->tls_warning);
    if (o->test_only) {
        printf("tinyhttpd: configuration file %s test is successful\n", o->path);
        conf_free(conf);
        free(conf);
        *status = 0;
        return NULL;
    }
    return conf;
}

/* The log backend and level from c; SIGTERM, SIGINT and SIGHUP blocked
 * (for the server's signalfd), SIGPIPE ignored.  0 or -1 (logged). */
static int setup_process(const struct conf *c)
{
    bool journal = c->log_target == CONF_LOG_JOURNAL ||
                   (c->log_target == CONF_LOG_AUTO && log_stderr_is_journal());
    sigset_t mask;

    log_setup(journal ? LOG_BACKEND_JOURNAL : LOG_BACKEND_STDERR, c->log_level);
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        log_err("cannot set up signals: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Listeners, privileges, then the loop until shutdown.  Takes conf. */
static int serve(struct conf *conf, const char *path)
{
    char err[1024];

    log_info("tinyhttpd %s starting with %s", PACKAGE_VERSION, path);
    struct server *srv = server_new(conf, err, sizeof err); /* owns conf from here */
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

int main(int argc, char **argv)
{
    struct options o;
    struct conf *conf;
    int status;

    if ((status = parse_options(argc, argv, &o)) >= 0)
        return status;
    if ((conf = load_conf(&o, &status)) == NULL)
        return status;
    if (setup_process(conf) < 0) {
        conf_free(conf);
        free(conf);
        return 1;
    }
    return serve(conf, o.path);
}
