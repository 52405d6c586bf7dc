/* spread - see spread.h. */
#include "spread.h"

/* The window's width, within 1..nthreads. */
static unsigned clamped_width(const struct spread_window *w)
{
    unsigned n = w->nthreads ? w->nthreads : 1;
    return w->width < 1 ? 1 : w->width > n ? n : w->width;
}

unsigned spread_width(const struct spread_window *w)
{
    unsigned n = w->nthreads ? w->nthreads : 1;
    unsigned width = clamped_width(w);
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

/* The end of a spread for blocking handlers, once none has been seen for a while. */
static unsigned unblocked(struct spread_memory *m, unsigned width, unsigned long long now_ns)
{
    if (!m->before_blocking || now_ns - m->last_blocked_ns < SPREAD_UNBLOCK_NS)
        return width;
    unsigned back = m->before_blocking;
    m->before_blocking = 0;
    return back < width ? back : width;
}

unsigned spread_restart(struct spread_memory *m, unsigned width, unsigned long long now_ns)
{
    m->trial_from = 0;
    m->rate = 0;
    m->last_ns = 0;
    m->hold.votes = 0;
    m->blocked_streak = 0;
    return unblocked(m, width, now_ns);
}

unsigned spread_on_short(struct spread_memory *m, unsigned width, unsigned nthreads, double blocked,
                         unsigned long long now_ns)
{
    if (blocked > SPREAD_BLOCKED) {
        m->blocked_streak++;
        m->last_blocked_ns = now_ns;
    } else {
        m->blocked_streak = 0;
    }
    /* A worker asleep in a handler keeps the rest of its set waiting until the monitor hands
     * the set over, so every worker takes connections. */
    if (m->blocked_streak >= SPREAD_BLOCKED_WINDOWS && width < nthreads) {
        if (!m->before_blocking)
            m->before_blocking = width;
        m->trial_from = 0; /* the blocking decides now, not the trial */
        return spread_settle(&m->hold, width, nthreads, now_ns); /* a growth: at once */
    }
    return unblocked(m, width, now_ns);
}

/* The trial's verdict: the width to keep, or 0 while it is too early to tell. A growth that
 * paid is known as soon as SPREAD_TRIAL_PASS_NS (so a large machine grows step after step);
 * one that did not, only at SPREAD_TRIAL_NS. */
static unsigned judge_trial(struct spread_memory *m, unsigned width, unsigned long long work,
                            unsigned long long now_ns)
{
    unsigned long long ran = now_ns - m->trial_start_ns;
    if (ran < SPREAD_TRIAL_PASS_NS)
        return 0;
    double after = (double)(work - m->trial_start_work) / ((double)ran / 1e9);
    /* 10%, or half of what the added workers could give at most when that is less (60 to
     * 62 workers can add 3%, not 10) */
    double most = (double)(width - m->trial_from) / m->trial_from / 2;
    double gain = most < SPREAD_TRIAL_GAIN ? most : SPREAD_TRIAL_GAIN;
    int paid = after > 0 && after >= m->rate_before * (1 + gain);
    if (!paid && ran < SPREAD_TRIAL_NS)
        return 0;
    unsigned from = m->trial_from;
    m->trial_from = 0;
    if (paid) {
        m->backoff_ns = 0;
        return width;
    }
    m->backoff_ns = !m->backoff_ns                               ? SPREAD_BACKOFF_MIN_NS
                    : m->backoff_ns >= SPREAD_BACKOFF_MAX_NS / 2 ? SPREAD_BACKOFF_MAX_NS
                                                                 : 2 * m->backoff_ns;
    m->no_grow_until_ns = now_ns + m->backoff_ns;
    m->hold.votes = 0;
    return from < width ? from : width;
}

unsigned spread_on_long(struct spread_memory *m, const struct spread_window *w,
                        unsigned long long work, unsigned long long now_ns)
{
    int known = m->last_ns && now_ns > m->last_ns && work >= m->last_work;
    if (known) {
        double now_rate = (double)(work - m->last_work) / ((double)(now_ns - m->last_ns) / 1e9);
        m->rate = m->rate > 0 ? (m->rate + now_rate) / 2 : now_rate;
    }
    m->last_ns = now_ns;
    m->last_work = work;
    unsigned width = clamped_width(w);
    if (m->before_blocking)
        return width; /* spread for blocking handlers: spread_on_short decides */
    if (m->trial_from) {
        unsigned kept = judge_trial(m, width, work, now_ns);
        if (kept != width)
            return kept ? kept : width; /* undone, or still on trial */
    }
    unsigned wanted = spread_width(w);
    if (wanted > width) {
        /* A trial needs the rate before it: not in the first window after a restart. */
        if (now_ns < m->no_grow_until_ns || !known)
            return spread_settle(&m->hold, width, width, now_ns);
        m->trial_from = width;
        m->rate_before = m->rate;
        m->trial_start_ns = now_ns;
        m->trial_start_work = work;
    }
    return spread_settle(&m->hold, width, wanted, now_ns);
}
