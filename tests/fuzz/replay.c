/* replay - a main() for the fuzz targets without libFuzzer: runs every file named (folders
 * are read in name order) through LLVMFuzzerTestOneInput once, so the seed corpus and any
 * saved crash run as a plain test under gcc, ASan+UBSan and TSan. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Reads the whole file into a buffer of exactly its size, so a read past the end of the
 * input is caught by ASan just as under libFuzzer. Returns NULL with errno set. */
static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
        *size = fread(buf, 1, (size_t)st.st_size, f);
        if (*size != (size_t)st.st_size) {
            free(buf);
            buf = NULL;
            errno = EIO;
        }
    }
    fclose(f);
    return buf;
}

static int run_file(const char *path)
{
    size_t size = 0;
    uint8_t *data = slurp(path, &size);
    if (!data) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(stderr, "Running: %s\n", path); /* names the input a failed check is about */
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int skip_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Runs every file of a folder; returns the count, or -1 on an unreadable entry. */
static int run_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, skip_dot, alphasort), ran = 0;
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (ran >= 0)
            ran = run_file(path) == 0 ? ran + 1 : -1;
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv)
{
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int n = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode) ? run_dir(argv[i])
                                                               : (run_file(argv[i]) ? -1 : 1);
        if (n < 0)
            return 2;
        total += n;
    }
    if (total == 0) {
        fprintf(stderr, "usage: %s FILE|DIR... (no input found)\n", argv[0]);
        return 2;
    }
    printf("replay: %d inputs passed\n", total);
    return 0;
}
