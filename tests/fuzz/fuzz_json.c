/* fuzz_json - client/json.c (merge's reader) on arbitrary bytes: no crash, leak or deep
 * recursion; an error line with every refusal; an accepted text printed back canonically
 * parses again to the same canonical text, and every object member has a key. */
#include "fuzz.h"
#include "json.h"

#include <string.h>

struct out {
    char *buf;
    size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->buf = realloc(o->buf, o->cap);
        FUZZ_CHECK(o->buf);
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void put_string(struct out *o, const char *s, size_t n)
{
    put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char esc[8];
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(o, esc, 6);
        } else {
            put(o, s + i, 1);
        }
    }
    put(o, "\"", 1);
}

static void print(struct out *o, const struct json *j, int in_object)
{
    char num[64];
    if (in_object) {
        FUZZ_CHECK(j->key != NULL);
        put_string(o, j->key, strlen(j->key));
        put(o, ":", 1);
    } else {
        FUZZ_CHECK(j->key == NULL);
    }
    switch (j->type) {
    case JSON_NULL:
        put(o, "null", 4);
        break;
    case JSON_TRUE:
        put(o, "true", 4);
        break;
    case JSON_FALSE:
        put(o, "false", 5);
        break;
    case JSON_NUMBER:
        snprintf(num, sizeof num, "%.17g", j->number);
        /* inf from a huge exponent is no JSON number: print it as a string instead */
        if (strchr(num, 'n') || strchr(num, 'i'))
            put_string(o, num, strlen(num));
        else
            put(o, num, strlen(num));
        break;
    case JSON_STRING:
        FUZZ_CHECK(j->string && strlen(j->string) <= j->len);
        put_string(o, j->string, strlen(j->string));
        break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        put(o, j->type == JSON_ARRAY ? "[" : "{", 1);
        for (const struct json *m = j->child; m; m = m->next) {
            print(o, m, j->type == JSON_OBJECT);
            if (m->next)
                put(o, ",", 1);
        }
        put(o, j->type == JSON_ARRAY ? "]" : "}", 1);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    FUZZ_CHECK(text);
    memcpy(text, data, size); /* exact size: an over-read trips ASan */
    char err[200] = "";
    struct json *j = json_parse(text, size, err, sizeof err);
    if (!j) {
        FUZZ_CHECK(err[0] != '\0');
        free(text);
        return 0;
    }
    struct out a = {0}, b = {0};
    print(&a, j, 0);
    struct json *again = json_parse(a.buf, a.len, err, sizeof err);
    FUZZ_CHECK(again != NULL);
    print(&b, again, 0);
    FUZZ_CHECK(a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0);
    json_free(j);
    json_free(again);
    free(a.buf);
    free(b.buf);
    free(text);
    return 0;
}
