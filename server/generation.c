/* generation - connection counts on plugin versions and migration between them; see
 * generation.h. */
#include "generation.h"

#include "chain.h"
#include "log.h"
#include "registry.h"

#include <stdatomic.h>

uint32_t generation_hold(struct plugin **mine, struct plugin *const *current, size_t n)
{
    uint32_t migrates = 0;
    for (size_t i = 0; i < n; i++) {
        mine[i] = current[i];
        atomic_fetch_add_explicit(&mine[i]->conns, 1, memory_order_relaxed);
        if (mine[i]->migrates && i < 32)
            migrates |= 1u << i;
    }
    return migrates;
}

void generation_release(struct plugin *const *mine, size_t n)
{
    /* release: everything this connection did in the version's code happens before the main
     * thread sees the count reach 0 and unloads it. */
    for (size_t i = 0; i < n; i++)
        atomic_fetch_sub_explicit(&mine[i]->conns, 1, memory_order_release);
}

int generation_replaced(const struct plugin *p)
{
    return atomic_load_explicit(&((struct plugin *)p)->successor, memory_order_relaxed) != NULL;
}

/* Runs one migration hook with the crash report naming it. */
static int export_from(struct plugin *p, struct lp_conn *conn, uint64_t conn_id, void *state,
                       char *buf, size_t cap, size_t *len)
{
    struct chain_site site = {.name = p->key, .hook = "conn_export", .conn_id = conn_id};
    chain_site_enter(&site);
    int rc = p->desc->conn_export(p->state, conn, state, buf, cap, len);
    chain_site_enter(NULL);
    if (*len > cap)
        *len = cap; /* a plugin that wrote past cap broke its contract; take what fits */
    return rc;
}

static int import_into(struct plugin *p, struct lp_conn *conn, uint64_t conn_id, const char *buf,
                       size_t len, void **state)
{
    struct chain_site site = {.name = p->key, .hook = "conn_import", .conn_id = conn_id};
    chain_site_enter(&site);
    *state = NULL;
    int rc = p->desc->conn_import(p->state, conn, buf, len, state);
    chain_site_enter(NULL);
    return rc;
}

int generation_migrate(struct plugin **slot, void **state, struct lp_conn *conn, uint64_t conn_id)
{
    struct plugin *from = *slot;
    struct plugin *to = plugin_migrate_hold(from); /* counted on `to` from here */
    if (!to)
        return GEN_STAYED;
    if (!to->migrates) {
        atomic_fetch_sub_explicit(&to->conns, 1, memory_order_release);
        return GEN_PINNED;
    }
    _Alignas(max_align_t) char buf[LP_EXPORT_MIN];
    size_t len = 0;
    if (export_from(from, conn, conn_id, *state, buf, sizeof buf, &len) < 0) {
        atomic_fetch_sub_explicit(&to->conns, 1, memory_order_release);
        return GEN_STAYED;
    }
    void *fresh;
    if (import_into(to, conn, conn_id, buf, len, &fresh) == 0) {
        *state = fresh;
        *slot = to;
        log_debug("conn %llu: plugin %s moved from generation %u to %u",
                  (unsigned long long)conn_id, to->key, from->gen, to->gen);
        atomic_fetch_sub_explicit(&from->conns, 1, memory_order_release);
        return GEN_MOVED;
    }
    atomic_fetch_sub_explicit(&to->conns, 1, memory_order_release);
    if (import_into(from, conn, conn_id, buf, len, &fresh) == 0) {
        *state = fresh;
        log_warn("conn %llu: plugin %s generation %u refused its state; it stays on %u",
                 (unsigned long long)conn_id, to->key, to->gen, from->gen);
        return GEN_PINNED;
    }
    *state = NULL;
    return GEN_LOST;
}
