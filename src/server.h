/*
 * server.h - the daemon: listeners, the event loop, the pool, signals,
 * reload and graceful shutdown.
 */
#ifndef TINYHTTPD_SERVER_H
#define TINYHTTPD_SERVER_H

#include <stddef.h>

struct conf;
struct server;

/*
 * Set up everything that may need privileges: take the sockets passed by
 * systemd or bind the configured addresses, and open the document root.
 * Takes ownership of *conf (it is freed by server_free).  Returns NULL and
 * writes a message to err on failure.
 */
struct server *server_new(struct conf *conf, char *err, size_t errlen);

/*
 * Start the pool and serve until SIGTERM or SIGINT, then shut down
 * gracefully: stop accepting, finish the requests in flight (bounded by
 * shutdown_timeout), drain the queue, join every worker.  SIGHUP reloads
 * the configuration file.  The caller must have blocked SIGTERM, SIGINT
 * and SIGHUP in every thread (they are read from a signalfd).  Returns 0
 * after an orderly shutdown, -1 when the server could not start or the
 * event loop failed (the caller exits non-zero).
 */
int server_run(struct server *s);

void server_free(struct server *s);

#endif
