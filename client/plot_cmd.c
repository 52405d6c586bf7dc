/* plot_cmd - `linepool-client plot RUN.json... -o OUT.svg|png`: writes the data and script
 * (plot.c) to a private temporary folder, runs gnuplot on it, renames its output into
 * place, removes the folder. Bad input or a failing gnuplot: one line, exit 2. */
#include "commands.h"
#include "json.h"
#include "plot.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_RUNS 32

struct plot_job {
    char dir[64];
    char paths[MAX_RUNS][3][128]; /* series, corrected, uncorrected spectrum */
    struct plot_run runs[MAX_RUNS];
    char *texts[MAX_RUNS];
    struct json *docs[MAX_RUNS];
    int n;
};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 > cap) {
            char *g = cap > (512u << 20) ? NULL : realloc(buf, cap = 2 * cap + 65536);
            if (!g) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = g;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int write_run(struct plot_job *j, int i, const char *name)
{
    char err[300];
    FILE *f = fopen(j->paths[i][0], "w");
    int rc = f ? plot_series(f, j->docs[i], err, sizeof err) : -errno;
    if (f && fclose(f) && !rc)
        rc = -errno;
    if (rc) {
        fprintf(stderr, "linepool-client: plot: %s: %s\n", name,
                rc == -EINVAL ? err : strerror(-rc));
        return -1;
    }
    j->runs[i].series_path = j->paths[i][0];
    for (int k = 0; k < 2; k++) {
        f = fopen(j->paths[i][1 + k], "w");
        rc = f ? plot_spectrum(f, j->docs[i], k, err, sizeof err) : -errno;
        if (f)
            fclose(f);
        if (rc < 0) {
            fprintf(stderr, "linepool-client: plot: %s: %s\n", name,
                    rc == -EINVAL ? err : strerror(-rc));
            return -1;
        }
        j->runs[i].spectrum_path[k] = rc == 0 ? j->paths[i][1 + k] : NULL;
    }
    return 0;
}

static int load(struct plot_job *j, int i, const char *path)
{
    size_t len;
    char err[300];
    if (!(j->texts[i] = slurp(path, &len))) {
        fprintf(stderr, "linepool-client: plot: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!(j->docs[i] = json_parse(j->texts[i], len, err, sizeof err))) {
        fprintf(stderr, "linepool-client: plot: %s: %s\n", path, err);
        return -1;
    }
    const char *base = strrchr(path, '/');
    j->runs[i].label = base ? base + 1 : path;
    for (int k = 0; k < 3; k++)
        snprintf(j->paths[i][k], sizeof j->paths[i][k], "%s/run%d.%d.dat", j->dir, i, k);
    return write_run(j, i, path);
}

static int run_gnuplot(const char *script)
{
    char *argv[] = {"gnuplot", (char *)script, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ), status;
    if (rc) {
        fprintf(stderr,
                "linepool-client: plot: cannot run gnuplot: %s (Debian: apt-get install "
                "gnuplot-nox)\n",
                strerror(rc));
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "linepool-client: plot: gnuplot failed (its message is above)\n");
        return -1;
    }
    return 0;
}

static void cleanup(struct plot_job *j, const char *script)
{
    for (int i = 0; i < j->n; i++) {
        for (int k = 0; k < 3; k++)
            unlink(j->paths[i][k]);
        json_free(j->docs[i]);
        free(j->texts[i]);
    }
    unlink(script);
    rmdir(j->dir);
}

int cmd_plot(const struct client_opts *o)
{
    size_t len = strlen(o->out_path);
    if (!(len > 4 &&
          (!strcmp(o->out_path + len - 4, ".svg") || !strcmp(o->out_path + len - 4, ".png")))) {
        fprintf(stderr, "linepool-client: plot: -o must name a .svg or .png file\n");
        return 2;
    }
    if (o->ninputs > MAX_RUNS) {
        fprintf(stderr, "linepool-client: plot: at most %d runs\n", MAX_RUNS);
        return 2;
    }
    struct plot_job *j = calloc(1, sizeof *j);
    char script[128], tmp_out[4200];
    if (!j)
        return 2;
    snprintf(j->dir, sizeof j->dir, "/tmp/linepool-plot.XXXXXX");
    if (!mkdtemp(j->dir)) {
        fprintf(stderr, "linepool-client: plot: cannot make a temporary folder: %s\n",
                strerror(errno));
        free(j);
        return 2;
    }
    snprintf(script, sizeof script, "%s/plot.gp", j->dir);
    snprintf(tmp_out, sizeof tmp_out, "%s.tmp.%ld%s", o->out_path, (long)getpid(),
             o->out_path + len - 4);
    int status = 2;
    for (; j->n < o->ninputs; j->n++)
        if (load(j, j->n, o->inputs[j->n])) {
            j->n++;
            goto out;
        }
    FILE *f = fopen(script, "w");
    if (!f)
        goto out;
    plot_script(f, tmp_out, j->runs, j->n);
    if (fclose(f) || run_gnuplot(script))
        goto out;
    struct stat st;
    if (stat(tmp_out, &st) || st.st_size == 0 || rename(tmp_out, o->out_path)) {
        fprintf(stderr, "linepool-client: plot: gnuplot wrote no %s\n", o->out_path);
        goto out;
    }
    printf("plotted %d run%s into %s\n", j->n, j->n == 1 ? "" : "s", o->out_path);
    status = 0;
out:
    unlink(tmp_out);
    cleanup(j, script);
    free(j);
    return status;
}
