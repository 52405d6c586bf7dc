/* chain - open, read, message and close over a listener's plugins; see chain.h. */
#include "chain.h"

#include "registry.h"

#include <errno.h>

int chain_open(const struct chain *ch, struct lp_conn *c, void **states, const char **refused_by)
{
    for (size_t i = 0; i < ch->n; i++) {
        struct plugin *p = ch->plugins[i];
        if (p->desc->open && p->desc->open(p->state, c, &states[i]) < 0) {
            *refused_by = p->desc->name;
            return -ECONNREFUSED;
        }
    }
    return 0;
}

void chain_read(const struct chain *ch, struct lp_conn *c, void **states, size_t n)
{
    for (size_t i = 0; i < ch->n; i++) {
        struct plugin *p = ch->plugins[i];
        if (p->desc->read)
            p->desc->read(p->state, c, states[i], n);
    }
}

void chain_message(const struct chain *ch, struct lp_conn *c, void **states, const char *msg,
                   size_t len)
{
    for (size_t i = 0; i < ch->n; i++) {
        struct plugin *p = ch->plugins[i];
        if (p->desc->message(p->state, c, states[i], msg, len) == LP_STOP)
            break;
    }
}

void chain_close(const struct chain *ch, struct lp_conn *c, void **states)
{
    for (size_t i = ch->n; i-- > 0;) {
        struct plugin *p = ch->plugins[i];
        if (p->desc->close)
            p->desc->close(p->state, c, states[i]);
    }
}
