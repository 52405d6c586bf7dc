/* registry - loads plugins with dlopen, checks their descriptor and ABI, maps names to
 * loaded plugins. Main thread only; the loaded struct plugin entries never move, so workers
 * read them without locks once startup is over. */
#include "registry.h"

#include "errbuf.h"

#include "chain.h"
#include "log.h"
#include "monotonic.h"
#include "plugin_schema.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct registry {
    const struct lp_host *host;
    struct plugin **items; /* pointers, so a struct plugin never moves when the array grows */
    size_t n, cap;
    pthread_mutex_t lock;    /* publish and migrate: `successor` and the counts it gates */
    struct plugin *retiring; /* older versions still loaded, newest first */
    unsigned published;      /* versions published by reloads */
};

/* What registry_load works on while it checks one spec; freed or moved into a plugin. */
struct candidate {
    char *name;       /* NAME as the user wrote it (a short name or a path) */
    char *inst;       /* INSTANCE after '@', or NULL */
    char *key;        /* what --listen names it by: "counter" or "counter@a" */
    const char *args; /* points into the spec: after ':' or "" (or to own_args) */
    char *own_args;   /* a reload's copy of the arguments: the new version keeps it */
    char *path;       /* the file found for NAME */
    char *real;       /* realpath(path): what is checked and copied */
    char *copy;       /* the private copy dlopen was given (unlinked once open) */
    void *handle;
    const struct lp_plugin *desc; /* = &view once the version is known */
    struct lp_plugin view;        /* the fields its ABI minor has; the rest zero */
    struct plugin_values values;
};

struct registry *registry_new(const struct lp_host *host)
{
    struct registry *r = calloc(1, sizeof *r);
    if (r) {
        r->host = host;
        pthread_mutex_init(&r->lock, NULL);
    }
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

void registry_visit(struct registry *r,
                    void (*f)(const struct plugin *p, uint64_t conns, void *arg), void *arg)
{
    /* publish swaps items[] and take_idle unlinks retiring versions under this lock, and a
     * version is unloaded only after take_idle: nothing visited here can be unloaded meanwhile. */
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++) {
        const struct plugin *cur = r->items[i];
        uint64_t conns = atomic_load_explicit(&cur->conns, memory_order_relaxed);
        for (const struct plugin *q = r->retiring; q; q = q->older)
            if (strcmp(q->key, cur->key) == 0)
                conns += atomic_load_explicit(&q->conns, memory_order_relaxed);
        f(cur, conns, arg);
    }
    pthread_mutex_unlock(&r->lock);
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
            return errbuf_set(err, errlen, -errno, "plugin %s: %s", c->name, strerror(errno));
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
    return errbuf_set(err, errlen, -ENOENT, "plugin %s: not found in %s", c->name,
                      join_dirs(dirs, ndirs, list, sizeof list));
}

/* Refuses `what` when anyone may write it: whoever can replace the file, or a file in its
 * directory, can run code inside the server. No sticky-bit exception: /tmp is not a plugin
 * directory. */
static int check_writable(const struct candidate *c, const char *what, char *err, size_t errlen)
{
    struct stat st;
    if (stat(what, &st) < 0)
        return errbuf_set(err, errlen, -errno, "plugin %s: %s: %s", c->path, what, strerror(errno));
    if (st.st_mode & S_IWOTH)
        return errbuf_set(err, errlen, -EPERM, "plugin %s: refusing to load: %s is world-writable",
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
        return errbuf_set(err, errlen, -errno, "plugin %s: %s", c->path, strerror(errno));
    if (stat(c->real, &st) < 0 || !S_ISREG(st.st_mode))
        return errbuf_set(err, errlen, -EINVAL, "plugin %s: not a regular file", c->path);
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
        return errbuf_set(err, errlen, -ENOEXEC, "plugin %s: not a loadable shared object: %s",
                          c->path, dlerror());
    dlerror();
    const struct lp_plugin *d = dlsym(c->handle, LP_PLUGIN_SYMBOL);
    if (!d) {
        dlclose(c->handle);
        return errbuf_set(err, errlen, -ENOEXEC,
                          "plugin %s: no '" LP_PLUGIN_SYMBOL "' symbol (not a linepool plugin?)",
                          c->path);
    }
    c->desc = d;
    return 0;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    int rc = out < 0 ? -errno : 0;
    char buf[64 * 1024];
    while (!rc) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || write(out, buf, (size_t)n) != n)
            rc = -(errno ? errno : EIO);
    }
    if (out >= 0 && close(out) < 0 && !rc)
        rc = -errno;
    close(in);
    return rc;
}

