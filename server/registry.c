/* registry - loads plugins with dlopen, checks their descriptor and ABI, maps names to
 * loaded plugins. Main thread only; the loaded struct plugin entries never move, so workers
 * read them without locks once startup is over. */
#include "registry.h"

#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct registry {
    const struct lp_host *host;
    struct plugin **items; /* pointers, so a struct plugin never moves when the array grows */
    size_t n, cap;
};

/* What registry_load works on while it checks one spec; freed or moved into a plugin. */
struct candidate {
    char *name;       /* NAME as the user wrote it (a short name or a path) */
    const char *args; /* points into the spec: after ':' or "" */
    char *path;       /* the file found for NAME */
    char *real;       /* realpath(path): what is checked and opened */
    void *handle;
    const struct lp_plugin *desc;
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

struct registry *registry_new(const struct lp_host *host)
{
    struct registry *r = calloc(1, sizeof *r);
    if (r)
        r->host = host;
    return r;
}

struct plugin *registry_find(struct registry *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i]->desc->name, name) == 0)
            return r->items[i];
    return NULL;
}

size_t registry_count(const struct registry *r)
{
    return r->n;
}

struct plugin *registry_at(struct registry *r, size_t i)
{
    return i < r->n ? r->items[i] : NULL;
}

/* Lists dirs as "a, b" into buf for the not-found message. */
static const char *join_dirs(const char *const *dirs, size_t ndirs, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ndirs && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", dirs[i]);
    return ndirs ? buf : "(no plugin directory)";
}

/* Sets c->path to the file NAME names: itself when it holds a '/', else the first
 * DIR/NAME.so that exists. */
static int find_file(struct candidate *c, const char *const *dirs, size_t ndirs, char *err,
                     size_t errlen)
{
    struct stat st;
    if (strchr(c->name, '/')) {
        if (stat(c->name, &st) < 0)
            return fail(err, errlen, -errno, "plugin %s: %s", c->name, strerror(errno));
        return (c->path = strdup(c->name)) ? 0 : -ENOMEM;
    }
    for (size_t i = 0; i < ndirs; i++) {
        if (asprintf(&c->path, "%s/%s.so", dirs[i], c->name) < 0)
            return c->path = NULL, -ENOMEM;
        if (stat(c->path, &st) == 0)
            return 0;
        free(c->path);
        c->path = NULL;
    }
    char list[1024];
    return fail(err, errlen, -ENOENT, "plugin %s: not found in %s", c->name,
                join_dirs(dirs, ndirs, list, sizeof list));
}

/* Refuses `what` when anyone may write it: whoever can replace the file, or a file in its
 * directory, can run code inside the server. No sticky-bit exception: /tmp is not a plugin
 * directory. */
static int check_writable(const struct candidate *c, const char *what, char *err, size_t errlen)
{
    struct stat st;
    if (stat(what, &st) < 0)
        return fail(err, errlen, -errno, "plugin %s: %s: %s", c->path, what, strerror(errno));
    if (st.st_mode & S_IWOTH)
        return fail(err, errlen, -EPERM, "plugin %s: refusing to load: %s is world-writable",
                    c->path, what);
    return 0;
}

/* Resolves symlinks, then checks the file, its real directory and the directory it was
 * named in (a symlink in a world-writable directory can be swapped). */
static int check_safe(struct candidate *c, char *err, size_t errlen)
{
    char buf[PATH_MAX], named_dir[PATH_MAX];
    struct stat st;
    if (!(c->real = realpath(c->path, NULL)))
        return fail(err, errlen, -errno, "plugin %s: %s", c->path, strerror(errno));
    if (stat(c->real, &st) < 0 || !S_ISREG(st.st_mode))
        return fail(err, errlen, -EINVAL, "plugin %s: not a regular file", c->path);
    int rc = check_writable(c, c->real, err, errlen);
    snprintf(buf, sizeof buf, "%s", c->real);
    if (!rc)
        rc = check_writable(c, dirname(buf), err, errlen);
    snprintf(buf, sizeof buf, "%s", c->path);
    if (!rc && realpath(dirname(buf), named_dir))
        rc = check_writable(c, named_dir, err, errlen);
    return rc;
}

/* dlopen with RTLD_NOW so a missing symbol fails here, at startup, not mid-connection.
 * On failure nothing stays open. */
