/* Unit tests of bench's workloads: template parsing (placeholders, escapes, refusals),
 * rendering, weighted choice, the key patterns' ranges and shapes, and reply framing for
 * line, RESP and memcached replies split at every byte. */
#include "cunit_main.h"
#include "replies.h"
#include "template.h"
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void refused(const char *text, const char *why)
{
    struct template t;
    char err[200] = "";
    CU_ASSERT_EQUAL(template_parse(&t, text, err, sizeof err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, why));
    template_free(&t);
}

static void templates_parse_and_refuse(void)
{
    struct template t;
    char err[200];
    CU_ASSERT_EQUAL_FATAL(template_parse(&t, "set __key__ 0 0 4\\r\\n__data__\\r", err, sizeof err),
                          0);
    CU_ASSERT_STRING_EQUAL(t.word, "SET");
    CU_ASSERT_EQUAL(t.nsegs, 5); /* "set ", key, " 0 0 4\r\n", data, "\r" */
    CU_ASSERT_EQUAL(t.segs[1].part, TEMPLATE_KEY);
    CU_ASSERT_EQUAL(t.segs[3].part, TEMPLATE_DATA);
    CU_ASSERT_EQUAL(t.segs[2].len, 8);
    CU_ASSERT_FALSE(t.ends_with_newline);
    template_free(&t);
    /* underscores that make no __name__ stay literal; so do upper-case names */
    CU_ASSERT_EQUAL_FATAL(template_parse(&t, "a__b c__ __KEY__ x___", err, sizeof err), 0);
    CU_ASSERT_EQUAL(t.nsegs, 1);
    CU_ASSERT_FALSE(t.has_placeholders);
    template_free(&t);
    CU_ASSERT_EQUAL_FATAL(template_parse(&t, "k__rand_int____key__", err, sizeof err), 0);
    CU_ASSERT_EQUAL(t.nsegs, 3);
    CU_ASSERT(t.segs[1].part == TEMPLATE_RAND_INT && t.segs[2].part == TEMPLATE_KEY);
    template_free(&t);
    CU_ASSERT_EQUAL_FATAL(template_parse(&t, "GET k:__rand_int__\\n", err, sizeof err), 0);
    CU_ASSERT(t.ends_with_newline && t.has_placeholders);
    template_free(&t);
    refused("", "empty");
    refused("GET __nope__", "unknown placeholder __nope__");
    refused("GET __odd_name__", "unknown placeholder __odd_name__");
    refused("GET a\\q", "bad escape \\q");
    refused("GET a\\", "bad escape");
    refused("GET a\nb", "raw line break");
}

static struct workload *workload(const char *const *cmds, const unsigned *weights, unsigned n,
                                 char pattern)
{
    struct workload *w = calloc(1, sizeof *w);
    char err[200];
    CU_ASSERT_FATAL(w != NULL);
    for (unsigned i = 0; i < n; i++) {
        CU_ASSERT_FATAL(template_parse(&w->cmds[i], cmds[i], err, sizeof err) == 0);
        w->cmds[i].weight = weights ? weights[i] : 1;
    }
    w->ncmds = n;
    w->rand_range = 1000;
    w->key_prefix = "k:";
    w->key_min = 10;
    w->key_max = 19;
    w->pattern = pattern;
    w->zipf_exp = 1.0;
    w->data_size = 5;
    CU_ASSERT_FATAL(workload_finish(w, err, sizeof err) == 0);
    return w;
}

static void renders_requests_and_weights(void)
{
    const char *cmds[] = {"SET __key__ __data__", "get __key__", "GET r__rand_int__\\r\\n"};
    const unsigned weights[] = {1, 3, 6};
    struct workload *w = workload(cmds, weights, 3, KEYS_SEQUENTIAL);
    CU_ASSERT_EQUAL(w->nwords, 2); /* GET and get are one word */
    struct workload_gen g;
    workload_gen_init(&g, w, 1, 0, 1, 1);
    char *buf = malloc(w->max_len);
    unsigned seen[2] = {0, 0}, word;
    for (int i = 0; i < 10000; i++) {
        size_t n = workload_render(&g, buf, &word);
        CU_ASSERT(n <= w->max_len && buf[n - 1] == '\n');
        seen[word]++;
        if (word == 0) {
            CU_ASSERT(n == strlen("SET k:1x xxxxx\n") || n == strlen("SET k:10 xxxxx\n"));
            CU_ASSERT_NSTRING_EQUAL(buf, "SET k:1", 7);
        } else if (buf[0] == 'G') {
            CU_ASSERT_EQUAL(n, strlen("GET r000000000123\r\n"));
            CU_ASSERT(strtoull(buf + 5, NULL, 10) < 1000);
        }
    }
    /* weights 1 : 3 + 6 */
    CU_ASSERT(seen[0] > 800 && seen[0] < 1200);
    free(buf);
    workload_free(w);
    free(w);
}

