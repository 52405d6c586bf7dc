/* test_registry - the plugin loader against the real built plugins and deliberately broken
 * ones (tests/plugins/broken, built into LP_BROKEN_DIR): every refusal is one exact line. */
#include "cunit_main.h"
#include "fake_host.h"
#include "registry.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const build_dirs[] = {LP_BUILD_PLUGIN_DIR};
static const char *const broken_dirs[] = {"/nonexistent/plugins", LP_BROKEN_DIR};
static struct registry *reg;
static char err[1024];
static char want[3 * PATH_MAX];

static void setup(void)
{
    err[0] = '\0';
    reg = registry_new(&fake_host);
}

static void teardown(void)
{
    registry_free(reg);
    reg = NULL;
}

/* Loads spec from broken_dirs; asserts failure with exactly `want`, nothing registered. */
static void assert_refused(const char *spec, int rc)
{
    int got = registry_load(reg, spec, broken_dirs, 2, err, sizeof err);
    CU_ASSERT_EQUAL(got, rc);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    CU_ASSERT_EQUAL(registry_count(reg), 0);
}

static void short_name_found_in_plugin_dir(void)
{
    CU_ASSERT_EQUAL(registry_load(reg, "echo", build_dirs, 1, err, sizeof err), 0);
    struct plugin *p = registry_find(reg, "echo");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->path, LP_BUILD_PLUGIN_DIR "/echo.so");
    CU_ASSERT_EQUAL(registry_count(reg), 1);
    CU_ASSERT_PTR_EQUAL(registry_at(reg, 0), p);
    CU_ASSERT_PTR_NULL(registry_at(reg, 1));
}

/* Copies file `from` to `to`; returns 0 or -1. */
static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0644);
    char buf[65536];
    ssize_t n = 0;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            n = -1;
    int rc = in >= 0 && out >= 0 && n == 0 ? 0 : -1;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

/* The probe in two directories: the first directory listed wins, in either order (the
 * nonexistent one first also shows a missing directory is skipped). */
static void dirs_searched_in_order(void)
{
    char dir[] = "/tmp/lp-registry-XXXXXX", copy[sizeof dir + 16];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(copy, sizeof copy, "%s/probe.so", dir);
    CU_ASSERT_EQUAL_FATAL(copy_file(LP_BROKEN_DIR "/probe.so", copy), 0);
    const char *copy_first[] = {"/nonexistent/plugins", dir, LP_BROKEN_DIR};
    const char *copy_last[] = {"/nonexistent/plugins", LP_BROKEN_DIR, dir};
    CU_ASSERT_EQUAL(registry_load(reg, "probe", copy_first, 3, err, sizeof err), 0);
    struct plugin *p = registry_find(reg, "probe");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->path, copy);
    registry_free(reg);
    reg = registry_new(&fake_host);
    CU_ASSERT_EQUAL(registry_load(reg, "probe", copy_last, 3, err, sizeof err), 0);
    p = registry_find(reg, "probe");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->path, LP_BROKEN_DIR "/probe.so");
    unlink(copy);
    rmdir(dir);
}

static void path_with_args_passed_to_load(void)
{
    const char *spec = LP_BROKEN_DIR "/probe.so:a=1:b=,c";
    CU_ASSERT_EQUAL(registry_load(reg, spec, NULL, 0, err, sizeof err), 0);
    struct plugin *p = registry_find(reg, "probe");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL((const char *)p->state, "a=1:b=,c");
    CU_ASSERT_STRING_EQUAL(p->path, LP_BROKEN_DIR "/probe.so");
}

