/* registry - loads plugins with dlopen, checks their descriptor and ABI, maps names to
 * loaded plugins. Used on the main thread only (startup and shutdown). */
#ifndef LINEPOOL_REGISTRY_H
#define LINEPOOL_REGISTRY_H

#include <linepool.h>

#include "plugin_schema.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

/* One loaded plugin instance. Immutable after registry_load returns, so workers read it
 * freely. One file loaded twice (NAME@a, NAME@b) is two entries sharing a dlopen handle. */
struct plugin {
    const struct lp_plugin *desc; /* = &view */
    struct lp_plugin view;        /* the descriptor's fields its ABI minor has; the rest 0 */
    void *state;                  /* what its load hook set */
    void *handle;                 /* dlopen handle */
    char *key;                    /* its name in --listen: "counter" or "counter@a" */
    char *path;                   /* the file it came from, as found */
    char *real;                   /* realpath(path): the file actually opened */
    struct plugin_values values;  /* declared arguments, parsed (minor 1) */
    unsigned index;               /* its place in load order (per-plugin counters) */
    /* The one field that changes after load: connections whose chain holds this instance and
     * are open now (chain_open adds, chain_close subtracts; per connection, never per
     * message). */
    _Atomic uint64_t open_conns;
};

struct registry;

/* A registry that hands `host` to every plugin's load hook. The host table must outlive the
 * registry. Returns NULL with errno set. Owned by the caller (registry_free). */
struct registry *registry_new(const struct lp_host *host);

/* Loads one plugin from `spec`, "NAME[@INSTANCE][:ARGS]": NAME is a short name searched as
 * NAME.so in dirs (in order), or a path if it contains '/'. Refuses, with one line in err
 * naming the file and the cause: file not found, unsafe permissions (the file or its
 * directory is world-writable), not a loadable shared object (dlerror), no `lp_plugin`
 * symbol, another ABI major or a newer minor, missing name or message hook, a bad argument
 * table, a second plugin (or instance) of the same name, arguments that do not fit the
 * declared table, or a load hook that failed (its own message). Returns 0 or -errno. */
int registry_load(struct registry *r, const char *spec, const char *const *dirs, size_t ndirs,
                  char *err, size_t errlen);

/* The loaded plugin whose key is `name` ("counter", "counter@a"), or NULL. */
struct plugin *registry_find(struct registry *r, const char *name);

/* Like registry_find, but loads NAME with no arguments from dirs when it is not loaded yet
 * (so `--listen ...=echo` needs no `--plugin echo`). Returns NULL with err filled. */
struct plugin *registry_get(struct registry *r, const char *name, const char *const *dirs,
                            size_t ndirs, char *err, size_t errlen);

/* --list-plugins: every *.so of dirs that passes the loader's checks (no load hook runs) on
 * out: name, version, summary, path, each declared argument with its default; refusals as
 * one line each on errout. Returns 0. */
int registry_list(FILE *out, FILE *errout, const char *const *dirs, size_t ndirs);

/* Number of loaded plugins and the i-th one, in load order. */
size_t registry_count(const struct registry *r);
struct plugin *registry_at(struct registry *r, size_t i);

/* Calls every unload hook (reverse load order), dlcloses, and frees. NULL is a no-op.
 * Only after every connection has closed. */
void registry_free(struct registry *r);

#endif
