/* options - the command line of linepool-client to a struct. Pure: no sockets, no exit();
 * the caller prints the error line. Every option and its default is listed once in the
 * table in options.c (server/opt.h's entries, the value parsers of server/values.h), which
 * also generates --help. */
#ifndef LINEPOOL_CLIENT_OPTIONS_H
#define LINEPOOL_CLIENT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum client_cmd {
    CMD_NONE = 0,
    CMD_SEND,
    CMD_STREAM,
    CMD_BENCH,
    CMD_MERGE,
    CMD_PLOT,
    CMD_LAST = CMD_PLOT
};

#define OPTIONS_DEFAULT_HOST      "127.0.0.1"
#define OPTIONS_DEFAULT_TEXT      "Hello, World!"
#define OPTIONS_DEFAULT_SEND_SIZE 300000
#define OPTIONS_DEFAULT_MSG_SIZE  50
#define OPTIONS_DEFAULT_DURATION  10.0
#define OPTIONS_DEFAULT_MESSAGE   "PING"
#define OPTIONS_MAX_PIPELINE      4096
#define OPTIONS_MAX_CONNS         1000000
#define OPTIONS_MAX_THREADS       1024
#define OPTIONS_MAX_TEXT          (64u * 1024 * 1024)
#define OPTIONS_MAX_REQUEST       (64u * 1024 * 1024)
#define OPTIONS_MAX_COMMANDS      64

struct client_opts {
    enum client_cmd cmd;
    char host[256]; /* brackets removed: "127.0.0.1", "::1", "localhost" */
    uint16_t port;
    double timeout; /* seconds; per command default, see options.c */

    /* send */
    char *text;     /* owned; the message without its '\n' */
    int raw;        /* do not append '\n' */
    uint64_t size;  /* send --size / stream --size / bench --size; 0 = not given */
    int size_given; /* non-zero when --size was given */

    /* stream */
    uint64_t total;
    int tsv;

    /* bench */
    unsigned conns;
    unsigned threads;  /* resolved: never 0, never more than conns */
    double duration;   /* seconds; 0 = until -n requests are done */
    uint64_t requests; /* 0 = until -d elapses */
    char *message;     /* owned; bench request without its '\n' (NULL with --size) */
    unsigned pipeline;
    double rate; /* total requests/s, 0 = closed loop */
    int quiet;
    char *json_path;      /* owned */
    char *csv_path;       /* owned */
    char *json_out_path;  /* owned; memtier_benchmark's schema */
    char *hdr_prefix;     /* owned; .hgrm percentile files */
    char *hlog_path;      /* owned; HdrHistogram interval log */
    uint64_t start_at_ms; /* wall clock to start at (ms since epoch); 0 = now */
    /* workload (--command): templates are checked here, the file is read by bench */
    char **commands;           /* owned: --command templates, in order */
    unsigned *command_weights; /* owned: --command-ratio of each */
    unsigned ncommands;
    char *commands_file; /* owned */
    uint64_t rand_range; /* -r */
    char *key_prefix;    /* owned; default "memtier-" */
    uint64_t key_min, key_max;
    char key_pattern; /* R, S, G, Z */
    double key_median, key_stddev, zipf_exp;
    uint64_t data_size;
    char *populate;                    /* owned: template sent once per key before the run */
    int protocol;                      /* enum replies_protocol */
    double warmup;                     /* seconds of load before the measured window */
    uint64_t reconnect_interval;       /* requests per connection, then a planned reconnect */
    double conn_duration, conn_jitter; /* seconds a connection lives, and its +-jitter/2 */
    unsigned seg_i, seg_n; /* --segment i/N: this instance's share (1-based); 0/0 = all */

    /* merge */
    char *out_path; /* owned; -o */
    int relative;
    char **inputs; /* borrowed from argv */
    int ninputs;
};

enum options_result { OPTIONS_RUN = 0, OPTIONS_HELP = 1, OPTIONS_VERSION = 2 };

/* Parses argv (argv[1] is the subcommand) into o, which it zeroes first. ncpu is the default
 * for bench -t. Returns OPTIONS_RUN, OPTIONS_HELP (o->cmd tells for which command; CMD_NONE
 * for the top level) or OPTIONS_VERSION, or a negative errno with one line in err. o owns
 * its strings: options_free, also after an error. Not thread-safe (getopt). */
int options_parse(struct client_opts *o, int argc, char **argv, unsigned ncpu, char *err,
                  size_t errlen);

/* Prints the help of cmd (CMD_NONE: the overview). */
void options_usage(FILE *out, enum client_cmd cmd);

void options_free(struct client_opts *o);

#endif
