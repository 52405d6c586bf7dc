/* registry - loads plugins with dlopen, checks their descriptor and ABI, maps names to
 * loaded plugins, and keeps the older versions a reload left serving until they retire.
 * Used on the main thread (startup, reloads, shutdown); workers only plugin_migrate_hold, the
 * admin thread only registry_visit. */
#ifndef LINEPOOL_REGISTRY_H
#define LINEPOOL_REGISTRY_H

#include <linepool.h>

#include "plugin_schema.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#include <stdatomic.h>
#include <stdint.h>

/* One loaded version of a plugin instance. Immutable after registry_load returns (but for
 * the reload fields at its end), so workers read it freely. One file loaded twice (NAME@a,
 * NAME@b) is two entries sharing a dlopen handle (of one private copy of the file, see
 * registry.c); a version loaded by a reload has its own copy and handle. */
struct plugin {
    const struct lp_plugin *desc; /* = &view */
    struct lp_plugin view;        /* the descriptor's fields its ABI minor has; the rest 0 */
    void *state;                  /* what its load hook set */
    void *handle;                 /* dlopen handle */
    char *key;                    /* its name in --listen: "counter" or "counter@a" */
    char *path;                   /* the file it came from, as found */
    char *real;                   /* realpath(path): the file its private copy was made of */
    char *copy;                   /* the private copy's name, as dlopen knows it (unlinked) */
    char *args;                   /* the argument string given to load ("" when none) */
    struct plugin_values values;  /* declared arguments, parsed (minor 1) */
    unsigned index;               /* its place in load order (per-plugin counters) */
    /* ---- generations (reload.h) ---- */
    struct registry *reg;               /* whose lock guards `successor` */
    unsigned gen;                       /* 1 at startup, +1 per version loaded by a reload */
    int migrates;                       /* has conn_export and conn_import (minor 2) */
    struct plugin *older;               /* in the registry's list of retiring versions */
    _Atomic(struct plugin *) successor; /* NULL while current; else the current version,
                                         * set under reg's lock: read per message only for a
                                         * plugin that migrates (a line written per reload) */
    char pad[64];                       /* keeps `conns` off the line read per message */
    _Atomic uint64_t conns;             /* connections holding this version: +1 at accept
                                         * (or migration in), -1 after their close hooks */
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

/* Calls f for each instance's current version, under the registry's lock, with the
 * connections held by all its versions (current and retiring): what a thread other than the
 * main one (the admin thread) uses, since a reload may retire and unload a version that
 * registry_at handed out. f must not call back into the registry. */
void registry_visit(struct registry *r,
                    void (*f)(const struct plugin *p, uint64_t conns, void *arg), void *arg);
struct plugin *registry_at(struct registry *r, size_t i);

/* ---- reload (main thread, but plugin_migrate_hold) -------------------------------------
 * A reload loads a NEW version of a loaded plugin beside the old one: from a private copy of
 * its file (glibc's dlopen hands back the already-open object for a path or a file it has
 * loaded), checked like a first load (ABI, descriptor, the same name, `args` (NULL: the
 * arguments it has), its
 * load hook bounded by timeout_s: a hook still running then is abandoned, its code left
 * mapped). Nothing is published: *fresh belongs to the caller until registry_publish.
 * Returns 0 or -errno with one line in err. */
int registry_reload(struct registry *r, struct plugin *old, const char *args, double timeout_s,
                    struct plugin **fresh, char *err, size_t errlen);

/* registry_reload in two steps, so the main thread never waits on a load hook: _start does
 * the checks up to the hook and starts the hook on its own thread (*job; 0, or -errno with
 * one line in err and no job); _finish, called again each turn of the main loop, answers
 * -EINPROGRESS while the hook runs and its deadline (now + timeout_s at the start) has not
 * passed; else it frees the job and answers as registry_reload does (-ETIMEDOUT: the hook is
 * abandoned, its code left mapped, its load undone by its thread if it ever returns).
 * _abandon gives a job up at shutdown: a finished load is unloaded and closed here, a
 * running one is left to its thread as after a timeout. */
struct reload_job;
int registry_reload_start(struct registry *r, struct plugin *old, const char *args,
                          double timeout_s, struct reload_job **job, char *err, size_t errlen);
int registry_reload_finish(struct registry *r, struct reload_job *job, uint64_t now_ns,
                           struct plugin **fresh, char *err, size_t errlen);
void registry_reload_abandon(struct reload_job *job);

/* Makes fresh the current version of old's instance: registry_find finds it, every older
 * version's successor points to it (connections that migrate move there), and old joins
 * the retiring list. Chains are the caller's (reload.c). */
void registry_publish(struct registry *r, struct plugin *old, struct plugin *fresh);

/* Versions of p's instance still loaded (current + retiring), and the connections that the
 * retiring ones hold. */
unsigned registry_versions(struct registry *r, const struct plugin *p, uint64_t *older_conns);

/* A retiring version that no connection holds any more, taken off the list (NULL: none).
 * Once taken nothing can reach it: the caller stops its timers, then registry_unload. */
struct plugin *registry_take_idle(struct registry *r);

/* How many versions are retiring. */
size_t registry_retiring(struct registry *r);

/* Runs the unload hook of a version taken by registry_take_idle, dlcloses it, frees it. */
void registry_unload(struct plugin *p);

/* Worker, at a message boundary of a connection on p whose successor is set: the current
 * version with one more connection counted on it, or NULL when p is current. */
struct plugin *plugin_migrate_hold(struct plugin *p);

/* Calls every unload hook (reverse load order), dlcloses, and frees, retiring versions
 * included. NULL is a no-op. Only after every connection has closed. */
void registry_free(struct registry *r);

#endif
