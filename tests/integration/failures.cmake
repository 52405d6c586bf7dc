# The failure matrix (issue 6, point 3): abuse and faults against the real server, each case
# also checking that another connection keeps being served. Uses the slow test plugin
# (core.cmake) and the deliberately broken plugins (tests/plugins/broken.cmake).
add_custom_target(failure_integration_deps ALL
  DEPENDS linepool-server echo counter slow broken_plugins)

lp_add_integration_tests(test_failures.py TIMEOUT 240)
# These measure memory, CPU time, throughput or drain time, or hold 10,000 sockets: a test
# running beside them would distort the figures (or take the fds).
set_tests_properties(
  test_failures.random_binary_stream_is_echoed_exactly_in_order
  test_failures.sigterm_while_50_clients_stream_counts_exactly
  test_failures.handler_blocked_forever_cannot_hold_shutdown_past_deadline PROPERTIES RUN_SERIAL TRUE)
# ...and these measure RSS or CPU time, which valgrind's own would swamp: the memcheck run
# (README, "Checking memory") leaves them out with -LE measures.
set_tests_properties(
  test_failures.giant_line_without_newline_is_refused_in_bounded_memory
  test_failures.slow_reader_sending_100mb_is_bounded_and_closed
  test_failures.connect_flood_at_fd_limit_256_past_max_conns
  test_failures.connect_flood_at_fd_limit_256_default_max_conns
  test_failures.ten_thousand_idle_connections_with_active_traffic
  test_failures.connection_churn_leaks_no_fds_or_memory
  PROPERTIES RUN_SERIAL TRUE LABELS "integration;measures")