static int open_object(struct candidate *c, char *err, size_t errlen)
{
    if (!(c->handle = dlopen(c->real, RTLD_NOW | RTLD_LOCAL)))
        return fail(err, errlen, -ENOEXEC, "plugin %s: not a loadable shared object: %s", c->path,
                    dlerror());
    dlerror();
    c->desc = dlsym(c->handle, LP_PLUGIN_SYMBOL);
    if (!c->desc) {
        dlclose(c->handle);
        return fail(err, errlen, -ENOEXEC,
                    "plugin %s: no '" LP_PLUGIN_SYMBOL "' symbol (not a linepool plugin?)",
                    c->path);
    }
    return 0;
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."

static int check_desc(struct registry *r, const struct candidate *c, char *err, size_t errlen)
{
    const struct lp_plugin *d = c->desc;
    if (d->abi != LP_PLUGIN_ABI)
        return fail(err, errlen, -ENOEXEC,
                    "plugin %s: ABI version %u, this server speaks %d (rebuild it against "
                    "linepool.h)",
                    c->path, (unsigned)d->abi, LP_PLUGIN_ABI);
    if (!d->name || !d->name[0] || d->name[strspn(d->name, NAME_CHARS)])
        return fail(err, errlen, -EINVAL,
                    "plugin %s: descriptor name is missing or not made of [A-Za-z0-9._-]", c->path);
    if (!d->message)
        return fail(err, errlen, -EINVAL, "plugin %s: descriptor has no message hook", c->path);
    if (!strchr(c->name, '/') && strcmp(c->name, d->name) != 0)
        return fail(err, errlen, -EINVAL, "plugin %s: %s calls itself '%s'", c->name, c->path,
                    d->name);
    const struct plugin *other = registry_find(r, d->name);
    if (other)
        return fail(err, errlen, -EEXIST,
                    "plugin %s: a plugin named '%s' is already loaded from %s", c->name, d->name,
                    other->path);
    return 0;
}

/* Runs the load hook; its message becomes the one line of the refusal. */
static int run_load(struct registry *r, struct candidate *c, void **state, char *err, size_t errlen)
{
    char why[512] = "";
    if (!c->desc->load)
        return 0;
    int rc = c->desc->load(r->host, c->args, state, why, sizeof why);
    if (rc == 0)
        return 0;
    if (rc > 0)
        rc = -EINVAL;
    why[sizeof why - 1] = '\0';
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return fail(err, errlen, rc, "plugin %s: load failed: %s", c->name,
                why[0] ? why : strerror(-rc));
}

/* Moves the candidate into a new registry entry. */
static int add(struct registry *r, struct candidate *c, void *state, struct plugin **out)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 8;
        struct plugin **items = realloc(r->items, cap * sizeof *items);
        if (!items)
            return -ENOMEM;
        r->items = items;
        r->cap = cap;
    }
    struct plugin *p = calloc(1, sizeof *p);
    if (!p || !(p->args = strdup(c->args))) {
        free(p);
        return -ENOMEM;
    }
    p->desc = c->desc;
    p->state = state;
    p->handle = c->handle;
    p->path = c->path;
    c->path = NULL;
    r->items[r->n++] = p;
    *out = p;
    return 0;
}

static int parse_spec(struct candidate *c, const char *spec, char *err, size_t errlen)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len == 0)
        return fail(err, errlen, -EINVAL, "plugin '%s': empty name (expected NAME[:ARGS])", spec);
    c->args = colon ? colon + 1 : "";
    return (c->name = strndup(spec, len)) ? 0 : -ENOMEM;
}

static int load_one(struct registry *r, const char *spec, const char *const *dirs, size_t ndirs,
                    struct plugin **out, char *err, size_t errlen)
{
    struct candidate c = {0};
    void *state = NULL;
    int rc;
    if ((rc = parse_spec(&c, spec, err, errlen)) ||
        (rc = find_file(&c, dirs, ndirs, err, errlen)) || (rc = check_safe(&c, err, errlen)))
        goto out_free;
    if ((rc = open_object(&c, err, errlen)))
        goto out_free;
    if ((rc = check_desc(r, &c, err, errlen)) || (rc = run_load(r, &c, &state, err, errlen)))
        goto out_dlclose;
    if ((rc = add(r, &c, state, out))) {
        fail(err, errlen, rc, "plugin %s: out of memory", c.name);
        goto out_unload;
    }
    goto out_free;
out_unload:
    if (c.desc->unload)
        c.desc->unload(state);
out_dlclose:
    dlclose(c.handle);
out_free:
    free(c.name);
    free(c.path);
    free(c.real);
    return rc;
}

int registry_load(struct registry *r, const char *spec, const char *const *dirs, size_t ndirs,
                  char *err, size_t errlen)
{
    struct plugin *p;
    return load_one(r, spec, dirs, ndirs, &p, err, errlen);
}

struct plugin *registry_get(struct registry *r, const char *name, const char *const *dirs,
                            size_t ndirs, char *err, size_t errlen)
{
    struct plugin *p = registry_find(r, name);
    for (size_t i = 0; !p && strchr(name, '/') && i < r->n; i++)
        if (strcmp(r->items[i]->path, name) == 0)
            p = r->items[i];
    if (p)
        return p;
    if (strchr(name, ':')) { /* one plugin, one set of arguments: they come from --plugin */
        fail(err, errlen, 0, "plugin %s: arguments are given with --plugin NAME:ARGS", name);
        return errno = EINVAL, NULL;
    }
    int rc = load_one(r, name, dirs, ndirs, &p, err, errlen);
    return rc ? (errno = -rc, NULL) : p;
}

static void destroy(struct registry *r, int unload)
{
    if (!r)
        return;
    for (size_t i = r->n; i-- > 0;) {
        struct plugin *p = r->items[i];
        if (unload && p->desc->unload)
            p->desc->unload(p->state);
        if (unload)
            dlclose(p->handle);
        free(p->path);
        free(p->args);
        free(p);
    }
    free(r->items);
    free(r);
}

void registry_free(struct registry *r)
{
    destroy(r, 1);
}

void registry_abandon(struct registry *r)
{
    destroy(r, 0);
}
