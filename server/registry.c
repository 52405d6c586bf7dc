/* registry - loads plugins with dlopen, checks their descriptor and ABI, maps names to
 * loaded plugins. Main thread only; the loaded struct plugin entries never move, so workers
 * read them without locks once startup is over. */
#include "registry.h"

#include "chain.h"
#include "plugin_schema.h"

#include <dirent.h>
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
    char *inst;       /* INSTANCE after '@', or NULL */
    char *key;        /* what --listen names it by: "counter" or "counter@a" */
    const char *args; /* points into the spec: after ':' or "" */
    char *path;       /* the file found for NAME */
    char *real;       /* realpath(path): what is checked and opened */
    void *handle;
    const struct lp_plugin *desc; /* = &view once the version is known */
    struct lp_plugin view;        /* the fields its ABI minor has; the rest zero */
    struct plugin_values values;
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
        if (strcmp(r->items[i]->key, name) == 0)
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
    const struct lp_plugin *d = dlsym(c->handle, LP_PLUGIN_SYMBOL);
    if (!d) {
        dlclose(c->handle);
        return fail(err, errlen, -ENOEXEC,
                    "plugin %s: no '" LP_PLUGIN_SYMBOL "' symbol (not a linepool plugin?)",
                    c->path);
    }
    c->desc = d;
    return 0;
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."

/* Checks the version first: the fields after `message` exist only from minor 1, so they are
 * read (into c->view) only when the plugin says it has them. */
static int check_version(struct candidate *c, char *err, size_t errlen)
{
    uint32_t abi = c->desc->abi;
    unsigned major = LP_ABI_MAJOR_OF(abi), minor = LP_ABI_MINOR_OF(abi);
    if (major != LP_ABI_MAJOR || minor > LP_ABI_MINOR)
        return fail(err, errlen, -ENOEXEC,
                    "plugin %s: built for plugin ABI %u.%u, this server speaks %u.%u (%s)", c->path,
                    major, minor, LP_ABI_MAJOR, LP_ABI_MINOR,
                    major != LP_ABI_MAJOR ? "rebuild it against this server's linepool.h"
                                          : "it needs a newer server");
    memset(&c->view, 0, sizeof c->view);
    memcpy(&c->view, c->desc, minor == 0 ? offsetof(struct lp_plugin, args) : sizeof c->view);
    c->desc = &c->view;
    return 0;
}

static int check_desc(struct registry *r, struct candidate *c, char *err, size_t errlen)
{
    int rc = check_version(c, err, errlen);
    if (rc)
        return rc;
    const struct lp_plugin *d = c->desc;
    char why[256];
    if (!d->name || !d->name[0] || d->name[strspn(d->name, NAME_CHARS)])
        return fail(err, errlen, -EINVAL,
                    "plugin %s: descriptor name is missing or not made of [A-Za-z0-9._-]", c->path);
    if (!d->message)
        return fail(err, errlen, -EINVAL, "plugin %s: descriptor has no message hook", c->path);
    if (d->load && d->load_args)
        return fail(err, errlen, -EINVAL, "plugin %s: descriptor has both load and load_args",
                    c->path);
    if (plugin_schema_check(d->args, why, sizeof why))
        return fail(err, errlen, -EINVAL, "plugin %s: %s", c->path, why);
    if (!strchr(c->name, '/') && strcmp(c->name, d->name) != 0)
        return fail(err, errlen, -EINVAL, "plugin %s: %s calls itself '%s'", c->name, c->path,
                    d->name);
    if (!r)
        return 0;
    if (asprintf(&c->key, "%s%s%s", d->name, c->inst ? "@" : "", c->inst ? c->inst : "") < 0)
        return c->key = NULL, -ENOMEM;
    const struct plugin *other = registry_find(r, c->key);
    if (other)
        return fail(err, errlen, -EEXIST,
                    "plugin %s: a plugin named '%s' is already loaded from %s", c->name, c->key,
                    other->path);
    return 0;
}

/* Declared arguments are parsed here, before any plugin code runs for this instance. */
static int parse_args(struct candidate *c, char *err, size_t errlen)
{
    char why[512];
    if (!c->desc->args && !c->desc->load_args)
        return 0; /* an older plugin: it parses its own text */
    int rc = plugin_schema_parse(c->desc->args, c->args, &c->values, why, sizeof why);
    return rc ? fail(err, errlen, rc, "plugin %s: %s", c->key, why) : 0;
}

