/* listen_spec - the --listen value: NAME@, an address form, +SUFFIXes, =PLUGINS. */
#include "listen_spec.h"

#include "errbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "values.h"

/* HOST:PORT or [IPV6]:PORT (text, len: the address without NAME@ and +SUFFIXes). */
static int parse_inet(struct listen_spec *out, const char *text, size_t len, char *err,
                      size_t errlen)
{
    const char *host, *why = "";
    size_t hlen;
    int rc = values_parse_address(text, len, &host, &hlen, &out->port, &why);
    if (rc && strcmp(why, "bad port") == 0) {
        const char *p = *text == '[' ? (const char *)memchr(text, ']', len) + 2
                                     : (const char *)memchr(text, ':', len) + 1;
        return errbuf_set(err, errlen, -EINVAL, "bad port '%.*s' (0-65535; 0 picks a free port)",
                          (int)(text + len - p), p);
    }
    if (rc)
        return errbuf_set(err, errlen, -EINVAL, "%s", why);
    if (memchr(host, '@', hlen)) /* NAME@ comes once, first */
        return errbuf_set(err, errlen, -EINVAL, "'@' in the host");
    if (!(out->host = strndup(host, hlen)))
        return -ENOMEM;
    return 0;
}

/* systemd:FDNAME (text, len: after the prefix), FDNAME as systemd allows it
 * (fdname_is_valid): 1-255 printable characters, no ':'. */
static int parse_systemd(struct listen_spec *out, const char *text, size_t len, char *err,
                         size_t errlen)
{
    int ok = len > 0 && len <= 255;
    for (size_t i = 0; ok && i < len; i++)
        ok = text[i] > ' ' && text[i] < 127 && text[i] != ':';
    if (!ok)
        return errbuf_set(err, errlen, -EINVAL,
                          "expected systemd:NAME, NAME the socket's FileDescriptorName (1-255 "
                          "printable characters, no ':')");
    return (out->systemd = strndup(text, len)) ? 0 : -ENOMEM;
}

/* Address forms, tried in order: the first whose prefix the address starts with parses it
 * (prefix "" matches everything, so it comes last). A new form, such as "systemd:NAME" for
 * a socket passed by systemd, is one entry before it. */
static const struct {
    const char *prefix;
    int (*parse)(struct listen_spec *out, const char *text, size_t len, char *err, size_t errlen);
} address_forms[] = {
    {"systemd:", parse_systemd},
    {"", parse_inet},
};

/* "+SUFFIX" words after the address, each setting a bit of listen_spec.flags (such as
 * "+proxy" for the PROXY protocol). The table ends with a NULL name. */
static const struct {
    const char *name;
    unsigned flag;
} listen_suffixes[] = {
    {"proxy", LISTEN_PROXY},
    {NULL, 0},
};

static int parse_suffixes(struct listen_spec *out, const char *text, size_t len, char *err,
                          size_t errlen)
{
    const char *end = text + len;
    while (text < end) {
        const char *word = text + 1; /* past the '+' */
        const char *next = memchr(word, '+', (size_t)(end - word));
        size_t wlen = (size_t)((next ? next : end) - word);
        size_t i = 0;
        while (listen_suffixes[i].name && !(strlen(listen_suffixes[i].name) == wlen &&
                                            memcmp(listen_suffixes[i].name, word, wlen) == 0))
            i++;
        if (!listen_suffixes[i].name)
            return errbuf_set(err, errlen, -EINVAL, "unknown listener option '+%.*s'", (int)wlen,
                              word);
        out->flags |= listen_suffixes[i].flag;
        text = next ? next : end;
    }
    return 0;
}

static int push_plugin(struct listen_spec *out, const char *name, size_t len)
{
    char **grown = realloc(out->plugins, (out->nplugins + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    out->plugins = grown;
    if (!(grown[out->nplugins] = strndup(name, len)))
        return -ENOMEM;
    out->nplugins++;
    return 0;
}

static int split_plugins(struct listen_spec *out, const char *list, char *err, size_t errlen)
{
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0)
            return errbuf_set(err, errlen, -EINVAL, "empty plugin name");
        int rc = push_plugin(out, p, len);
        if (rc || !comma)
            return rc;
        p = comma + 1;
    }
}

int config_check_name(const char *name, size_t len)
{
    if (len == 0 || len > CONFIG_NAME_MAX)
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (!name[i] || !strchr(CONFIG_NAME_CHARS, name[i]))
            return -EINVAL;
    return 0;
}

int listen_spec_parse(struct listen_spec *out, const char *text, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *eq = strchr(text, '=');
    if (!eq)
        return errbuf_set(err, errlen, -EINVAL,
                          "expected [NAME@]HOST:PORT[+proxy]=PLUGIN[,PLUGIN...]");
    const char *addr = text;
    const char *at = memchr(text, '@', (size_t)(eq - text));
    if (at) {
        if (config_check_name(text, (size_t)(at - text)))
            return errbuf_set(err, errlen, -EINVAL,
                              "listener name must be 1-%d of [A-Za-z0-9._-] before '@'",
                              CONFIG_NAME_MAX);
        if (!(out->name = strndup(text, (size_t)(at - text))))
            return -ENOMEM;
        addr = at + 1;
    }
    const char *plus = memchr(addr, '+', (size_t)(eq - addr));
    const char *addr_end = plus ? plus : eq;
    size_t i = 0;
    while (strncmp(addr, address_forms[i].prefix, strlen(address_forms[i].prefix)) != 0)
        i++; /* ends at the "" form */
    size_t skip = strlen(address_forms[i].prefix);
    int rc =
        address_forms[i].parse(out, addr + skip, (size_t)(addr_end - addr) - skip, err, errlen);
    if (!rc)
        rc = parse_suffixes(out, addr_end, (size_t)(eq - addr_end), err, errlen);
    if (!rc)
        rc = split_plugins(out, eq + 1, err, errlen);
    if (rc == -ENOMEM)
        errbuf_set(err, errlen, rc, "out of memory");
    return rc;
}

void listen_spec_address(const struct listen_spec *l, char *out, size_t len)
{
    int v6 = l->host && strchr(l->host, ':');
    int n = l->systemd
                ? snprintf(out, len, "%s%ssystemd:%s", l->name ? l->name : "", l->name ? "@" : "",
                           l->systemd)
                : snprintf(out, len, "%s%s%s%s%s:%u", l->name ? l->name : "", l->name ? "@" : "",
                           v6 ? "[" : "", l->host ? l->host : "", v6 ? "]" : "", (unsigned)l->port);
    for (size_t i = 0; listen_suffixes[i].name && n > 0 && (size_t)n < len; i++)
        if (l->flags & listen_suffixes[i].flag)
            n += snprintf(out + n, len - (size_t)n, "+%s", listen_suffixes[i].name);
}

void listen_spec_free(struct listen_spec *l)
{
    for (size_t i = 0; i < l->nplugins; i++)
        free(l->plugins[i]);
    free(l->plugins);
    free(l->host);
    free(l->systemd);
    free(l->name);
    memset(l, 0, sizeof *l);
}