/* dlerror names the file dlopen was given: the user knows the original. */
static void name_the_original(char *err, size_t errlen, const char *copy, const char *real)
{
    char *at = errlen ? strstr(err, copy) : NULL;
    if (!at)
        return;
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", at + strlen(copy));
    snprintf(at, errlen - (size_t)(at - err), "%s%s", real, rest);
}

/* dlopens a private copy of the file: one made in a new 0700 directory under a name no
 * other load used, opened, then unlinked. glibc hands back the object it already has for a
 * path (or a file) it loaded before, so a reload of the same path would load nothing new;
 * and code mapped from the copy cannot change under the server when someone writes over
 * the original in place (cp), which would crash code mapped from it. */
static int open_private(struct candidate *c, unsigned gen, char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX], copy[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/linepool-plugin-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return errbuf_set(err, errlen, -errno, "plugin %s: cannot make a private copy in %s: %s",
                          c->path, dir, strerror(errno));
    const char *base = strrchr(c->real, '/');
    int rc = 0;
    if (snprintf(copy, sizeof copy, "%s/%u.%s", dir, gen, base ? base + 1 : c->real) >=
        (int)sizeof copy)
        rc = -ENAMETOOLONG;
    if (!rc)
        rc = copy_file(c->real, copy);
    if (rc) {
        errbuf_set(err, errlen, rc, "plugin %s: cannot copy it to %s: %s", c->path, copy,
                   strerror(-rc));
    } else {
        char *real = c->real;
        c->real = copy;
        rc = open_object(c, err, errlen);
        c->real = real;
        if (rc)
            name_the_original(err, errlen, copy, real);
        else if (!(c->copy = strdup(copy)))
            rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
    }
    unlink(copy);
    rmdir(dir);
    return rc;
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."

/* Checks the version first: the fields after `message` exist only from minor 1, so they are
 * read (into c->view) only when the plugin says it has them. */
static int check_version(struct candidate *c, char *err, size_t errlen)
{
    uint32_t abi = c->desc->abi;
    unsigned major = LP_ABI_MAJOR_OF(abi), minor = LP_ABI_MINOR_OF(abi);
    if (major != LP_ABI_MAJOR || minor > LP_ABI_MINOR)
        return errbuf_set(err, errlen, -ENOEXEC,
                          "plugin %s: built for plugin ABI %u.%u, this server speaks %u.%u (%s)",
                          c->path, major, minor, LP_ABI_MAJOR, LP_ABI_MINOR,
                          major != LP_ABI_MAJOR ? "rebuild it against this server's linepool.h"
                                                : "it needs a newer server");
    memset(&c->view, 0, sizeof c->view);
    size_t have = minor == 0   ? offsetof(struct lp_plugin, args)
                  : minor == 1 ? offsetof(struct lp_plugin, conn_export)
                               : sizeof c->view;
    memcpy(&c->view, c->desc, have);
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
        return errbuf_set(err, errlen, -EINVAL,
                          "plugin %s: descriptor name is missing or not made of [A-Za-z0-9._-]",
                          c->path);
    if (!d->message)
        return errbuf_set(err, errlen, -EINVAL, "plugin %s: descriptor has no message hook",
                          c->path);
    if (d->load && d->load_args)
        return errbuf_set(err, errlen, -EINVAL, "plugin %s: descriptor has both load and load_args",
                          c->path);
    if (plugin_schema_check(d->args, why, sizeof why))
        return errbuf_set(err, errlen, -EINVAL, "plugin %s: %s", c->path, why);
    if (!strchr(c->name, '/') && strcmp(c->name, d->name) != 0)
        return errbuf_set(err, errlen, -EINVAL, "plugin %s: %s calls itself '%s'", c->name, c->path,
                          d->name);
    if (!r)
        return 0;
    if (asprintf(&c->key, "%s%s%s", d->name, c->inst ? "@" : "", c->inst ? c->inst : "") < 0)
        return c->key = NULL, -ENOMEM;
    const struct plugin *other = registry_find(r, c->key);
    if (other)
        return errbuf_set(err, errlen, -EEXIST,
                          "plugin %s: a plugin named '%s' is already loaded from %s", c->name,
                          c->key, other->path);
    return 0;
}

/* Declared arguments are parsed here, before any plugin code runs for this instance. */
static int parse_args(struct candidate *c, char *err, size_t errlen)
{
    char why[512];
    if (!c->desc->args && !c->desc->load_args)
        return 0; /* an older plugin: it parses its own text */
    int rc = plugin_schema_parse(c->desc->args, c->args, &c->values, why, sizeof why);
    return rc ? errbuf_set(err, errlen, rc, "plugin %s: %s", c->key, why) : 0;
}

/* Runs the load hook; its message becomes the one line of the refusal. */
static int run_load(const struct lp_host *host, struct candidate *c, const char *hook, void **state,
                    char *err, size_t errlen)
{
    char why[512] = "";
    const struct lp_plugin *d = c->desc;
    if (!d->load && !d->load_args)
        return 0;
    struct lp_load ld = {.size = sizeof ld,
                         .host = host,
                         .instance = c->key,
                         .args = c->args,
                         .values = c->values.v};
    struct chain_site site = {.name = c->key, .hook = hook}; /* "load", or "reload" */
    chain_site_enter(&site);
    int rc = d->load_args ? d->load_args(&ld, state, why, sizeof why)
                          : d->load(host, c->args, state, why, sizeof why);
    chain_site_enter(NULL);
    if (rc == 0)
        return 0;
    if (rc > 0)
        rc = -EINVAL;
    why[sizeof why - 1] = '\0';
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return errbuf_set(err, errlen, rc, "plugin %s: load failed: %s", c->key,
                      why[0] ? why : strerror(-rc));
}

/* Moves the candidate into a new struct plugin (on its own cache lines: `conns` is written
 * by every accept and close). NULL when out of memory. */
static struct plugin *make_plugin(struct registry *r, struct candidate *c, void *state,
                                  unsigned gen)
{
    size_t size = (sizeof(struct plugin) + 63) / 64 * 64;
    struct plugin *p = aligned_alloc(64, size);
    if (!p)
        return NULL;
    memset(p, 0, size);
    /* The load hook saw c->args and may keep it (valid until unload), so a reload's own
     * copy moves in; a startup spec's text is the config's, copied. */
    if (!(p->args = c->own_args ? c->own_args : strdup(c->args))) {
        free(p);
        return NULL;
    }
    c->own_args = NULL;
    p->reg = r;
    p->gen = gen;
    p->migrates = c->view.conn_export && c->view.conn_import;
    p->view = c->view;
    p->desc = &p->view;
    p->state = state;
    p->handle = c->handle;
    p->path = c->path;
    p->real = c->real;
    p->copy = c->copy;
    p->key = c->key;
    p->values = c->values;
    c->path = c->real = c->key = c->copy = NULL;
    memset(&c->values, 0, sizeof c->values);
    return p;
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
    struct plugin *p = make_plugin(r, c, state, 1);
    if (!p)
        return -ENOMEM;
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
    free(c->copy);
    free(c->own_args);
    plugin_schema_free(&c->values);
}

/* At startup the instances of one file share one copy (one code, their own states, as
 * linepool.h says): a second instance opens the first one's copy again by the name glibc
 * knows it by (RTLD_NOLOAD: the file itself is gone), which counts one more reference. */
static int open_startup(struct registry *r, struct candidate *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct plugin *p = r->items[i];
        if (p->gen == 1 && p->copy && strcmp(p->real, c->real) == 0) {
            if (!(c->handle = dlopen(p->copy, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD)))
                break;
            c->desc = dlsym(c->handle, LP_PLUGIN_SYMBOL);
            if (!(c->copy = strdup(p->copy)) || !c->desc) {
                dlclose(c->handle);
                return errbuf_set(err, errlen, -ENOMEM, "out of memory");
            }
            return 0;
        }
    }
    return open_private(c, 1, err, errlen);
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
    if ((rc = open_startup(r, &c, err, errlen)))
        goto out_free;
    if ((rc = check_desc(r, &c, err, errlen)) || (rc = parse_args(&c, err, errlen)) ||
        (rc = run_load(r->host, &c, "load", &state, err, errlen)))
        goto out_dlclose;
    if ((rc = add(r, &c, state, out))) {
        errbuf_set(err, errlen, rc, "plugin %s: out of memory", c.name);
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
        errbuf_set(err, errlen, 0, "plugin %s: arguments are given with --plugin NAME:ARGS", name);
        return errno = EINVAL, NULL;
    }
    int rc = load_one(r, name, dirs, ndirs, &p, err, errlen);
    return rc ? (errno = -rc, NULL) : p;
}

