/* config - the command line and the config file to a struct, through one option table
 * (config.c; opt.h). Pure but for reading the config file and /proc/self/exe: no sockets, no
 * logging, no exit(); the caller prints the error line. */
#ifndef LINEPOOL_CONFIG_H
#define LINEPOOL_CONFIG_H

#include "listen_spec.h"
#include "opt.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cidr;

struct config {
    struct listen_spec *listens;
    size_t nlistens;
    char **plugin_specs; /* --plugin NAME[:ARGS], in order */
    size_t nplugin_specs;
    char **plugin_dirs; /* --plugin-dir, or the defaults */
    size_t nplugin_dirs;
    char *config_path;        /* --config FILE, or NULL */
    unsigned threads;         /* workers; 0 = number of CPUs */
    int spread_all;           /* --spread all: every worker takes connections from the start */
    size_t max_line;          /* bytes, '\n' not counted */
    unsigned max_conns;       /* 0 = fit the fd limit */
    size_t max_output;        /* queued reply bytes before reading pauses */
    double write_timeout;     /* seconds a paused (slow-reading) client may stay stuck */
    double idle_timeout;      /* seconds without traffic before a close; 0 = never */
    double drain_timeout;     /* seconds granted to finish work at shutdown */
    unsigned max_generations; /* versions of one plugin loaded before SIGHUP refuses */
    double upgrade_timeout;   /* seconds a SIGUSR2 upgrade's new process has to be ready */
    double reload_timeout;    /* seconds a reloaded plugin's load hook may take */
    char *admin_host;         /* --admin HOST:PORT, or NULL (no admin listener) */
    uint16_t admin_port;
    struct cidr *proxy_trusted; /* --proxy-trusted: who may send a PROXY header */
    size_t nproxy_trusted;
    double proxy_timeout; /* seconds for a +proxy connection's header to arrive */
    int verbosity;        /* -1 quiet, 0 normal, 1+ verbose */
    int mode;             /* enum config_result: what main does with it */
};

enum config_result {
    CONFIG_RUN = 0,
    CONFIG_HELP = 1,
    CONFIG_VERSION = 2,
    CONFIG_LIST = 3,
    CONFIG_CHECK = 4, /* --check-config: validate (plugins too), print, exit 0 */
};

/* Parses argv, and the file of its --config FILE, into a fresh cfg (zeroed first): table
 * defaults, then the file, then the command line, which overrides the file; a repeatable
 * option given on the command line (--listen, --plugin, --plugin-dir) replaces the file's
 * list instead of adding to it. Returns CONFIG_RUN, CONFIG_HELP, CONFIG_VERSION, CONFIG_LIST,
 * CONFIG_CHECK, or a negative errno with one line in err (a file's error is "FILE:LINE: ...").
 * cfg owns its strings: config_free, also after an error. Reads /proc/self/exe for the
 * default plugin dir. Safe to call again (a SIGHUP reload) on the main thread. */
int config_parse(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Config-file text alone (as with --config PATH and no other option) into a fresh cfg.
 * For tests and the fuzzer; same results as config_parse. */
int config_parse_text(struct config *cfg, const char *path, const char *text, size_t len, char *err,
                      size_t errlen);

/* The config file at `path` alone, re-read on a thread that must not block (SIGHUP): a
 * regular file only (a FIFO, a directory or a device is "PATH: not a regular file" or
 * "PATH: Is a directory"), at most OPT_FILE_MAX bytes, through the same reader and parser
 * as config_parse. Same results and ownership as config_parse_text. */
int config_parse_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* The server's option table (for tests and the help text). */
const struct opt_table *config_options(void);

/* The default plugin directory of a server binary at `exe` (an absolute path): the build
 * tree's plugins for the binary in the build tree, else EXE_DIR/LP_REL_PLUGIN_DIR (so an
 * installed tree finds its own plugins wherever it was installed or moved to). Pure. */
int config_default_plugin_dir(const char *exe, char *out, size_t len);

/* Usage text, ending with the plugin directories in effect (cfg may be NULL). */
void config_usage(FILE *out, const struct config *cfg);
/* "Plugin directories: A B" */
void config_print_dirs(FILE *out, const struct config *cfg);
void config_free(struct config *cfg);

#endif