static void sequential_keys_cover_each_share_once(void)
{
    const char *cmds[] = {"SET __key__ v"};
    struct workload *w = workload(cmds, NULL, 1, KEYS_SEQUENTIAL);
    unsigned hits[10] = {0};
    for (unsigned from = 0; from < 3; from++) { /* 3 connections share 10 keys */
        struct workload_gen g;
        workload_gen_init(&g, w, from, from, 1, 3);
        for (uint64_t i = 0; i < g.seq_hi - g.seq_lo; i++)
            hits[workload_next_key(&g) - 10]++;
    }
    for (int k = 0; k < 10; k++) {
        CU_ASSERT_EQUAL(hits[k], 1);
    }
    workload_free(w);
    free(w);
}

static void random_patterns_stay_in_range_with_their_shape(void)
{
    const char *cmds[] = {"GET __key__"};
    const char patterns[] = {KEYS_UNIFORM, KEYS_GAUSSIAN, KEYS_ZIPF};
    for (int p = 0; p < 3; p++) {
        struct workload *w = workload(cmds, NULL, 1, patterns[p]);
        struct workload_gen g;
        workload_gen_init(&g, w, 7, 0, 1, 1);
        unsigned hits[10] = {0};
        for (int i = 0; i < 100000; i++) {
            uint64_t k = workload_next_key(&g);
            CU_ASSERT_FATAL(k >= 10 && k <= 19);
            hits[k - 10]++;
        }
        if (patterns[p] == KEYS_UNIFORM) {
            for (int k = 0; k < 10; k++) {
                CU_ASSERT(hits[k] > 9000 && hits[k] < 11000);
            }
        } else if (patterns[p] == KEYS_GAUSSIAN) {
            CU_ASSERT(hits[4] + hits[5] > 3 * (hits[0] + hits[9])); /* the middle is hot */
        } else {
            /* zipf s = 1 over 10 keys: P(rank 1) = 1 / H(10) = 0.3414, P(rank 2) half that */
            CU_ASSERT(fabs(hits[0] / 100000.0 - 0.3414) < 0.01);
            CU_ASSERT(fabs((double)hits[0] / hits[1] - 2.0) < 0.1);
        }
        workload_free(w);
        free(w);
    }
}

/* Feeds text cut at every point; returns the replies counted and misses seen. */
static void framed(enum replies_protocol proto, const char *text, int want, int want_miss)
{
    size_t n = strlen(text);
    for (size_t cut = 0; cut <= n; cut++) {
        struct replies r;
        replies_init(&r, proto);
        int count = 0, misses = 0, done, miss;
        const char *parts[2] = {text, text + cut};
        size_t lens[2] = {cut, n - cut};
        for (int k = 0; k < 2; k++) {
            size_t off = 0;
            while (off < lens[k]) {
                off += replies_feed(&r, parts[k] + off, lens[k] - off, &done, &miss);
                count += done;
                misses += done && miss;
            }
        }
        CU_ASSERT_EQUAL(count, want);
        CU_ASSERT_EQUAL(misses, want_miss);
    }
}

static void replies_are_framed_at_every_split(void)
{
    framed(REPLIES_LINE, "+PONG\r\n+PONG\r\nx\n", 3, 0);
    framed(REPLIES_RESP, "+OK\r\n$5\r\nhe\nlo\r\n$-1\r\n:12\r\n-ERR no\r\n", 5, 1);
    framed(REPLIES_RESP, "*2\r\n$1\r\na\r\n*1\r\n$0\r\n\r\n*0\r\n*-1\r\n", 3, 0);
    framed(REPLIES_MEMCACHE,
           "STORED\r\nVALUE k 0 5\r\nab\r\nd\r\nEND\r\nEND\r\nSTAT pid 1\r\nSTAT x 2\r\nEND\r\n"
           "VALUE a 1 1 99\r\nx\r\nVALUE b 1 0\r\n\r\nEND\r\n",
           5, 2);
    /* nonsense headers cost one reply each, never a hang */
    framed(REPLIES_RESP, "$x\r\n*zz\r\n", 2, 0);
    framed(REPLIES_MEMCACHE, "VALUE k 0 -5\r\n", 1, 0);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"templates_parse_and_refuse", templates_parse_and_refuse},
        {"renders_requests_and_weights", renders_requests_and_weights},
        {"sequential_keys_cover_each_share_once", sequential_keys_cover_each_share_once},
        {"random_patterns_stay_in_range_with_their_shape",
         random_patterns_stay_in_range_with_their_shape},
        {"replies_are_framed_at_every_split", replies_are_framed_at_every_split},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{.pName = "client_workload", .pTests = tests}, CU_SUITE_INFO_NULL};
    return cunit_run(suites);
}
