/* fuzz_hlog - .hlog reading as merge does it (client/hlog.c line parser, the V2 decoder,
 * merge.c's alignment into per-second histograms) on arbitrary text: no crash, leak or
 * hang; an error line naming the line with every refusal; after an accepted log, the
 * per-second histograms of each tag add up to its whole-run histogram. */
#include "fuzz.h"
#include "merge.h"

#include <errno.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *text = malloc(size ? size : 1);
    FUZZ_CHECK(text);
    memcpy(text, data, size);
    struct merge_input in = {.name = "fuzz.hlog", .hlog = text, .hlog_len = size};
    char err[300] = "";
    int rc = merge_inspect(&in, err, sizeof err);
    FUZZ_CHECK(rc == 0 || (rc == -EINVAL && err[0]));
    if (rc) {
        free(text);
        return 0;
    }
    struct merge *m = calloc(1, sizeof *m);
    FUZZ_CHECK(m && merge_begin(m, &in, 1, (int)(size & 1)) == 0);
    err[0] = '\0';
    rc = merge_add(m, &in, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -ENOMEM || (rc == -EINVAL && strstr(err, "fuzz.hlog")));
    struct histogram *h = malloc(sizeof *h);
    FUZZ_CHECK(h);
    for (unsigned t = 0; rc == 0 && t < m->ntypes; t++) {
        for (int k = 0; k < CMDSTAT_KINDS; k++) {
            uint64_t sum = 0;
            for (size_t s = 0; s < m->cmds[t].nsecs; s++) {
                cmdstat_second_histogram(&m->cmds[t], s, k, h);
                sum += h->count;
            }
            FUZZ_CHECK(sum == m->cmds[t].whole[k]->count);
        }
    }
    free(h);
    merge_free(m);
    free(m);
    free(text);
    return 0;
}
