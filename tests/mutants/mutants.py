"""The deliberate faults of the mutation check (tests/mutants/run): each is a list of edits
(file, anchor, replacement) and the few cases meant to catch it, cheapest first. An anchor must
occur exactly once in its file; the check fails loudly when one does not, so a rewrite of the
code cannot make a fault vanish silently: re-anchor it instead.

A case is "FILE.CASE" for an integration case (tests/integration/FILE.py CASE) or "unit:NAME"
for a unit-test executable. A race shows only when threads meet: `runs` is how many times each
case may run against that fault before it counts as survived (the first failure catches it)."""


def fault(name, edits, cases, why, runs=1):
    return {"name": name, "edits": edits, "cases": cases, "why": why, "runs": runs}


# --- faults in files outside the worker pool redesign ------------------------------------

STABLE = [
    fault("so_reuseaddr_dropped",
          [("server/listener.c", "    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);\n",
            "")],
          ["test_server.restart_on_same_port_despite_time_wait"],
          "a restarted server cannot bind a port whose old connections are in TIME_WAIT"),
    fault("max_line_carry_check_32x",
          [("server/framer.c", "            if (pending + n > max_line)\n",
            "            if (pending + n > 32 * max_line)\n")],
          ["test_server.line_too_long_without_newline_keeps_memory_bounded"],
          "a line without a newline is buffered up to 32 x --max-line before the refusal"),
    fault("max_line_check_off_by_one",
          [("server/framer.c", "        if (len > max_line)\n            return -EMSGSIZE;\n",
            "        if (len > max_line + 1)\n            return -EMSGSIZE;\n")],
          ["test_server.line_too_long_gets_error_and_close_others_unaffected"],
          "a line of --max-line + 1 bytes is accepted"),
    fault("tail_dropped_at_clean_eof",
          [("server/framer.c", "    if (pending > 0)\n        rc = fn(ctx, bytebuf_data(f->carry), pending);\n",
            "    if (pending > 0 && 0)\n        rc = fn(ctx, bytebuf_data(f->carry), pending);\n")],
          ["test_server.unterminated_tail_delivered_at_clean_eof"],
          "the unterminated last message is dropped at a clean end of stream"),
    fault("counter_bytes_off_by_one",
          [("plugins/counter.c", "    t->bytes += len + 1;\n", "    t->bytes += len;\n")],
          ["unit:test_plugin_counter", "test_plugins.counter_exact_under_threads_and_logs_totals"],
          "counter forgets each message's newline"),
    fault("counter_server_total_off_by_one",
          [("plugins/counter.c",
            "    atomic_fetch_add_explicit(&c->tot->conns, 1, memory_order_relaxed);\n",
            "    atomic_fetch_add_explicit(&c->tot->conns, 2, memory_order_relaxed);\n")],
          ["test_plugins.counter_exact_under_threads_and_logs_totals"],
          "counter's server total counts each closed connection twice"),
    fault("idle_timeout_ignored",
          [("server/opt.c", "    else\n        *(double *)field(base, o) = (double)u / 1e9;\n",
            "    else if (strcmp(o->name, \"idle-timeout\") != 0 || value == o->def)\n"
            "        *(double *)field(base, o) = (double)u / 1e9;\n")],
          ["test_server.idle_timeout_closes_silent_connections"],
          "--idle-timeout is parsed and then ignored (the 300 s default stays)"),
    fault("write_timeout_ignored",
          [("server/opt.c", "    else\n        *(double *)field(base, o) = (double)u / 1e9;\n",
            "    else if (strcmp(o->name, \"write-timeout\") != 0 || value == o->def)\n"
            "        *(double *)field(base, o) = (double)u / 1e9;\n")],
          ["test_server.slow_reader_is_bounded_and_closed"],
          "--write-timeout is ignored: a slow reader is kept 30 s"),
    fault("max_output_option_ignored",
          [("server/opt.c", "    else if (o->type == OPT_SIZE)\n",
            "    else if (o->type == OPT_SIZE && strcmp(o->name, \"max-output\") != 0)\n")],
          ["test_server.slow_reader_is_bounded_and_closed",
           "test_failures.slow_reader_sending_100mb_is_bounded_and_closed"],
          "--max-output is ignored (the 1 MiB default stays)"),
    fault("reply_written_twice",
          [("server/host.c", "    return conn_reply((struct conn *)conn, bytes, len);\n",
            "    conn_reply((struct conn *)conn, bytes, len);\n"
            "    return conn_reply((struct conn *)conn, bytes, len);\n")],
          ["test_server.listen_line_and_echo"],
          "every reply a plugin writes is queued twice"),
    fault("carried_line_delivered_twice",
          [("server/framer.c", "    rc = fn(ctx, bytebuf_data(f->carry), len + head);\n",
            "    rc = fn(ctx, bytebuf_data(f->carry), len + head);\n    if (!rc)\n"
            "        rc = fn(ctx, bytebuf_data(f->carry), len + head);\n")],
          ["unit:test_framer"],
          "a line completed across reads is delivered twice"),
    fault("config_parse_keeps_stale_values",
          [("server/config.c", "    memset(cfg, 0, sizeof *cfg);\n    memset(src, 0, table.n);",
            "    unsigned stale = cfg->threads;\n    memset(cfg, 0, sizeof *cfg);\n"
            "    cfg->threads = stale;\n    memset(src, 0, table.n);")],
          ["unit:test_config"],
          "config_parse keeps the struct's --threads (a second parse inherits it)"),
    fault("cli_list_added_to_the_config_files",
          [("server/opt.c", "            o->clear(base); /* a later source's list replaces the earlier one's */\n",
            "            (void)0;\n")],
          ["test_config_file.command_line_overrides_the_file"],
          "a --listen on the command line is added to the config file's listeners instead of "
          "replacing them"),
    fault("config_file_not_read",
          [("server/config.c", "    if (!rc && cfg->config_path)\n        rc = opt_parse_file(",
            "    if (!rc && cfg->config_path && 0)\n        rc = opt_parse_file(")],
          ["unit:test_config"],
          "--config FILE is accepted and then not read"),
    fault("client_options_keep_stale_values",
          [("client/options.c", "    memset(o, 0, sizeof *o);\n",
            "    char *stale = o->json_path;\n    memset(o, 0, sizeof *o);\n"
            "    o->json_path = stale;\n")],
          ["unit:test_client_options"],
          "the client's option parser keeps the struct's --json path"),
    fault("plugin_dirs_searched_in_reverse",
          [("server/registry.c", "    for (size_t i = 0; i < ndirs; i++) {\n        if (asprintf(",
            "    for (size_t k = ndirs, i = 0; k-- > 0 && ((i = k), 1);) {\n        if (asprintf(")],
          ["unit:test_registry"],
          "the last --plugin-dir wins instead of the first"),
    fault("proxy_untrusted_peer_admitted",
          [("server/server.c", "    if (proxy && untrusted_proxy(s, l, sa)) {\n",
            "    if (proxy && 0 && untrusted_proxy(s, l, sa)) {\n")],
          ["test_proxy.untrusted_peer_is_closed_unanswered"],
          "a peer outside --proxy-trusted may name any client in a PROXY header"),
    fault("proxy_v1_lone_lf_accepted",
          [("server/proxy.c", "    if (lf == buf || lf[-1] != '\\r')\n",
            "    if (lf == buf || (lf[-1] != '\\r' && 0))\n")],
          ["unit:test_proxy", "test_proxy.malformed_headers_are_refused"],
          "a v1 line ended by a lone LF is taken for a header"),
]

