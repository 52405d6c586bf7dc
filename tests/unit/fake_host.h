/* fake_host - a struct lp_host for driving plugins in unit tests without sockets: replies
 * are recorded per fake connection, log lines in one shared list, and the clock is set by
 * the test. */
#ifndef LINEPOOL_FAKE_HOST_H
#define LINEPOOL_FAKE_HOST_H

#include <linepool.h>

#include <stddef.h>
#include <stdint.h>

/* One fake connection. Each is used by one thread at a time, like the real server's. */
struct fake_conn {
    uint64_t id;
    char peer[64];
    char *out; /* every reply, concatenated, NUL-terminated */
    size_t outlen;
    int close_requested;
    void *state;               /* the plugin's conn_state */
    const struct lp_plugin *p; /* the plugin under test */
    const char *listener_name; /* what host->listener_name answers: "test" */
    const char *listener_addr; /* "127.0.0.1:7000"; a test may point these elsewhere */
    void *pstate;              /* its global state */
    const char *via;           /* what host->via answers: NULL (a listener without +proxy);
                                * a test of a proxied client sets it and rewrites peer */
};

/* The host table, every function of this header's minor (defer, complete, overtake and the
 * timers answer -ENOSYS: the integration tests cover them). metric_new and shared answer
 * only inside fake_load, as the server's do only in a load hook. The fake host has ONE
 * instance: each fake_load is its next version and gets back the same metrics and the same
 * shared blocks (by name), as a version loaded by SIGHUP does. */
extern const struct lp_host fake_host;

/* A metric's current value by its name: 0, or -ENOENT when no load registered it. */
int fake_metric_value(const char *name, int64_t *value);
/* Forgets every metric and shared block: call only when no loaded state points at them
 * (after the unload), e.g. so one test's totals do not reach the next. Also run at exit. */
void fake_host_reset(void);

/* Sets what fake_host.now_ns returns. Starts at 1 s. Any thread. */
void fake_set_now(uint64_t ns);
void fake_advance(uint64_t ns);
/* Makes fake_host.stopping return v. */
void fake_set_stopping(int v);

/* Loads plugin p with args through the fake host; returns the load hook's result and its
 * message in err. A plugin with declared arguments gets them parsed by the server's own
 * parser first (a refusal returns -EINVAL with the server's line, without "plugin NAME: "). */
int fake_load(const struct lp_plugin *p, const char *args, void **state, char *err, size_t errlen);

/* Opens a connection with the given id and peer "127.0.0.1:<port>", calling the open hook. */
int fake_open(struct fake_conn *c, const struct lp_plugin *p, void *pstate, uint64_t id,
              unsigned port);
/* One read(2) of `data`: the read hook, then the message hook for each complete '\n'
 * message in it (data must hold whole messages). Returns how many hooks said LP_STOP. */
int fake_feed(struct fake_conn *c, const char *data, size_t len);
#define FAKE_FEED(c, literal) fake_feed((c), (literal), sizeof(literal) - 1)
/* One message hook call with exactly these bytes; LP_NOT_MINE then goes to the plugin's
 * unhandled hook, as in a chain of one. */
enum lp_verdict fake_message(struct fake_conn *c, const char *msg, size_t len);
/* Calls the close hook; keeps the recorded output for inspection. */
void fake_close(struct fake_conn *c);
/* Forgets the recorded output (fake_close does not). */
void fake_clear(struct fake_conn *c);
void fake_conn_free(struct fake_conn *c);

/* The log: lines as "LEVEL plugin: text". fake_log_find returns the first line containing
 * `needle`, or NULL. */
size_t fake_log_count(void);
const char *fake_log_line(size_t i);
const char *fake_log_find(const char *needle);
void fake_log_clear(void);

#endif
