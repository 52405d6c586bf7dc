/* spread - see spread.h. */
#include "spread.h"

unsigned spread_width(const struct spread_window *w)
{
    unsigned n = w->nthreads ? w->nthreads : 1;
    unsigned width = w->width < 1 ? 1 : w->width > n ? n : w->width;
    /* Blocking handlers: a worker asleep in one keeps the rest of its set waiting until the
     * monitor hands the set over, so every worker takes connections. */
    if (w->blocked > SPREAD_BLOCKED)
        return n;
    if (width < n && w->busy > SPREAD_GROW_BUSY * width &&
        (w->idle_cores < 0 || w->idle_cores >= SPREAD_GROW_IDLE_CORES)) {
        /* Half the idle cores at once (at least one): a 64-core machine coming under load
         * spreads in a few windows, without overshooting onto cores something else uses. */
        unsigned add = w->idle_cores < 0 ? 1 : (unsigned)(w->idle_cores / 2);
        if (add < 1)
            add = 1;
        return width + add > n ? n : width + add;
    }
    if (width > 1 && w->busy < SPREAD_SHRINK_BUSY * (width - 1))
        return width - 1;
    return width;
}

unsigned spread_settle(struct spread_hold *h, unsigned width, unsigned wanted,
                       unsigned long long now_ns)
{
    if (wanted > width) {
        h->hold_until_ns = now_ns + SPREAD_HOLD_NS;
        h->votes = 0;
        return wanted;
    }
    if (wanted == width) {
        h->votes = 0;
        return width;
    }
    if (now_ns < h->hold_until_ns || ++h->votes < SPREAD_SHRINK_WINDOWS)
        return width;
    h->votes = 0;
    return wanted;
}
