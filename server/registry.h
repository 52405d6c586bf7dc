/* registry - loads plugins with dlopen, checks their descriptor and ABI, maps names to
 * loaded plugins. Used on the main thread only (startup and shutdown). */
#ifndef LINEPOOL_REGISTRY_H
#define LINEPOOL_REGISTRY_H

#include <linepool.h>

#include <stddef.h>

/* One loaded plugin. Immutable after registry_load returns, so workers read it freely. */
struct plugin {
    const struct lp_plugin *desc; /* the exported descriptor, inside the loaded object */
    void *state;                  /* what its load hook set */
    void *handle;                 /* dlopen handle */
    char *path;                   /* the file it came from */
    char *args;                   /* the argument string given to load ("" when none) */
};

struct registry;

/* A registry that hands `host` to every plugin's load hook. The host table must outlive the
 * registry. Returns NULL with errno set. Owned by the caller (registry_free). */
struct registry *registry_new(const struct lp_host *host);

/* Loads one plugin from `spec`, "NAME[:ARGS]": NAME is a short name searched as NAME.so in
 * dirs (in order), or a path if it contains '/'. Refuses, with one line in err naming the
 * file and the cause: file not found, unsafe permissions (the file or its directory is
 * world-writable), not a loadable shared object (dlerror), no `lp_plugin` symbol, ABI
 * mismatch, missing name or message hook, a second plugin of the same name, or a load hook
 * that failed (its own message). Returns 0 or a negative errno. */
int registry_load(struct registry *r, const char *spec, const char *const *dirs, size_t ndirs,
                  char *err, size_t errlen);

/* The loaded plugin called `name` (its descriptor's name), or NULL. */
struct plugin *registry_find(struct registry *r, const char *name);

/* Like registry_find, but loads NAME with no arguments from dirs when it is not loaded yet
 * (so `--listen ...=echo` needs no `--plugin echo`). Returns NULL with err filled. */
struct plugin *registry_get(struct registry *r, const char *name, const char *const *dirs,
                            size_t ndirs, char *err, size_t errlen);

/* Number of loaded plugins and the i-th one, in load order. */
size_t registry_count(const struct registry *r);
struct plugin *registry_at(struct registry *r, size_t i);

/* Calls every unload hook (reverse load order), dlcloses, and frees. NULL is a no-op.
 * Only after every connection has closed. */
void registry_free(struct registry *r);

/* Like registry_free but skips unload hooks and dlclose: for a forced exit while a worker
 * may still be inside plugin code. */
void registry_abandon(struct registry *r);

#endif
