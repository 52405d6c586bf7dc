/* listen_spec - "[NAME@]HOST:PORT[+SUFFIX...]=PLUGIN[,PLUGIN...]", the value of --listen, to
 * a struct. Pure. New address forms and suffixes are one entry in a table in listen_spec.c. */
#ifndef LINEPOOL_LISTEN_SPEC_H
#define LINEPOOL_LISTEN_SPEC_H

#include <stddef.h>
#include <stdint.h>

struct listen_spec {
    char *name;     /* NAME@ before the address, or NULL (then the bound address names it) */
    char *host;     /* as written, brackets removed: "127.0.0.1", "::1", "localhost" */
    char *systemd;  /* systemd:FDNAME: the passed sockets named FDNAME (host is NULL) */
    uint16_t port;  /* 0 = any free port */
    unsigned flags; /* LISTEN_ bits of the "+SUFFIX"es after the address */
    char **plugins; /* chain, in order */
    size_t nplugins;
};

/* +proxy: every connection starts with a PROXY v1/v2 header (server/proxy.h). */
#define LISTEN_PROXY 1u

/* Names of listeners and plugin instances: 1-CONFIG_NAME_MAX of CONFIG_NAME_CHARS. 0/-EINVAL. */
#define CONFIG_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
#define CONFIG_NAME_MAX   64
int config_check_name(const char *name, size_t len);

/* Parses text into out (zeroed first). Returns 0, or -EINVAL / -ENOMEM with the reason alone
 * in err (the caller says which option). out owns its strings: listen_spec_free, also after
 * an error. */
int listen_spec_parse(struct listen_spec *out, const char *text, char *err, size_t errlen);

/* "[NAME@]HOST:PORT[+SUFFIX...]" (or "[NAME@]systemd:FDNAME[+SUFFIX...]") of l, bracketing an IPv6
 * host: the address part of the spec, for error lines and round trips. */
void listen_spec_address(const struct listen_spec *l, char *out, size_t len);

void listen_spec_free(struct listen_spec *l);

#endif