static void get_loads_once_and_reuses(void)
{
    struct plugin *a = registry_get(reg, "echo", build_dirs, 1, err, sizeof err);
    struct plugin *b = registry_get(reg, "echo", build_dirs, 1, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_EQUAL(a, b);
    const char *path = LP_BROKEN_DIR "/probe.so";
    a = registry_get(reg, path, NULL, 0, err, sizeof err);
    b = registry_get(reg, path, NULL, 0, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_EQUAL(a, b);
    CU_ASSERT_EQUAL(registry_count(reg), 2);
}

static void get_unknown_name_fails_with_reason(void)
{
    CU_ASSERT_PTR_NULL(registry_get(reg, "nosuch", build_dirs, 1, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "plugin nosuch: not found in " LP_BUILD_PLUGIN_DIR);
}

static void get_refuses_arguments(void)
{
    CU_ASSERT_PTR_NULL(registry_get(reg, "counter:reset=1", build_dirs, 1, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err,
                           "plugin counter:reset=1: arguments are given with --plugin NAME:ARGS");
    CU_ASSERT_EQUAL(registry_count(reg), 0);
}

static void not_found_lists_dirs(void)
{
    snprintf(want, sizeof want, "plugin nosuch: not found in /nonexistent/plugins, %s",
             LP_BROKEN_DIR);
    assert_refused("nosuch:x", -ENOENT);
    CU_ASSERT_EQUAL(registry_load(reg, "echo", NULL, 0, err, sizeof err), -ENOENT);
    CU_ASSERT_STRING_EQUAL(err, "plugin echo: not found in (no plugin directory)");
}

static void missing_path_names_it(void)
{
    snprintf(want, sizeof want, "plugin /nonexistent/x.so: No such file or directory");
    assert_refused("/nonexistent/x.so", -ENOENT);
}

static void empty_name_refused(void)
{
    snprintf(want, sizeof want, "plugin ':x': empty name (expected NAME[@INSTANCE][:ARGS])");
    assert_refused(":x", -EINVAL);
}

static void directory_is_not_a_plugin(void)
{
    snprintf(want, sizeof want, "plugin %s/: not a regular file", LP_BROKEN_DIR);
    assert_refused(LP_BROKEN_DIR "/", -EINVAL);
}

static void text_file_not_a_shared_object(void)
{
    const char *p = LP_BROKEN_DIR "/notelf.so";
    CU_ASSERT_EQUAL(registry_load(reg, "notelf", broken_dirs, 2, err, sizeof err), -ENOEXEC);
    snprintf(want, sizeof want, "plugin %s: not a loadable shared object: ", p);
    CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "invalid ELF header"));
    CU_ASSERT_EQUAL(registry_count(reg), 0);
}

static void undefined_symbol_refused_at_load(void)
{
    CU_ASSERT_EQUAL(registry_load(reg, "undefsym", broken_dirs, 2, err, sizeof err), -ENOEXEC);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "undefsym.so: not a loadable shared object: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "lp_no_such_function"));
}

static void missing_descriptor_symbol(void)
{
    snprintf(want, sizeof want,
             "plugin %s/nosym.so: no 'lp_plugin' symbol (not a linepool plugin?)", LP_BROKEN_DIR);
    assert_refused("nosym", -ENOEXEC);
}

static void abi_mismatch(void)
{
    snprintf(want, sizeof want,
             "plugin %s/oldabi.so: built for plugin ABI 0.0, this server speaks %d.%d (rebuild "
             "it against this server's linepool.h)",
             LP_BROKEN_DIR, LP_ABI_MAJOR, LP_ABI_MINOR);
    assert_refused("oldabi", -ENOEXEC);
}

static void descriptor_without_message_hook(void)
{
    snprintf(want, sizeof want, "plugin %s/nomessage.so: descriptor has no message hook",
             LP_BROKEN_DIR);
    assert_refused("nomessage", -EINVAL);
}

static void descriptor_without_name(void)
{
    snprintf(want, sizeof want,
             "plugin %s/noname.so: descriptor name is missing or not made of [A-Za-z0-9._-]",
             LP_BROKEN_DIR);
    assert_refused("noname", -EINVAL);
}

static void load_hook_failure_quotes_its_reason_on_one_line(void)
{
    snprintf(want, sizeof want, "plugin failload: load failed: refusing on purpose (args 'x=1')");
    assert_refused("failload:x=1", -EINVAL);
}

static void silent_load_failure_gets_strerror(void)
{
    snprintf(want, sizeof want, "plugin silentfail: load failed: Permission denied");
    assert_refused("silentfail", -EACCES);
}

static void short_name_must_match_descriptor_name(void)
{
    snprintf(want, sizeof want, "plugin impostor: %s/impostor.so calls itself 'echo'",
             LP_BROKEN_DIR);
    assert_refused("impostor", -EINVAL);
}

static void duplicate_name_refused(void)
{
    CU_ASSERT_EQUAL_FATAL(registry_load(reg, "echo", build_dirs, 1, err, sizeof err), 0);
    CU_ASSERT_EQUAL(registry_load(reg, LP_BROKEN_DIR "/impostor.so", NULL, 0, err, sizeof err),
                    -EEXIST);
    snprintf(want, sizeof want,
             "plugin %s/impostor.so: a plugin named 'echo' is already loaded from %s/echo.so",
             LP_BROKEN_DIR, LP_BUILD_PLUGIN_DIR);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_EQUAL(registry_load(reg, "echo", build_dirs, 1, err, sizeof err), -EEXIST);
    CU_ASSERT_EQUAL(registry_count(reg), 1);
}

/* A private directory holding a copy of probe.so; fills dir (real path) and file. */
static int make_copy(char *dir, char *file)
{
    char tmpl[] = "/tmp/lp-registry-XXXXXX", buf[65536];
    if (!mkdtemp(tmpl) || !realpath(tmpl, dir))
        return -1;
    snprintf(file, PATH_MAX, "%s/probe.so", dir);
    int in = open(LP_BROKEN_DIR "/probe.so", O_RDONLY);
    int out = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t n;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            break;
    close(in);
    close(out);
    return in >= 0 && out >= 0 ? 0 : -1;
}

static void remove_copy(const char *dir, const char *file)
{
    chmod(dir, 0700);
    unlink(file);
    rmdir(dir);
}

static void world_writable_file_refused(void)
{
    char dir[PATH_MAX], file[PATH_MAX];
    CU_ASSERT_EQUAL_FATAL(make_copy(dir, file), 0);
    CU_ASSERT_EQUAL(registry_load(reg, file, NULL, 0, err, sizeof err), 0);
    registry_free(reg);
    reg = registry_new(&fake_host);
    CU_ASSERT_EQUAL(chmod(file, 0646), 0);
    snprintf(want, sizeof want, "plugin %s: refusing to load: %s is world-writable", file, file);
    assert_refused(file, -EPERM);
    remove_copy(dir, file);
}

static void world_writable_directory_refused_even_when_sticky(void)
{
    char dir[PATH_MAX], file[PATH_MAX];
    CU_ASSERT_EQUAL_FATAL(make_copy(dir, file), 0);
    snprintf(want, sizeof want, "plugin %s: refusing to load: %s is world-writable", file, dir);
    CU_ASSERT_EQUAL(chmod(dir, 0777), 0);
    assert_refused(file, -EPERM);
    CU_ASSERT_EQUAL(chmod(dir, 01777), 0);
    assert_refused(file, -EPERM);
    const char *const dirs[] = {dir};
    snprintf(want, sizeof want, "plugin %s: refusing to load: %s is world-writable", file, dir);
    CU_ASSERT_EQUAL(registry_load(reg, "probe", dirs, 1, err, sizeof err), -EPERM);
    CU_ASSERT_STRING_EQUAL(err, want);
    remove_copy(dir, file);
}

static void symlink_in_world_writable_directory_refused(void)
{
    char dir[PATH_MAX], file[PATH_MAX], link[PATH_MAX + 16];
    CU_ASSERT_EQUAL_FATAL(make_copy(dir, file), 0);
    unlink(file);
    snprintf(link, sizeof link, "%s/probe.so", dir);
    CU_ASSERT_EQUAL(symlink(LP_BROKEN_DIR "/probe.so", link), 0);
    CU_ASSERT_EQUAL(chmod(dir, 0777), 0);
    snprintf(want, sizeof want, "plugin %s: refusing to load: %s is world-writable", link, dir);
    assert_refused(link, -EPERM);
    remove_copy(dir, link);
}

static void free_calls_unload_and_closes(void)
{
    CU_ASSERT_EQUAL(registry_load(reg, "probe", broken_dirs, 2, err, sizeof err), 0);
    CU_ASSERT_EQUAL(registry_load(reg, "echo", build_dirs, 1, err, sizeof err), 0);
    /* An extra reference keeps probe.so mapped, so its unload counter stays readable: to
     * the private copy the registry loaded (the original file is another object). */
    void *h = dlopen(registry_find(reg, "probe")->copy, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    int *unloads = dlsym(h, "probe_unloads");
    CU_ASSERT_PTR_NOT_NULL_FATAL(unloads);
    int before = *unloads;
    registry_free(reg);
    reg = NULL;
    CU_ASSERT_EQUAL(*unloads, before + 1);
    dlclose(h);
    registry_free(NULL);
}

/* A plugin built against the first header (ABI 1.0): loads; its descriptor is read only as
 * far as minor 0 has fields, the minor-1 fields read as absent. */
static void older_minor_loads(void)
{
    CU_ASSERT_EQUAL_FATAL(registry_load(reg, "v10", broken_dirs, 2, err, sizeof err), 0);
    struct plugin *p = registry_find(reg, "v10");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL(p->desc->message);
    CU_ASSERT_PTR_NULL(p->desc->args);
    CU_ASSERT_PTR_NULL(p->desc->load_args);
    CU_ASSERT_PTR_NULL(p->desc->unhandled);
    CU_ASSERT_EQUAL(p->values.n, 0);
}

/* One file, several instances: separate states and arguments, one shared object. */
static void instances_have_their_own_state(void)
{
    CU_ASSERT_EQUAL_FATAL(registry_load(reg, "probe@a:one", broken_dirs, 2, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(registry_load(reg, "probe@b:two", broken_dirs, 2, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(registry_load(reg, "probe", broken_dirs, 2, err, sizeof err), 0);
    struct plugin *a = registry_find(reg, "probe@a"), *b = registry_find(reg, "probe@b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(a->state, "one");
    CU_ASSERT_STRING_EQUAL(b->state, "two");
    CU_ASSERT_STRING_EQUAL(registry_find(reg, "probe")->state, "");
    CU_ASSERT_PTR_EQUAL(a->handle, b->handle);
    struct plugin *c = registry_get(reg, "probe@c", broken_dirs, 2, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c); /* named only in --listen: loaded with no arguments */
    CU_ASSERT_STRING_EQUAL(c->key, "probe@c");
    CU_ASSERT_PTR_EQUAL(registry_get(reg, "probe@a", broken_dirs, 2, err, sizeof err), a);
    CU_ASSERT_EQUAL(registry_count(reg), 4);
    snprintf(want, sizeof want, "plugin probe: a plugin named 'probe@a' is already loaded from %s",
             LP_BROKEN_DIR "/probe.so");
    CU_ASSERT_EQUAL(registry_load(reg, "probe@a", broken_dirs, 2, err, sizeof err), -EEXIST);
    CU_ASSERT_STRING_EQUAL(err, want);
}

/* A path with an instance, named in two chains, is one instance (not a duplicate). */
static void path_instance_reused_by_get(void)
{
    const char *spec = LP_BROKEN_DIR "/probe.so@i";
    struct plugin *p = registry_get(reg, spec, broken_dirs, 2, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->key, "probe@i");
    CU_ASSERT_PTR_EQUAL(registry_get(reg, spec, broken_dirs, 2, err, sizeof err), p);
    CU_ASSERT_PTR_EQUAL(registry_get(reg, "probe@i", broken_dirs, 2, err, sizeof err), p);
    struct plugin *plain =
        registry_get(reg, LP_BROKEN_DIR "/probe.so", broken_dirs, 2, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
    CU_ASSERT_PTR_NOT_EQUAL(plain, p);
    CU_ASSERT_EQUAL(registry_count(reg), 2);
}

/* Declared arguments are refused before the plugin's load runs; accepted ones arrive typed. */
static void declared_arguments_parsed_before_load(void)
{
    CU_ASSERT_EQUAL(registry_load(reg, "counter:reset=1,reset=0", build_dirs, 1, err, sizeof err),
                    -EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "plugin counter: argument 'reset' given twice");
    CU_ASSERT_EQUAL(registry_count(reg), 0);
    CU_ASSERT_EQUAL_FATAL(
        registry_load(reg, "counter@x:marker=END,quiet=yes", build_dirs, 1, err, sizeof err), 0);
    struct plugin *p = registry_find(reg, "counter@x");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL_FATAL(p->values.n, 3);
    CU_ASSERT_STRING_EQUAL(p->values.v[0].s, "END");
    CU_ASSERT_EQUAL(p->values.v[1].b, 0); /* reset: its default */
    CU_ASSERT_EQUAL(p->values.v[2].b, 1);
}

static void newer_minor_refused(void)
{
    snprintf(want, sizeof want,
             "plugin %s/newminor.so: built for plugin ABI %d.%d, this server speaks %d.%d (it "
             "needs a newer server)",
             LP_BROKEN_DIR, LP_ABI_MAJOR, LP_ABI_MINOR + 1, LP_ABI_MAJOR, LP_ABI_MINOR);
    assert_refused("newminor", -ENOEXEC);
}

static void other_major_refused(void)
{
    snprintf(want, sizeof want,
             "plugin %s/newmajor.so: built for plugin ABI %d.0, this server speaks %d.%d "
             "(rebuild it against this server's linepool.h)",
             LP_BROKEN_DIR, LP_ABI_MAJOR + 1, LP_ABI_MAJOR, LP_ABI_MINOR);
    assert_refused("newmajor", -ENOEXEC);
}

static void bad_instance_names_refused(void)
{
    snprintf(want, sizeof want,
             "plugin 'probe@a b': instance name must be 1-64 of [A-Za-z0-9._-] after '@'");
    assert_refused("probe@a b", -EINVAL);
    snprintf(want, sizeof want,
             "plugin 'probe@:x=1': instance name must be 1-64 of [A-Za-z0-9._-] after '@'");
    assert_refused("probe@:x=1", -EINVAL);
    snprintf(want, sizeof want, "plugin '@a': empty name (expected NAME[@INSTANCE][:ARGS])");
    assert_refused("@a", -EINVAL);
}

/* A reload (reload.h): a new version beside the old one, from its own private copy (another
 * handle), published as the instance, the old one retiring until no connection counts on it;
 * a connection of the old one migrates to the current version. */
static void reload_loads_a_second_version_beside_the_first(void)
{
    CU_ASSERT_EQUAL_FATAL(registry_load(reg, "echo", build_dirs, 1, err, sizeof err), 0);
    struct plugin *old = registry_find(reg, "echo"), *fresh = NULL;
    CU_ASSERT_EQUAL_FATAL(registry_reload(reg, old, NULL, 5.0, &fresh, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fresh);
    CU_ASSERT_PTR_NOT_EQUAL(fresh->handle, old->handle);
    CU_ASSERT_STRING_NOT_EQUAL(fresh->copy, old->copy);
    CU_ASSERT_EQUAL(old->gen, 1);
    CU_ASSERT_EQUAL(fresh->gen, 2);
    CU_ASSERT_PTR_EQUAL(registry_find(reg, "echo"), old); /* nothing published yet */
    atomic_store(&old->conns, 1);                         /* one connection on it */
    registry_publish(reg, old, fresh);
    CU_ASSERT_PTR_EQUAL(registry_find(reg, "echo"), fresh);
    CU_ASSERT_PTR_EQUAL(atomic_load(&old->successor), fresh);
    uint64_t older;
    CU_ASSERT_EQUAL(registry_versions(reg, fresh, &older), 2);
    CU_ASSERT_EQUAL(older, 1);
    CU_ASSERT_PTR_NULL(registry_take_idle(reg));    /* held */
    CU_ASSERT_PTR_NULL(plugin_migrate_hold(fresh)); /* current: nowhere to go */
    CU_ASSERT_PTR_EQUAL(plugin_migrate_hold(old), fresh);
    CU_ASSERT_EQUAL(atomic_load(&fresh->conns), 1);
    atomic_store(&old->conns, 0); /* the connection moved */
    CU_ASSERT_PTR_EQUAL(registry_take_idle(reg), old);
    CU_ASSERT_EQUAL(registry_retiring(reg), 0);
    registry_unload(old);
    CU_ASSERT_EQUAL(registry_versions(reg, fresh, &older), 1);
    atomic_store(&fresh->conns, 0);
}

/* A reload that cannot load says why and leaves the instance as it was. */
static void reload_of_missing_file_refused(void)
{
    char dir[PATH_MAX], file[PATH_MAX], spec[PATH_MAX + 8];
    CU_ASSERT_EQUAL_FATAL(make_copy(dir, file), 0);
    snprintf(spec, sizeof spec, "%s", file);
    CU_ASSERT_EQUAL_FATAL(registry_load(reg, spec, broken_dirs, 2, err, sizeof err), 0);
    struct plugin *old = registry_at(reg, 0), *fresh = NULL;
    unlink(file);
    CU_ASSERT_EQUAL(registry_reload(reg, old, NULL, 5.0, &fresh, err, sizeof err), -ENOENT);
    snprintf(want, sizeof want, "plugin %s: No such file or directory", file);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_PTR_NULL(fresh);
    CU_ASSERT_PTR_EQUAL(registry_at(reg, 0), old);
    remove_copy(dir, file);
}

static CU_TestInfo loads[] = {
    {"older_minor_loads", older_minor_loads},
    {"instances_have_their_own_state", instances_have_their_own_state},
    {"path_instance_reused_by_get", path_instance_reused_by_get},
    {"declared_arguments_parsed_before_load", declared_arguments_parsed_before_load},
    {"short_name_found_in_plugin_dir", short_name_found_in_plugin_dir},
    {"dirs_searched_in_order", dirs_searched_in_order},
    {"path_with_args_passed_to_load", path_with_args_passed_to_load},
    {"get_loads_once_and_reuses", get_loads_once_and_reuses},
    {"free_calls_unload_and_closes", free_calls_unload_and_closes},
    {"reload_loads_a_second_version_beside_the_first",
     reload_loads_a_second_version_beside_the_first},
    {"reload_of_missing_file_refused", reload_of_missing_file_refused},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo refusals[] = {
    {"get_unknown_name_fails_with_reason", get_unknown_name_fails_with_reason},
    {"get_refuses_arguments", get_refuses_arguments},
    {"not_found_lists_dirs", not_found_lists_dirs},
    {"missing_path_names_it", missing_path_names_it},
    {"empty_name_refused", empty_name_refused},
    {"directory_is_not_a_plugin", directory_is_not_a_plugin},
    {"text_file_not_a_shared_object", text_file_not_a_shared_object},
    {"undefined_symbol_refused_at_load", undefined_symbol_refused_at_load},
    {"missing_descriptor_symbol", missing_descriptor_symbol},
    {"abi_mismatch", abi_mismatch},
    {"newer_minor_refused", newer_minor_refused},
    {"other_major_refused", other_major_refused},
    {"bad_instance_names_refused", bad_instance_names_refused},
    {"descriptor_without_message_hook", descriptor_without_message_hook},
    {"descriptor_without_name", descriptor_without_name},
    {"load_hook_failure_quotes_its_reason_on_one_line",
     load_hook_failure_quotes_its_reason_on_one_line},
    {"silent_load_failure_gets_strerror", silent_load_failure_gets_strerror},
    {"short_name_must_match_descriptor_name", short_name_must_match_descriptor_name},
    {"duplicate_name_refused", duplicate_name_refused},
    {"world_writable_file_refused", world_writable_file_refused},
    {"world_writable_directory_refused_even_when_sticky",
     world_writable_directory_refused_even_when_sticky},
    {"symlink_in_world_writable_directory_refused", symlink_in_world_writable_directory_refused},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "loads", .pSetUpFunc = setup, .pTearDownFunc = teardown, .pTests = loads},
    {.pName = "refusals", .pSetUpFunc = setup, .pTearDownFunc = teardown, .pTests = refusals},
    CU_SUITE_INFO_NULL,
};

int main(void)
{
    return cunit_run(suites);
}