/* ---- reload -------------------------------------------------------------------------- */

static void destroy_one(struct plugin *p, int unload, int say);

/* A load hook run on its own thread, so a hook that hangs costs the reload, not the server:
 * the main thread starts it and looks at it again each turn of its loop. Whoever finishes
 * last (the main thread giving up, or the hook returning late) frees it. */
struct reload_job {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC; for registry_reload's wait */
    const struct lp_host *host;
    struct candidate c;
    void *state;
    int rc, done, abandoned;
    unsigned gen;         /* the new version's generation */
    size_t index;         /* the instance's per-plugin counters */
    uint64_t deadline_ns; /* monotonic: the hook is abandoned when it runs past this */
    double timeout_s;
    char err[512];
};

static void job_free(struct reload_job *j)
{
    candidate_free(&j->c);
    pthread_cond_destroy(&j->cond);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

static void *load_main(void *arg)
{
    struct reload_job *j = arg;
    int rc = run_load(j->host, &j->c, "reload", &j->state, j->err, sizeof j->err);
    pthread_mutex_lock(&j->lock);
    j->rc = rc;
    j->done = 1;
    int abandoned = j->abandoned;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
    if (abandoned) {
        /* Too late: the reload was refused. Undo what the hook did; its code stays mapped
         * (this thread may be the last one in it, so nothing is dlclosed). */
        if (rc == 0 && j->c.desc->unload)
            j->c.desc->unload(j->state);
        job_free(j);
    }
    return NULL;
}

/* The candidate's load hook on a helper thread; the job owns the candidate from here (the
 * caller's is zeroed). NULL with a line in err when the thread cannot start (then the
 * candidate stays the caller's). */
static struct reload_job *job_start(const struct lp_host *host, struct candidate *c,
                                    double timeout_s, char *err, size_t errlen)
{
    struct reload_job *j = calloc(1, sizeof *j);
    if (!j) {
        errbuf_set(err, errlen, -ENOMEM, "plugin %s: out of memory", c->key);
        return NULL;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cond, &attr);
    pthread_condattr_destroy(&attr);
    j->host = host;
    j->c = *c;
    j->c.desc = &j->c.view; /* not into the caller's stack: the thread may outlive it */
    j->timeout_s = timeout_s;
    j->deadline_ns = monotonic_ns() + (uint64_t)(timeout_s * 1e9);
    pthread_t th;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay the signalfd's */
    int rc = pthread_create(&th, NULL, load_main, j);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        memset(&j->c, 0, sizeof j->c);
        job_free(j);
        errbuf_set(err, errlen, -rc, "plugin %s: cannot start its load: %s", c->key, strerror(rc));
        return NULL;
    }
    pthread_detach(th);
    memset(c, 0, sizeof *c);
    return j;
}