# --- faults in server/pool.c, server/conn.c, server/server.c ------------------------------
# These files are being rewritten (the worker pool redesign): when an anchor below stops
# matching, re-anchor the fault in the new code; never drop it.

REWRITTEN = [
    fault("drain_does_not_wait_for_connections",
          [("server/server.c", "            if (connset_count(&s->conns) == 0)\n                break;\n",
            "            if (1)\n                break;\n")],
          ["test_server.sigterm_finishes_received_messages"],
          "SIGTERM exits at once instead of finishing the open connections"),
    fault("drain_drops_queued_messages",
          [("server/conn.c",
            "        return 0; /* KICK_DRAIN: read what is left, then close at end of stream */\n",
            "        break;\n")],
          ["test_server.sigterm_finishes_received_messages"],
          "at SIGTERM a connection is closed without handling the messages already queued"),
    fault("messages_stat_off_by_one",
          [("server/conn.c", "    count(&k->messages, r.msgs);\n    if (rc == HOLD) {",
            "    count(&k->messages, r.msgs + 1);\n    if (rc == HOLD) {")],
          ["test_server.sigterm_finishes_received_messages"],
          "the summary's messages counter counts one message per read too many"),
    fault("emfile_back_off_removed",
          [("server/listener.c", "    ls->resume_ns = now_ns + ACCEPT_PAUSE_NS;\n    for",
            "    ls->resume_ns = 0;\n    for")],
          ["test_server.fd_limit_keeps_serving_without_spinning",
           "test_failures.connect_flood_at_fd_limit_256_past_max_conns"],
          "at EMFILE accepts resume at once: the accept loop spins"),
    fault("output_limit_ignored",
          [("server/conn.c", "    if (bytebuf_pending(c->out) > c->env->max_output) {\n",
            "    if (0) {\n"),
           ("server/conn.c", "            if (bytebuf_pending(c->out) > c->env->max_output)\n",
            "            if (0)\n")],
          ["test_server.slow_reader_is_bounded_and_closed"],
          "a connection whose replies are not read is never paused"),
    fault("output_limit_32x",
          [("server/conn.c", "    if (bytebuf_pending(c->out) > c->env->max_output) {\n",
            "    if (bytebuf_pending(c->out) > 32 * c->env->max_output) {\n"),
           ("server/conn.c", "            if (bytebuf_pending(c->out) > c->env->max_output)\n",
            "            if (bytebuf_pending(c->out) > 32 * c->env->max_output)\n")],
          ["test_server.slow_reader_is_bounded_and_closed"],
          "reading pauses only at 32 x --max-output"),
    fault("max_conns_off_by_one",
          [("server/server.c", "    if (connset_count(&s->conns) >= s->max_conns) {\n",
            "    if (connset_count(&s->conns) > s->max_conns) {\n")],
          ["test_server.max_conns_answers_extra_clients_with_error"],
          "--max-conns N admits N + 1 connections"),
    fault("per_connection_order_broken",
          [("server/pool.c", "        if (s & ST_RUNNING) {\n            if (!folded) {",
            "        if (0 && (s & ST_RUNNING)) {\n            if (!folded) {")],
          ["test_pool_stress.random_sleeps_and_burns_keep_order_at_16_threads",
           "test_server.pipelined_order_per_connection_under_threads"],
          "an event that finds its connection running starts a second run beside it (the "
          "state word no longer excludes): two workers may handle one connection at once",
          runs=3),
    fault("moved_source_not_registered",
          [("server/pool.c", "    if (epoll_ctl(to_set->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0)\n",
            "    if (0 && epoll_ctl(to_set->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0)\n")],
          ["test_pool_stress.random_sleeps_and_burns_keep_order_at_8_threads"],
          "a connection moved to another worker's set (--spread load, when the width grows) "
          "is taken out of its old set but never registered in the new one, so it stalls"),
    fault("growth_kept_whether_or_not_it_paid",
          [("server/spread.c",
            "    int paid = after > 0 && after >= m->rate_before * (1 + gain);\n",
            "    int paid = 1;\n")],
          ["unit:test_spread"],
          "a growth for load stays even when the load went no faster (echo bound by its "
          "client falls by a quarter on two workers)"),
    fault("blocking_spread_never_ends",
          [("server/spread.c",
            "    if (!m->before_blocking || now_ns - m->last_blocked_ns < SPREAD_UNBLOCK_NS)\n",
            "    if (1)\n")],
          ["test_spread.light_load_stays_on_one_worker_and_blocking_brings_in_all"],
          "once handlers blocked, every worker keeps taking connections for good"),
    fault("event_during_a_run_lost",
          [("server/pool.c", "     * fast as we answer must not keep its worker from the other sources of the set. */\n"
            "    requeue(self, src);\n",
            "     * fast as we answer must not keep its worker from the other sources of the set. */\n"
            "    atomic_store_explicit(&src->state, ST_IDLE, memory_order_release);\n")],
          ["test_pool_stress.message_arriving_while_its_connection_runs_is_answered"],
          "an edge that arrives while its connection runs is forgotten (edge-triggered: it is "
          "never reported again), so that connection stalls"),
    fault("sigpipe_not_ignored",
          [("server/server.c", "    signal(SIGPIPE, SIG_IGN);", "    (void)0;"),
           ("server/conn.c", "bytebuf_data(c->out), left, MSG_NOSIGNAL);",
            "bytebuf_data(c->out), left, 0);")],
          ["test_server.sigpipe_never_kills"],
          "SIGPIPE keeps its default action (death)"),
    fault("workers_take_signals",
          [("server/pool.c", "    sigfillset(&all);\n", "    sigemptyset(&all);\n")],
          ["test_server.sigpipe_never_kills"],
          "workers no longer block every signal"),
    fault("abuse_stalls_everyone",
          [("server/server.c", "pool_new(n, READ_BUFFER, conn_ready, conn_release, &s->env)",
            "pool_new(1 + 0 * n, READ_BUFFER, conn_ready, conn_release, &s->env)"),
           ("server/conn.c",
            "static int read_some(struct conn *c, struct pool_worker *w, struct conn_counters *k)\n{\n",
            "static int read_some(struct conn *c, struct pool_worker *w, struct conn_counters *k)\n{\n"
            "    if (c->bytes_in > (32u << 20))\n        usleep(600000);\n")],
          ["test_failures.random_binary_stream_is_echoed_exactly_in_order"],
          "one worker, stalled 0.6 s per event of a connection past 32 MiB: every other "
          "connection waits while the abuse lasts"),
]