/* Runs the load hook; its message becomes the one line of the refusal. */
static int run_load(struct registry *r, struct candidate *c, void **state, char *err, size_t errlen)
{
    char why[512] = "";
    const struct lp_plugin *d = c->desc;
    if (!d->load && !d->load_args)
        return 0;
    struct lp_load ld = {.size = sizeof ld,
                         .host = r->host,
                         .instance = c->key,
                         .args = c->args,
                         .values = c->values.v};
    struct chain_site site = {.name = c->key, .hook = "load"};
    chain_site_enter(&site);
    int rc = d->load_args ? d->load_args(&ld, state, why, sizeof why)
                          : d->load(r->host, c->args, state, why, sizeof why);
    chain_site_enter(NULL);
    if (rc == 0)
        return 0;
    if (rc > 0)
        rc = -EINVAL;
    why[sizeof why - 1] = '\0';
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return fail(err, errlen, rc, "plugin %s: load failed: %s", c->key,
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
    if (!p)
        return -ENOMEM;
    p->view = c->view;
    p->desc = &p->view;
    p->state = state;
    p->handle = c->handle;
    p->path = c->path;
    p->real = c->real;
    p->key = c->key;
    p->values = c->values;
    c->path = c->real = c->key = NULL;
    memset(&c->values, 0, sizeof c->values);
    p->index = (unsigned)r->n;
    r->items[r->n++] = p;
    *out = p;
    return 0;
}

static int parse_spec(struct candidate *c, const char *spec, char *err, size_t errlen)
{
    return plugin_schema_split_spec(spec, &c->name, &c->inst, &c->args, err, errlen);
}

static void candidate_free(struct candidate *c)
{
    free(c->name);
    free(c->inst);
    free(c->key);
    free(c->path);
    free(c->real);
    plugin_schema_free(&c->values);
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
    if ((rc = check_desc(r, &c, err, errlen)) || (rc = parse_args(&c, err, errlen)) ||
        (rc = run_load(r, &c, &state, err, errlen)))
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
    candidate_free(&c);
    return rc;
}

int registry_load(struct registry *r, const char *spec, const char *const *dirs, size_t ndirs,
                  char *err, size_t errlen)
{
    struct plugin *p;
    return load_one(r, spec, dirs, ndirs, &p, err, errlen);
}

/* A plugin loaded from the path in `spec` ("PATH[@INSTANCE]") as that same instance. */
static struct plugin *find_by_path(struct registry *r, const char *spec)
{
    char *path, *inst, why[8];
    const char *args;
    struct plugin *found = NULL;
    if (plugin_schema_split_spec(spec, &path, &inst, &args, why, sizeof why))
        return NULL;
    for (size_t i = 0; !found && i < r->n; i++) {
        const char *at = strchr(r->items[i]->key, '@');
        if (strcmp(r->items[i]->path, path) == 0 && (inst ? at && strcmp(at + 1, inst) == 0 : !at))
            found = r->items[i];
    }
    free(path);
    free(inst);
    return found;
}

struct plugin *registry_get(struct registry *r, const char *name, const char *const *dirs,
                            size_t ndirs, char *err, size_t errlen)
{
    struct plugin *p = registry_find(r, name);
    if (!p && strchr(name, '/') && !strchr(name, ':'))
        p = find_by_path(r, name);
    if (p)
        return p;
    if (strchr(name, ':')) { /* one plugin, one set of arguments: they come from --plugin */
        fail(err, errlen, 0, "plugin %s: arguments are given with --plugin NAME:ARGS", name);
        return errno = EINVAL, NULL;
    }
    int rc = load_one(r, name, dirs, ndirs, &p, err, errlen);
    return rc ? (errno = -rc, NULL) : p;
}

void registry_free(struct registry *r)
{
    if (!r)
        return;
    for (size_t i = r->n; i-- > 0;) {
        struct plugin *p = r->items[i];
        if (p->desc->unload) {
            struct chain_site site = {.name = p->key, .hook = "unload"};
            chain_site_enter(&site);
            p->desc->unload(p->state);
            chain_site_enter(NULL);
        }
        dlclose(p->handle);
        free(p->path);
        free(p->real);
        free(p->key);
        plugin_schema_free(&p->values);
        free(p);
    }
    free(r->items);
    free(r);
}

static int is_plugin_file(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 3 && strcmp(e->d_name + n - 3, ".so") == 0;
}

static void describe(FILE *out, const struct lp_plugin *d, const char *path)
{
    fprintf(out, "%s %s - %s\n    %s\n", d->name, d->version ? d->version : "(no version)",
            d->summary ? d->summary : "(no summary)", path);
    if (!d->args || !d->args[0].name) {
        fprintf(out, "    %s\n",
                d->args || d->load_args ? "(no arguments)" : "(arguments not declared)");
        return;
    }
    for (const struct lp_arg *a = d->args; a->name; a++) {
        char accepts[160], pair[96];
        snprintf(pair, sizeof pair, "%s=%s", a->name, a->def ? a->def : "");
        fprintf(out, "    %-20s %s; %s\n", pair, a->help ? a->help : "",
                plugin_schema_accepts(a, accepts, sizeof accepts));
    }
}

/* One file of a plugin directory: described on out, or its refusal on errout. */
static void list_one(FILE *out, FILE *errout, const char *path)
{
    char why[1024];
    struct candidate c = {0};
    if (!(c.name = strdup(path)) || !(c.path = strdup(path))) {
        candidate_free(&c);
        return;
    }
    int rc = check_safe(&c, why, sizeof why);
    if (!rc)
        rc = open_object(&c, why, sizeof why);
    if (!rc) {
        if (!(rc = check_desc(NULL, &c, why, sizeof why)))
            describe(out, c.desc, c.real);
        dlclose(c.handle);
    }
    if (rc)
        fprintf(errout, "linepool-server: skipped: %s\n", why);
    candidate_free(&c);
}

int registry_list(FILE *out, FILE *errout, const char *const *dirs, size_t ndirs)
{
    for (size_t i = 0; i < ndirs; i++) {
        struct dirent **names;
        int n = scandir(dirs[i], &names, is_plugin_file, alphasort);
        if (n < 0) {
            fprintf(errout, "linepool-server: %s: %s\n", dirs[i], strerror(errno));
            continue;
        }
        for (int k = 0; k < n; k++) {
            char path[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/%s", dirs[i], names[k]->d_name) < (int)sizeof path)
                list_one(out, errout, path);
            free(names[k]);
        }
        free(names);
    }
    return 0;
}
