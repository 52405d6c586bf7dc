/* option_values - the client's compound option values (addresses, templates, key patterns,
 * real numbers, segments), as OPT_FUNC callbacks of the table in options.c. Numbers, sizes,
 * seconds and ports are not here: the shared table types (server/opt.h) parse those. Each
 * callback stores into a struct client_opts and returns 0, or a negative errno with the
 * reason alone in err. */
#ifndef LINEPOOL_CLIENT_OPTION_VALUES_H
#define LINEPOOL_CLIENT_OPTION_VALUES_H

#include <stddef.h>
#include <stdint.h>

/* size_given value when send's --size came without a value (see options.c, finish_send). */
#define SIZE_BARE 2

/* "HOST:PORT", "[V6]:PORT" forms into host/port (port 1-65535). Returns 0 or -EINVAL. */
int options_parse_server(const char *text, char *host, size_t hostlen, uint16_t *port);

#define OPTION_FN(name) int name(void *base, const char *arg, char *err, size_t errlen)
OPTION_FN(apply_host);
OPTION_FN(apply_server);
OPTION_FN(apply_size);
OPTION_FN(apply_rate);
OPTION_FN(apply_message);
OPTION_FN(apply_hdr_prefix);
OPTION_FN(apply_start_at);
OPTION_FN(apply_segment);
OPTION_FN(apply_command);
OPTION_FN(apply_command_ratio);
OPTION_FN(apply_key_prefix);
OPTION_FN(apply_key_pattern);
OPTION_FN(apply_key_median);
OPTION_FN(apply_key_stddev);
OPTION_FN(apply_zipf_exp);
OPTION_FN(apply_populate);
OPTION_FN(apply_protocol);
OPTION_FN(apply_conn_duration);
OPTION_FN(apply_conn_jitter);
#undef OPTION_FN

#endif
