/* plugin_metrics - see plugin_metrics.h. */
#include "plugin_metrics.h"

#include "textbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int valid_name(const char *name, enum lp_metric_type type)
{
    size_t n = strlen(name);
    if (n == 0 || n > PLUGIN_METRIC_NAME || (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    int total = n > 6 && strcmp(name + n - 6, "_total") == 0;
    return type == LP_METRIC_COUNTER ? total : !total;
}

static int valid_help(const char *help)
{
    size_t n = strlen(help);
    if (n > PLUGIN_METRIC_HELP)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)help[i] < 0x20)
            return 0; /* one line; non-ASCII UTF-8 is fine */
    return 1;
}

struct lp_metric *plugin_metrics_new(struct plugin_metrics *pm, const char *instance,
                                     enum lp_metric_type type, const char *name, const char *help)
{
    if (!name || !instance || (type != LP_METRIC_COUNTER && type != LP_METRIC_GAUGE) ||
        !valid_name(name, type) || !valid_help(help ? help : "")) {
        errno = EINVAL;
        return NULL;
    }
    for (size_t i = 0; i < pm->n; i++) {
        const struct lp_metric *m = pm->items[i];
        /* the _total rule gives one name one type, so a name shared by instances is one
         * family */
        if (strcmp(m->name, name) == 0 && strcmp(m->instance, instance) == 0) {
            errno = EEXIST;
            return NULL;
        }
    }
    if (pm->n == PLUGIN_METRICS_MAX) {
        errno = ENOSPC;
        return NULL;
    }
    struct lp_metric *m = calloc(1, sizeof *m);
    if (!m) {
        errno = ENOMEM;
        return NULL;
    }
    if (!(m->instance = strdup(instance))) {
        free(m);
        errno = ENOMEM;
        return NULL;
    }
    strcpy(m->name, name);
    strcpy(m->help, help ? help : "");
    m->type = type;
    pm->items[pm->n++] = m;
    return m;
}

struct lp_metric *plugin_metrics_find(const struct plugin_metrics *pm, const char *instance,
                                      enum lp_metric_type type, const char *name)
{
    for (size_t i = 0; name && instance && i < pm->n; i++) {
        struct lp_metric *m = pm->items[i];
        if (m->type == type && strcmp(m->name, name) == 0 && strcmp(m->instance, instance) == 0)
            return m;
    }
    errno = EPERM; /* a metric new in a reloaded version needs a restart */
    return NULL;
}

void plugin_metrics_free(struct plugin_metrics *pm)
{
    for (size_t i = 0; i < pm->n; i++) {
        free(pm->items[i]->instance);
        free(pm->items[i]);
    }
    pm->n = 0;
}

static void escaped(struct textbuf *out, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\' || (quote && *s == '"'))
            textbuf_printf(out, "\\%c", *s);
        else
            textbuf_put(out, s, 1);
    }
}

void plugin_metrics_render(const struct plugin_metrics *pm, struct textbuf *out)
{
    for (size_t i = 0; i < pm->n; i++) {
        const struct lp_metric *first = pm->items[i];
        int seen = 0; /* this name was rendered with an earlier entry */
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(pm->items[j]->name, first->name) == 0;
        if (seen)
            continue;
        const char *type = first->type == LP_METRIC_COUNTER ? "counter" : "gauge";
        textbuf_printf(out, "# HELP linepool_plugin_%s ", first->name);
        escaped(out, first->help[0] ? first->help : "registered by a plugin", 0);
        textbuf_printf(out, "\n# TYPE linepool_plugin_%s %s\n", first->name, type);
        for (size_t j = i; j < pm->n; j++) {
            const struct lp_metric *m = pm->items[j];
            if (strcmp(m->name, first->name) != 0)
                continue;
            textbuf_printf(out, "linepool_plugin_%s{plugin=\"", m->name);
            escaped(out, m->instance, 1);
            textbuf_printf(out, "\"} %lld\n",
                           (long long)atomic_load_explicit(&m->value, memory_order_relaxed));
        }
    }
}