int registry_reload_start(struct registry *r, struct plugin *old, const char *args,
                          double timeout_s, struct reload_job **job, char *err, size_t errlen)
{
    struct candidate c = {0};
    int rc = -ENOMEM;
    unsigned gen = old->gen + 1;
    *job = NULL;
    for (const struct plugin *p = r->retiring; p; p = p->older)
        if (strcmp(p->key, old->key) == 0 && p->gen >= gen)
            gen = p->gen + 1;
    if (!(c.own_args = strdup(args ? args : old->args)) || !(c.name = strdup(old->path)) ||
        !(c.path = strdup(old->path)) || !(c.key = strdup(old->key))) {
        errbuf_set(err, errlen, rc, "out of memory");
        goto out_free;
    }
    c.args = c.own_args;
    if ((rc = check_safe(&c, err, errlen)) || (rc = open_private(&c, gen, err, errlen)))
        goto out_free;
    if ((rc = check_desc(NULL, &c, err, errlen)) || (rc = parse_args(&c, err, errlen)))
        goto out_dlclose;
    if (strcmp(c.desc->name, old->desc->name) != 0) {
        rc = errbuf_set(err, errlen, -EINVAL, "plugin %s: %s now calls itself '%s'", old->key,
                        c.path, c.desc->name);
        goto out_dlclose;
    }
    if (!(*job = job_start(r->host, &c, timeout_s, err, errlen))) {
        rc = -ENOMEM;
        goto out_dlclose;
    }
    (*job)->gen = gen;
    (*job)->index = old->index;
    return 0;
out_dlclose:
    dlclose(c.handle);
out_free:
    candidate_free(&c);
    return rc;
}

