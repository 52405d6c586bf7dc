/* linepool-client: parse the command line, run one subcommand, exit with its status. */
#include "commands.h"
#include "options.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static int (*const runners[])(const struct client_opts *) = {
    [CMD_SEND] = cmd_send,   [CMD_STREAM] = cmd_stream, [CMD_BENCH] = cmd_bench,
    [CMD_MERGE] = cmd_merge, [CMD_PLOT] = cmd_plot,
};

int main(int argc, char **argv)
{
    struct client_opts o;
    char err[512] = "";
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int rc = options_parse(&o, argc, argv, ncpu > 0 ? (unsigned)ncpu : 1, err, sizeof err);
    if (rc == OPTIONS_HELP || rc == OPTIONS_VERSION) {
        if (rc == OPTIONS_HELP)
            options_usage(stdout, o.cmd);
        else
            printf("linepool-client %s\n", LP_VERSION);
        options_free(&o);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "linepool-client: %s\n", err);
        options_free(&o);
        return 2;
    }
    /* a peer that resets must cost an error count, never the process */
    signal(SIGPIPE, SIG_IGN);
    int status = runners[o.cmd](&o);
    options_free(&o);
    return status;
}
