/* commands - the subcommands. Each runs with parsed options and returns the exit status. */
#ifndef LINEPOOL_CLIENT_COMMANDS_H
#define LINEPOOL_CLIENT_COMMANDS_H

#include "options.h"

/* 0 on success, 1 when the connection failed or was reset. */
int cmd_send(const struct client_opts *o);
/* 0 when everything was sent, 1 otherwise. */
int cmd_stream(const struct client_opts *o);
/* 0 when at least one request succeeded, 1 when the run failed, 2 on a setup error. */
int cmd_bench(const struct client_opts *o);
/* 0 when the merged file was written, 2 on bad input (nothing written). */
int cmd_merge(const struct client_opts *o);
/* 0 when the picture was written, 2 on bad input or a gnuplot failure. */
int cmd_plot(const struct client_opts *o);

/* Prints "linepool-client: <what> <addr>: <strerror>" style lines for the error that ended a
 * pump run. Shared by send and stream. */
void commands_report_error(const char *addr, int error, int stalled, unsigned long long sent,
                           unsigned long long total, double timeout);

#endif
