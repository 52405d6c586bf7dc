/* reload - SIGHUP reloads and the retirement of old plugin versions; see reload.h. */
#include "reload.h"

#include "chain.h"
#include "log.h"
#include "registry.h"
#include "timers.h"

#include <errno.h>
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

static void reload_one(struct reload *rl, struct plugin *p)
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
    struct plugin *fresh = NULL;
    int rc = registry_reload(rl->reg, p, rl->timeout_s, &fresh, err, sizeof err);
    if (rc) {
        rl->failures++;
        log_warn("plugin %s: reload failed, generation %u (%s) keeps serving: %s", p->key, p->gen,
                 version_of(p), err);
        return;
    }
    swap_in_chains(rl, p, fresh);
    registry_publish(rl->reg, p, fresh);
    rl->reloads++;
    registry_versions(rl->reg, fresh, &older);
    log_info("plugin %s reloaded: %s generation %u -> %s generation %u (from %s); %llu "
             "connection%s on older generations",
             fresh->key, version_of(p), p->gen, version_of(fresh), fresh->gen, fresh->real,
             (unsigned long long)older, older == 1 ? "" : "s");
}

void reload_run(struct reload *rl)
{
    reload_retire(rl); /* what already can go does not count against --max-generations */
    size_t n = registry_count(rl->reg);
    log_info("SIGHUP: reloading %zu plugin%s", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++)
        reload_one(rl, registry_at(rl->reg, i));
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
