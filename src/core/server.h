/*
 * server.h - the running registrar: worker threads, the store's writer,
 * and the path of a request from transport to response.
 */
#ifndef SR_SERVER_H
#define SR_SERVER_H

#include "core/config.h"

/* Run until SIGTERM/SIGINT.  Returns the process exit status. */
int server_run(const struct cfg *c);

#endif