/* The finished job's candidate and state, and the job freed (main thread; done is set). */
static int job_take(struct reload_job *j, struct candidate *c, void **state, char *err,
                    size_t errlen)
{
    int rc = j->rc;
    *state = j->state;
    if (rc)
        snprintf(err, errlen, "%s", j->err);
    *c = j->c;
    c->desc = &c->view;
    memset(&j->c, 0, sizeof j->c);
    job_free(j);
    return rc;
}

int registry_reload_finish(struct registry *r, struct reload_job *j, uint64_t now_ns,
                           struct plugin **fresh, char *err, size_t errlen)
{
    pthread_mutex_lock(&j->lock);
    if (!j->done && now_ns < j->deadline_ns) {
        pthread_mutex_unlock(&j->lock);
        return -EINPROGRESS;
    }
    if (!j->done) {
        j->abandoned = 1; /* the thread frees it, and keeps the handle */
        double timeout_s = j->timeout_s;
        pthread_mutex_unlock(&j->lock);
        return errbuf_set(
            err, errlen, -ETIMEDOUT,
            "load hook did not return within %.3f s (--reload-timeout); abandoned, its "
            "code stays mapped",
            timeout_s);
    }
    pthread_mutex_unlock(&j->lock);
    unsigned gen = j->gen;
    size_t index = j->index;
    struct candidate c;
    void *state;
    int rc = job_take(j, &c, &state, err, errlen);
    if (rc)
        goto out_dlclose;
    if (!(*fresh = make_plugin(r, &c, state, gen))) {
        rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
        if (c.desc->unload)
            c.desc->unload(state);
        goto out_dlclose;
    }
    (*fresh)->index = index; /* the instance's per-plugin counters go on */
    goto out_free;
out_dlclose:
    dlclose(c.handle);
out_free:
    candidate_free(&c);
    return rc;
}

void registry_reload_abandon(struct reload_job *j)
{
    pthread_mutex_lock(&j->lock);
    if (!j->done) {
        j->abandoned = 1; /* the hook's thread undoes its load and frees the job */
        pthread_mutex_unlock(&j->lock);
        return;
    }
    pthread_mutex_unlock(&j->lock);
    struct candidate c;
    void *state;
    char err[sizeof j->err];
    if (job_take(j, &c, &state, err, sizeof err) == 0 && c.desc->unload)
        c.desc->unload(state);
    dlclose(c.handle);
    candidate_free(&c);
}

