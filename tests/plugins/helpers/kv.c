/* kv - a command plugin with a catch-all: "set KEY VALUE" -> "OK", "get KEY" -> the value or
 * "NOT_FOUND"; anything else is LP_NOT_MINE, and its unhandled hook answers
 * "ERR unknown command" only when no plugin of the chain handled the message. One key-value
 * table per instance, under a mutex (hooks of different connections run concurrently). */
#include <linepool.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64

struct kv {
    const struct lp_host *host;
    pthread_mutex_t lock;
    char keys[SLOTS][32], vals[SLOTS][64];
    size_t n;
};

static int kv_load(const struct lp_load *ld, void **state, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    struct kv *kv = calloc(1, sizeof *kv);
    if (!kv)
        return -ENOMEM;
    kv->host = ld->host;
    pthread_mutex_init(&kv->lock, NULL);
    *state = kv;
    return 0;
}

static void kv_unload(void *state)
{
    struct kv *kv = state;
    pthread_mutex_destroy(&kv->lock);
    free(kv);
}

static size_t find(struct kv *kv, const char *key, size_t klen)
{
    for (size_t i = 0; i < kv->n; i++)
        if (strlen(kv->keys[i]) == klen && memcmp(kv->keys[i], key, klen) == 0)
            return i;
    return SLOTS;
}

static void set(struct kv *kv, struct lp_conn *conn, const char *key, size_t klen, const char *val,
                size_t vlen)
{
    if (klen >= 32 || vlen >= 64) {
        lp_reply_str(kv->host, conn, "ERR too long\n");
        return;
    }
    pthread_mutex_lock(&kv->lock);
    size_t i = find(kv, key, klen);
    if (i == SLOTS && kv->n < SLOTS)
        i = kv->n++;
    if (i < SLOTS) {
        memcpy(kv->keys[i], key, klen);
        kv->keys[i][klen] = '\0';
        memcpy(kv->vals[i], val, vlen);
        kv->vals[i][vlen] = '\0';
    }
    pthread_mutex_unlock(&kv->lock);
    lp_reply_str(kv->host, conn, i < SLOTS ? "OK\n" : "ERR full\n");
}

static void get(struct kv *kv, struct lp_conn *conn, const char *key, size_t klen)
{
    char val[66] = "NOT_FOUND";
    pthread_mutex_lock(&kv->lock);
    size_t i = find(kv, key, klen);
    if (i < SLOTS)
        strcpy(val, kv->vals[i]);
    pthread_mutex_unlock(&kv->lock);
    strcat(val, "\n");
    lp_reply_str(kv->host, conn, val);
}

static enum lp_verdict kv_message(void *state, struct lp_conn *conn, void *conn_state,
                                  const char *msg, size_t len)
{
    struct kv *kv = state;
    (void)conn_state;
    if (len > 4 && memcmp(msg, "get ", 4) == 0) {
        get(kv, conn, msg + 4, len - 4);
        return LP_STOP;
    }
    const char *sp = len > 4 ? memchr(msg + 4, ' ', len - 4) : NULL;
    if (sp && memcmp(msg, "set ", 4) == 0) {
        set(kv, conn, msg + 4, (size_t)(sp - msg - 4), sp + 1, (size_t)(msg + len - sp - 1));
        return LP_STOP;
    }
    return LP_NOT_MINE; /* perhaps a later plugin's: the catch-all waits for the chain */
}

static void kv_unhandled(void *state, struct lp_conn *conn, void *conn_state, const char *msg,
                         size_t len)
{
    struct kv *kv = state;
    (void)conn_state, (void)msg, (void)len;
    lp_reply_str(kv->host, conn, "ERR unknown command\n");
}

static const struct lp_arg kv_args[] = {{0}};

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "kv",
    .version = "1.0.0",
    .summary = "test plugin: set/get with a chain-wide catch-all error",
    .args = kv_args,
    .load_args = kv_load,
    .unload = kv_unload,
    .message = kv_message,
    .unhandled = kv_unhandled,
};
