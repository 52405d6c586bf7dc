/* json - a small JSON reader for merge: the whole text into a tree of nodes, object keys in
 * file order. Strict RFC 8259 (no comments, no trailing commas), depth at most JSON_MAX_DEPTH,
 * \u escapes decoded to UTF-8. Pure: no I/O; one allocation per node.
 */
#ifndef LINEPOOL_CLIENT_JSON_H
#define LINEPOOL_CLIENT_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

enum json_type {
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
};

struct json {
    enum json_type type;
    double number;
    char *string; /* JSON_STRING: NUL-terminated (an escaped NUL ends it early); owned */
    size_t len;   /* its length in bytes */
    char *key;    /* member of an object: its name; owned */
    struct json *child, *next; /* arrays and objects: first member; the member after this one */
};

/* Parses text[0..len). Returns the root (free with json_free), or NULL with one line in err
 * ("line 3: expected ':' after an object key") and errno EINVAL, or ENOMEM. */
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);

void json_free(struct json *j);

/* The member called key of object j, or NULL (also when j is NULL or not an object). */
const struct json *json_get(const struct json *j, const char *key);

/* j's number, when it is one and fits; otherwise -1 (0 = found). */
int json_u64(const struct json *j, uint64_t *out);
int json_double(const struct json *j, double *out);

#endif