# --- the admin listener (issue 14) --------------------------------------------------------

ADMIN = [
    fault("readyz_ignores_the_drain",
          [("server/admin.c", "        if (draining(a))\n            http_text(c, head, 503,",
            "        if (0 && draining(a))\n            http_text(c, head, 503,")],
          ["test_admin.ping_health_ready_then_draining"],
          "/readyz keeps answering 200 while the server drains: a load balancer keeps "
          "sending it new clients"),
    fault("totals_read_one_worker",
          [("server/conn.c", "    for (unsigned i = 0; i < env->nworkers * env->nlisteners; i++) {",
            "    for (unsigned i = 0; i < env->nlisteners; i++) {")],
          ["test_admin.scrape_under_load_passes_promtool_and_counts_match"],
          "/metrics and the exit summary sum only worker 0's counters"),
]

# --- systemd and the binary upgrade (issue 14 point 5, issue 15 point 3) -------------------

OPERATIONS = [
    fault("upgrade_closes_listeners_before_ready",
          [("server/server.c",
            "    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->upgrade};\n",
            "    listeners_close(&s->listeners);\n"
            "    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->upgrade};\n")],
          ["test_upgrade.failed_upgrades_keep_the_old_process_serving"],
          "the old process lets go of its listeners as soon as the new one starts: when the "
          "new one fails, nobody accepts"),
    fault("upgrade_listen_pid_of_the_parent",
          [("server/upgrade.c", "    put_pid(sp->listen_pid, getpid());\n",
            "    put_pid(sp->listen_pid, getppid());\n")],
          ["test_upgrade.upgrade_runs_the_file_on_disk_now"],
          "LISTEN_PID names the parent: the new process ignores the passed sockets and binds "
          "its own (another port, another inode)"),
    fault("listener_options_read_by_position",
          [("server/server.c",
            "    int proxy = (s->specs[l - s->listeners.items]->flags & LISTEN_PROXY) != 0;\n",
            "    int proxy = (s->cfg->listens[l - s->listeners.items].flags & LISTEN_PROXY) != 0;\n")],
          ["test_systemd.two_sockets_of_one_name_keep_their_listener_options_and_reload"],
          "a listener's +proxy is looked up by its position among --listen options: with two "
          "sockets passed under one systemd name, the second reads the next option's flags"),
    fault("watchdog_never_withheld",
          [("server/server.c", "    if (stuck > every) {\n", "    if (0 && stuck > every) {\n")],
          ["test_systemd.watchdog_withheld_while_a_handler_is_stuck"],
          "WATCHDOG=1 keeps coming while a handler is stuck: systemd never restarts a wedged "
          "server"),
    fault("stopping_sent_at_the_upgrade",
          [("server/server.c",
            "    notify_close(&s->notify); /* no longer the main process: STOPPING would stop the "
            "service */\n", "")],
          ["test_upgrade.upgrade_under_systemd_hands_over_mainpid"],
          "the old process still notifies after the handover (STOPPING=1 would stop the "
          "service under systemd)"),
]

