/* config - command line to a struct. Pure: no sockets, no logging, no exit(); the caller
 * prints the error line. */
#ifndef LINEPOOL_CONFIG_H
#define LINEPOOL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct listen_spec {
    char *name;     /* NAME@ before the address, or NULL (then the bound address names it) */
    char *host;     /* as written, brackets removed: "127.0.0.1", "::1", "localhost" */
    uint16_t port;  /* 0 = any free port */
    char **plugins; /* chain, in order */
    size_t nplugins;
};

struct config {
    struct listen_spec *listens;
    size_t nlistens;
    char **plugin_specs; /* --plugin NAME[:ARGS], in order */
    size_t nplugin_specs;
    char **plugin_dirs; /* --plugin-dir, or the defaults */
    size_t nplugin_dirs;
    unsigned threads;     /* workers; 0 = number of CPUs */
    size_t max_line;      /* bytes, '\n' not counted */
    unsigned max_conns;   /* 0 = fit the fd limit */
    size_t max_output;    /* queued reply bytes before reading pauses */
    double write_timeout; /* seconds a paused (slow-reading) client may stay stuck */
    double idle_timeout;  /* seconds without traffic before a close; 0 = never */
    double drain_timeout; /* seconds granted to finish work at shutdown */
    char *admin_host;     /* --admin HOST:PORT, or NULL (no admin listener) */
    uint16_t admin_port;
    int verbosity;        /* -1 quiet, 0 normal, 1+ verbose */
    int defaults_listens; /* 1 when no --listen was given and the default set is used */
    int mode;             /* enum config_result: what main does with it */
};

enum config_result { CONFIG_RUN = 0, CONFIG_HELP = 1, CONFIG_VERSION = 2, CONFIG_LIST = 3 };

/* Parses argv into cfg (zeroed first). Returns CONFIG_RUN, CONFIG_HELP, CONFIG_VERSION or
 * CONFIG_LIST (cfg then holds the plugin dirs to show), or a negative errno with one line in
 * err. cfg owns its strings: config_free. Reads /proc/self/exe for the default plugin dir. */
int config_parse(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Parses "[NAME@]HOST:PORT=PLUGIN[,PLUGIN...]" ("[::1]:PORT=..." for IPv6). */
int config_parse_listen(struct listen_spec *out, const char *text, char *err, size_t errlen);

/* --admin's "HOST:PORT", "[IPV6]:PORT" or "PORT" (which means 127.0.0.1:PORT). 0/-EINVAL. */
int config_parse_admin(struct config *cfg, const char *text, char *err, size_t errlen);

/* "1048576", "64K", "1M", "1G", "1T" (powers of 1024; values.h grammar). 0, -EINVAL, -ERANGE. */
int config_parse_size(const char *text, size_t *out);

/* Seconds: "2", "0.5", "1500ms", "2s". Returns 0, -EINVAL or -ERANGE (over 1e9 s). */
int config_parse_seconds(const char *text, double *out);

/* Names of listeners and plugin instances: 1-CONFIG_NAME_MAX of CONFIG_NAME_CHARS. 0/-EINVAL. */
#define CONFIG_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
#define CONFIG_NAME_MAX   64
int config_check_name(const char *name, size_t len);

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
