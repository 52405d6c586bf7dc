/* reload - SIGHUP reloads and the retirement of old plugin versions; see reload.h. */
#include "reload.h"

#include "chain.h"
#include "config.h"
#include "log.h"
#include "plugin_schema.h"
#include "registry.h"
#include "timers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reload {
    struct registry *reg;
    struct timers *timers;
    struct chain **chains;
    size_t nchains;
    unsigned max_generations;
    double timeout_s;
    uint64_t reloads, failures;
    /* The reload under way: one load job per plugin whose hook still runs (main thread
     * only). A SIGHUP meanwhile is queued, once: it runs when the last job is settled. */
    struct pending {
        struct plugin *old;
        struct reload_job *job;
    } * pending;
    size_t npending;
    int queued;
    const char *queued_path;
};

struct reload *reload_new(struct registry *reg, struct timers *timers, struct chain *const *chains,
                          size_t nchains, unsigned max_generations, double timeout_s)
{
    struct reload *rl = calloc(1, sizeof *rl);
    if (!rl || !(rl->chains = calloc(nchains ? nchains : 1, sizeof *rl->chains))) {
        free(rl);
        errno = ENOMEM;
        return NULL;
    }
    memcpy(rl->chains, chains, nchains * sizeof *chains);
    rl->reg = reg;
    rl->timers = timers;
    rl->nchains = nchains;
    rl->max_generations = max_generations ? max_generations : 1;
    rl->timeout_s = timeout_s;
    return rl;
}

void reload_free(struct reload *rl)
{
    if (!rl)
        return;
    reload_abandon(rl);
    free(rl->pending);
    free(rl->chains);
    free(rl);
}

static const char *version_of(const struct plugin *p)
{
    return p->desc->version ? p->desc->version : "(no version)";
}

/* New connections get `fresh` wherever `old` was in a chain (main thread: accepts read the
 * chains on this thread only, so no reader sees a half-swapped chain). */
static void swap_in_chains(struct reload *rl, const struct plugin *old, struct plugin *fresh)
{
    for (size_t i = 0; i < rl->nchains; i++)
        for (size_t k = 0; k < rl->chains[i]->n; k++)
            if (rl->chains[i]->plugins[k] == old)
                rl->chains[i]->plugins[k] = fresh;
}

/* The arguments the re-read config file gives instance `key` (its `plugin NAME[@I]:ARGS`
 * line), or NULL when it names none: the instance keeps the arguments it has. */
static const char *args_in(const struct config *file, const char *key)
{
    const char *found = NULL;
    for (size_t i = 0; file && i < file->nplugin_specs; i++) {
        char *name, *inst, why[8], spec_key[256];
        const char *args;
        if (plugin_schema_split_spec(file->plugin_specs[i], &name, &inst, &args, why, sizeof why))
            continue;
        snprintf(spec_key, sizeof spec_key, "%s%s%s", name, inst ? "@" : "", inst ? inst : "");
        if (strcmp(spec_key, key) == 0)
            found = args; /* points into the spec, which the config owns */
        free(name);
        free(inst);
    }
    return found;
}

/* SIGHUP re-reads --config FILE for the plugins' arguments. A file that no longer parses
 * is reported and the plugins reload with the arguments they have. Returns 1 when *file
 * was filled (config_free it). */
static int reread(const char *path, struct config *file)
{
    char err[512] = "";
    int rc = config_parse_file(file, path, err, sizeof err);
    if (rc < 0) {
        log_warn("SIGHUP: %s not re-read, plugins keep their arguments: %s", path, err);
        config_free(file);
        return 0;
    }
    return 1;
}

static void refused_or_failed(struct reload *rl, const struct plugin *p, const char *err)
{
    rl->failures++;
    log_warn("plugin %s: reload failed, generation %u (%s) keeps serving: %s", p->key, p->gen,
             version_of(p), err);
}

/* Checks and starts the new version of p; its hook then runs on its own thread. */
static void start_one(struct reload *rl, struct plugin *p, const char *args)
{
    uint64_t older;
    unsigned live = registry_versions(rl->reg, p, &older);
    if (live >= rl->max_generations) {
        rl->failures++;
        log_warn("plugin %s: reload refused: %u generation%s loaded (--max-generations %u), "
                 "%llu connection%s still on older ones; generation %u (%s) keeps serving",
                 p->key, live, live == 1 ? "" : "s", rl->max_generations, (unsigned long long)older,
                 older == 1 ? "" : "s", p->gen, version_of(p));
        return;
    }
    char err[1024];
    struct reload_job *job;
    if (registry_reload_start(rl->reg, p, args, rl->timeout_s, &job, err, sizeof err)) {
        refused_or_failed(rl, p, err);
        return;
    }
    rl->pending[rl->npending++] = (struct pending){.old = p, .job = job};
}

