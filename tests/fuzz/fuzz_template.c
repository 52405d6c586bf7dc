/* fuzz_template - bench's request templates (client/template.c, rendered by workload.c) and
 * reply framing (client/replies.c) on arbitrary bytes: no crash, over-read or hang; an
 * error line with every refused template; every rendered request fits max_len and ends
 * with '\n'; a template without placeholders renders to its escapes resolved, '\n' added;
 * the framer consumes every byte, in any split, and counts the same replies either way. */
#include "fuzz.h"
#include "replies.h"
#include "template.h"
#include "workload.h"

#include <errno.h>
#include <string.h>

static void check_template(const char *text)
{
    struct workload *w = calloc(1, sizeof *w);
    char err[200] = "";
    FUZZ_CHECK(w);
    int rc = template_parse(&w->cmds[0], text, err, sizeof err);
    FUZZ_CHECK(rc == 0 || (rc == -EINVAL && err[0]));
    if (rc)
        template_free(&w->cmds[0]); /* a refused template may hold its buffer */
    if (rc == 0) {
        w->ncmds = 1;
        w->rand_range = 1000;
        w->key_prefix = "k";
        w->key_max = 99;
        w->pattern = KEYS_ZIPF;
        w->zipf_exp = 1.2;
        w->data_size = 3;
        FUZZ_CHECK(workload_finish(w, err, sizeof err) == 0);
        struct workload_gen g;
        workload_gen_init(&g, w, 1, 0, 1, 1);
        char *out = malloc(w->max_len);
        FUZZ_CHECK(out);
        for (int i = 0; i < 4; i++) {
            unsigned word;
            size_t n = workload_render(&g, out, &word);
            FUZZ_CHECK(n >= 1 && n <= w->max_len && out[n - 1] == '\n' && word == 0);
            if (!w->cmds[0].has_placeholders)
                FUZZ_CHECK(n == w->cmds[0].litlen + !w->cmds[0].ends_with_newline &&
                           memcmp(out, w->cmds[0].lit, w->cmds[0].litlen) == 0);
        }
        free(out);
    }
    workload_free(w);
    free(w);
}

static unsigned count_replies(enum replies_protocol proto, const char *data, size_t n, size_t step)
{
    struct replies r;
    replies_init(&r, proto);
    unsigned count = 0;
    for (size_t off = 0; off < n;) {
        size_t len = n - off < step ? n - off : step;
        char *chunk = malloc(len); /* exact size: an over-read trips ASan */
        FUZZ_CHECK(chunk);
        memcpy(chunk, data + off, len);
        for (size_t used = 0; used < len;) {
            int done, miss;
            size_t k = replies_feed(&r, chunk + used, len - used, &done, &miss);
            FUZZ_CHECK(k > 0 && k <= len - used);
            used += k;
            count += (unsigned)done;
        }
        free(chunk);
        off += len;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    FUZZ_CHECK(text);
    memcpy(text, data, size);
    text[size] = '\0';
    check_template(text);
    for (int p = REPLIES_LINE; p <= REPLIES_MEMCACHE; p++)
        FUZZ_CHECK(count_replies(p, text, size, size ? size : 1) ==
                   count_replies(p, text, size, 1 + size % 7));
    free(text);
    return 0;
}
