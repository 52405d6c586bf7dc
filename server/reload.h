/* reload - SIGHUP: a new version of every loaded plugin, published for new connections, and
 * the retirement of old versions once no connection holds them. Main thread only.
 *
 * Per plugin instance: the new version comes from a private copy of its file, with the same
 * arguments (or the --config file's, read again), checked like a first load (registry_reload); when
 * it loads, the listeners' chains name it for connections accepted from then on, and the version it
 * replaces retires. A connection keeps the versions it started with (or migrates, generation.h). A
 * retiring version is unloaded once no connection counts on it: its plugin timers are stopped (a
 * running callback waited for), then its unload runs, once. When a plugin already has
 * --max-generations versions loaded, its reload is refused. Every outcome is one log line
 * per plugin; nothing here can stop the server. */
#ifndef LINEPOOL_RELOAD_H
#define LINEPOOL_RELOAD_H

#include <stddef.h>
#include <stdint.h>

struct chain;
struct registry;
struct timers;

struct reload;

/* chains: every listener's chain (the array is copied; the chains must outlive it).
 * NULL + errno. */
struct reload *reload_new(struct registry *reg, struct timers *timers, struct chain *const *chains,
                          size_t nchains, unsigned max_generations, double timeout_s);
void reload_free(struct reload *rl);

/* Starts a reload of every plugin (SIGHUP) and returns: each new version's load hook runs
 * on its own thread, and reload_poll publishes it (or logs why not) once the hook returns or
 * --reload-timeout passes, so the main loop never waits on a plugin. With config_path
 * (--config FILE), the file is read again and a plugin instance it has a `plugin` line for
 * reloads with that line's arguments; the rest of the file (listeners, limits) takes effect
 * only at a restart. A SIGHUP while loads of the previous one still run is queued, once (a
 * line says so): it starts when they are settled. config_path must outlive the reload. */
void reload_run(struct reload *rl, const char *config_path);

/* Settles the loads whose hook returned or ran out of time (one line each), then starts a
 * queued reload. Each turn of the main loop; returns how many are still loading (while any
 * are, the loop looks again within 10 ms). */
size_t reload_poll(struct reload *rl, uint64_t now_ns);
size_t reload_pending(const struct reload *rl);

/* At shutdown: every load still pending is given up (one line each; a hook still running is
 * left to its thread, as after a timeout; one that returned is unloaded here), and a queued
 * reload is dropped. The old versions keep serving the drain. */
void reload_abandon(struct reload *rl);

/* Unloads the retiring versions no connection holds any more. Returns how many are still
 * retiring (the caller looks again soon while any are). */
size_t reload_retire(struct reload *rl);

/* For the exit summary: versions published, and reloads refused or failed. */
void reload_counts(const struct reload *rl, uint64_t *reloads, uint64_t *failures);

#endif