/* A settled job: the new version published for new connections, or the old one kept. */
static void settle(struct reload *rl, struct plugin *p, int rc, struct plugin *fresh,
                   const char *err)
{
    if (rc) {
        refused_or_failed(rl, p, err);
        return;
    }
    uint64_t older;
    swap_in_chains(rl, p, fresh);
    registry_publish(rl->reg, p, fresh);
    rl->reloads++;
    registry_versions(rl->reg, fresh, &older);
    log_info("plugin %s reloaded: %s generation %u -> %s generation %u (from %s); %llu "
             "connection%s on older generations",
             fresh->key, version_of(p), p->gen, version_of(fresh), fresh->gen, fresh->real,
             (unsigned long long)older, older == 1 ? "" : "s");
}

void reload_run(struct reload *rl, const char *config_path)
{
    if (rl->npending) {
        log_info("SIGHUP: %zu plugin%s of the previous reload %s still loading; this reload %s",
                 rl->npending, rl->npending == 1 ? "" : "s", rl->npending == 1 ? "is" : "are",
                 rl->queued ? "was queued already" : "is queued and runs once they are done");
        rl->queued = 1;
        rl->queued_path = config_path;
        return;
    }
    reload_retire(rl);        /* what already can go does not count against --max-generations */
    struct config file = {0}; /* config_free'd even when the file could not be read */
    int have = config_path && reread(config_path, &file);
    size_t n = registry_count(rl->reg);
    log_info("SIGHUP: reloading %zu plugin%s%s%s", n, n == 1 ? "" : "s",
             have ? ", arguments from " : "", have ? config_path : "");
    free(rl->pending);
    if (!(rl->pending = calloc(n ? n : 1, sizeof *rl->pending))) {
        rl->failures++;
        log_warn("SIGHUP: out of memory; every plugin keeps its version");
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct plugin *p = registry_at(rl->reg, i);
        start_one(rl, p, have ? args_in(&file, p->key) : NULL);
    }
    if (have)
        config_free(&file);
}

size_t reload_poll(struct reload *rl, uint64_t now_ns)
{
    for (size_t i = 0; i < rl->npending;) {
        struct pending *q = &rl->pending[i];
        char err[1024];
        struct plugin *fresh = NULL;
        int rc = registry_reload_finish(rl->reg, q->job, now_ns, &fresh, err, sizeof err);
        if (rc == -EINPROGRESS) {
            i++;
            continue;
        }
        struct plugin *old = q->old;
        memmove(q, q + 1, (rl->npending - i - 1) * sizeof *q); /* keeps the plugins' order */
        rl->npending--;
        settle(rl, old, rc, fresh, err);
    }
    if (rl->npending == 0 && rl->queued) {
        rl->queued = 0;
        reload_run(rl, rl->queued_path);
    }
    return rl->npending;
}

size_t reload_pending(const struct reload *rl)
{
    return rl ? rl->npending : 0;
}

void reload_abandon(struct reload *rl)
{
    if (!rl || (!rl->npending && !rl->queued))
        return;
    if (rl->queued)
        log_info("SIGHUP: the queued reload is dropped: the server is stopping");
    rl->queued = 0;
    for (size_t i = 0; i < rl->npending; i++) {
        struct plugin *p = rl->pending[i].old;
        log_info("plugin %s: reload abandoned: the server is stopping; generation %u (%s) "
                 "keeps serving",
                 p->key, p->gen, version_of(p));
        registry_reload_abandon(rl->pending[i].job);
    }
    rl->npending = 0;
    free(rl->pending);
    rl->pending = NULL;
}

size_t reload_retire(struct reload *rl)
{
    struct plugin *p;
    while ((p = registry_take_idle(rl->reg))) {
        timers_forget_owner(rl->timers, p->key);
        registry_unload(p); /* logs "plugin K generation G (V) unloaded" */
    }
    return registry_retiring(rl->reg);
}

void reload_counts(const struct reload *rl, uint64_t *reloads, uint64_t *failures)
{
    *reloads = rl ? rl->reloads : 0;
    *failures = rl ? rl->failures : 0;
}
