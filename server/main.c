/* linepool-server: parse the command line (and --config file), start, serve until a signal,
 * drain, exit. */
#include "config.h"
#include "log.h"
#include "registry.h"
#include "server.h"
#include "upgrade.h"

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct config cfg;
    char err[1024] = "";
    int rc = config_parse(&cfg, argc, argv, err, sizeof err);
    if (rc == CONFIG_HELP || rc == CONFIG_VERSION || rc == CONFIG_LIST) {
        if (rc == CONFIG_HELP)
            config_usage(stdout, &cfg);
        else if (rc == CONFIG_VERSION)
            printf("linepool-server %s (plugin ABI %d.%d)\n", LP_VERSION, LP_ABI_MAJOR,
                   LP_ABI_MINOR);
        if (rc == CONFIG_VERSION)
            config_print_dirs(stdout, &cfg);
        if (rc == CONFIG_LIST)
            registry_list(stdout, stderr, (const char *const *)cfg.plugin_dirs, cfg.nplugin_dirs);
        config_free(&cfg);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "linepool-server: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    log_set_level(cfg.verbosity < 0 ? LOG_WARN : cfg.verbosity > 0 ? LOG_DEBUG : LOG_INFO);
    if (rc == CONFIG_CHECK) {
        rc = server_check(&cfg, err, sizeof err);
        if (rc)
            fprintf(stderr, "linepool-server: %s\n", err);
        else
            printf("linepool-server: configuration ok%s%s\n", cfg.config_path ? ": " : "",
                   cfg.config_path ? cfg.config_path : "");
        config_free(&cfg);
        return rc ? 2 : 0;
    }

    struct server *s = server_start(&cfg, err, sizeof err);
    if (!s) {
        fprintf(stderr, "linepool-server: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    /* The path as started, resolved now: a binary replaced on disk (the usual upgrade) is
     * what SIGUSR2 runs, while /proc/self/exe would name the old, deleted file. */
    static char exe[PATH_MAX];
    if (upgrade_resolve_exe(argv[0], exe, sizeof exe) == 0)
        server_allow_upgrade(s, exe, argv);
    int status = server_run(s);
    if (status != 0)
        _exit(status); /* a worker may still be inside a plugin: no teardown under it */
    server_free(s);
    config_free(&cfg);
    return 0;
}