# --- plugin reload by generations (issue 13) ------------------------------------------------

RELOAD = [
    fault("old_generation_unloaded_while_held",
          [("server/registry.c",
            "        if (atomic_load_explicit(&(*at)->conns, memory_order_acquire) == 0) {\n",
            "        if (1) {\n")],
          ["test_reload.reload_refused_while_previous_generation_retires"],
          "a replaced plugin version is unloaded at once, while a connection still runs it"),
    fault("close_does_not_release_generation",
          [("server/conn.c",
            "    generation_release(conn_plugins(c), c->chain->n); /* after its last hook returned */\n",
            "")],
          ["test_reload.reload_refused_while_previous_generation_retires"],
          "a closed connection still counts on its plugin versions: old versions never retire"),
    fault("migration_skips_export",
          [("server/generation.c",
            "    if (export_from(from, conn, conn_id, *state, buf, sizeof buf, &len) < 0) {\n",
            "    if (export_from(from, conn, conn_id, *state, buf, 0 * sizeof buf, &len) < 0) {\n")],
          ["test_reload.two_hundred_reloads_keep_rss_flat"],
          "counter's connections never move to the new version (their counts stay behind)"),
    fault("retired_version_keeps_its_timers",
          [("server/reload.c", "        timers_forget_owner(rl->timers, p->key);\n", "")],
          ["test_reload.reload_whose_load_hook_fails_keeps_old_version"],
          "an old version's plugin timer still fires after its unload, into unmapped code"),
]

FAULTS = STABLE + REWRITTEN + ADMIN + OPERATIONS + RELOAD
