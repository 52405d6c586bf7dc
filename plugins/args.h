/* args - a strict "KEY=VALUE[,KEY=VALUE...]" parser for a plugin that parses its own argument
 * text (`load`); installed as <linepool/args.h>. Plugins written for minor 1 declare their
 * arguments in the descriptor instead and the server parses them. Static inline, so each
 * plugin stays one object; no allocation, no feature macros. Errors are one line naming the
 * key and what is wrong. */
#ifndef LINEPOOL_PLUGINS_ARGS_H
#define LINEPOOL_PLUGINS_ARGS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One accepted key. set() gets the plugin's config, this entry, and the value (not
 * NUL-terminated). args_set_uint stores a uint64_t at cfg + offset, at most max. */
struct args_key {
    const char *key;
    int (*set)(void *cfg, const struct args_key *k, const char *val, size_t len, char *err,
               size_t errlen);
    size_t offset;
    uint64_t max;
};

static inline const struct args_key *args_find(const struct args_key *keys, size_t n,
                                               const char *key, size_t klen)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(keys[i].key) == klen && memcmp(keys[i].key, key, klen) == 0)
            return &keys[i];
    return NULL;
}

/* Lists the accepted keys as "a, b, c" for the unknown-key message. */
static inline const char *args_known(const struct args_key *keys, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", keys[i].key);
    return buf;
}

/* Parses args ("" is no arguments) into cfg through keys (at most 64). A key given twice is
 * refused (`reset=1,reset=0` is a typo, not an override). Returns 0 or -EINVAL with err set. */
static inline int args_parse(const char *args, const struct args_key *keys, size_t nkeys, void *cfg,
                             char *err, size_t errlen)
{
    char known[256];
    uint64_t seen = 0;
    for (const char *p = args; *p;) {
        size_t len = strcspn(p, ","), klen = strcspn(p, "=,");
        const struct args_key *k = args_find(keys, nkeys, p, klen);
        if (klen == len || klen == 0) {
            snprintf(err, errlen, "expected KEY=VALUE, got '%.*s'", (int)len, p);
            return -EINVAL;
        }
        if (!k) {
            snprintf(err, errlen, "unknown key '%.*s' (known: %s)", (int)klen, p,
                     args_known(keys, nkeys, known, sizeof known));
            return -EINVAL;
        }
        uint64_t bit = (size_t)(k - keys) < 64 ? 1ull << (k - keys) : 0;
        if (seen & bit) {
            snprintf(err, errlen, "%s: given twice", k->key);
            return -EINVAL;
        }
        seen |= bit;
        int rc = k->set(cfg, k, p + klen + 1, len - klen - 1, err, errlen);
        if (rc)
            return rc;
        p += len;
        if (*p == ',' && !*++p) {
            snprintf(err, errlen, "expected KEY=VALUE after the last ','");
            return -EINVAL;
        }
    }
    return 0;
}

static inline int args_set_uint(void *cfg, const struct args_key *k, const char *val, size_t len,
                                char *err, size_t errlen)
{
    uint64_t v = 0;
    size_t i = 0;
    int over = 0; /* digits that do not fit: -ERANGE, as the server's parsers say */
    for (; i < len && val[i] >= '0' && val[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(val[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            over = 1;
        else
            v = v * 10 + d;
    }
    if (len == 0 || i != len || over || v > k->max) {
        snprintf(err, errlen, "%s: expected a whole number from 0 to %llu, got '%.*s'", k->key,
                 (unsigned long long)k->max, (int)len, val);
        return len && i == len ? -ERANGE : -EINVAL;
    }
    memcpy((char *)cfg + k->offset, &v, sizeof v);
    return 0;
}

#endif