int registry_reload(struct registry *r, struct plugin *old, const char *args, double timeout_s,
                    struct plugin **fresh, char *err, size_t errlen)
{
    struct reload_job *j;
    int rc = registry_reload_start(r, old, args, timeout_s, &j, err, errlen);
    if (rc)
        return rc;
    struct timespec ts = {.tv_sec = (time_t)(j->deadline_ns / 1000000000u),
                          .tv_nsec = (long)(j->deadline_ns % 1000000000u)};
    pthread_mutex_lock(&j->lock);
    while (!j->done && pthread_cond_timedwait(&j->cond, &j->lock, &ts) != ETIMEDOUT)
        ;
    int done = j->done;
    pthread_mutex_unlock(&j->lock);
    return registry_reload_finish(r, j, done ? 0 : UINT64_MAX, fresh, err, errlen);
}

void registry_publish(struct registry *r, struct plugin *old, struct plugin *fresh)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i] == old)
            r->items[i] = fresh;
    old->older = r->retiring;
    r->retiring = old;
    r->published++;
    for (struct plugin *p = r->retiring; p; p = p->older)
        if (strcmp(p->key, fresh->key) == 0)
            atomic_store_explicit(&p->successor, fresh, memory_order_release);
    pthread_mutex_unlock(&r->lock);
}

unsigned registry_versions(struct registry *r, const struct plugin *p, uint64_t *older_conns)
{
    unsigned n = 1;
    *older_conns = 0;
    for (const struct plugin *q = r->retiring; q; q = q->older) {
        if (strcmp(q->key, p->key) == 0) {
            n++;
            *older_conns += atomic_load_explicit(&q->conns, memory_order_relaxed);
        }
    }
    return n;
}

struct plugin *registry_take_idle(struct registry *r)
{
    struct plugin *found = NULL;
    /* Under the lock: a migration raises only the current version's count, so a retiring
     * version seen at 0 here can never be held again. */
    pthread_mutex_lock(&r->lock);
    for (struct plugin **at = &r->retiring; *at; at = &(*at)->older) {
        if (atomic_load_explicit(&(*at)->conns, memory_order_acquire) == 0) {
            found = *at;
            *at = found->older;
            found->older = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return found;
}

size_t registry_retiring(struct registry *r)
{
    size_t n = 0;
    for (const struct plugin *p = r->retiring; p; p = p->older)
        n++;
    return n;
}

void registry_unload(struct plugin *p)
{
    destroy_one(p, 1, 1);
}

struct plugin *plugin_migrate_hold(struct plugin *p)
{
    pthread_mutex_lock(&p->reg->lock);
    struct plugin *to = atomic_load_explicit(&p->successor, memory_order_relaxed);
    if (to)
        atomic_fetch_add_explicit(&to->conns, 1, memory_order_relaxed);
    pthread_mutex_unlock(&p->reg->lock);
    return to;
}

/* With `say`, one line per version unloaded: the proof that each generation goes exactly
 * once (said for every version once a reload happened, so a refused start stays one line). */
static void destroy_one(struct plugin *p, int unload, int say)
{
    char version[64];
    snprintf(version, sizeof version, "%s", p->desc->version ? p->desc->version : "no version");
    if (unload && p->desc->unload) {
        struct chain_site site = {.name = p->key, .hook = "unload"};
        chain_site_enter(&site);
        p->desc->unload(p->state);
        chain_site_enter(NULL);
    }
    if (unload) {
        dlclose(p->handle); /* p->desc points into p->view, not into the unmapped file */
        if (say)
            log_info("plugin %s generation %u (%s) unloaded", p->key, p->gen, version);
    }
    free(p->path);
    free(p->real);
    free(p->copy);
    free(p->key);
    free(p->args);
    plugin_schema_free(&p->values);
    free(p);
}

void registry_free(struct registry *r)
{
    if (!r)
        return;
    while (r->retiring) { /* replaced versions first: the current ones see final totals */
        struct plugin *p = r->retiring;
        r->retiring = p->older;
        destroy_one(p, 1, 1);
    }
    for (size_t i = r->n; i-- > 0;)
        destroy_one(r->items[i], 1, r->published > 0);
    pthread_mutex_destroy(&r->lock);
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
