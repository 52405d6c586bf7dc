# Integration tests of linepool-client: each case runs the real client binary against tiny
# in-test servers and against the real linepool-server.
add_custom_target(client_integration_deps ALL DEPENDS linepool-client)

lp_add_integration_tests(test_client.py TIMEOUT 120)
# These measure time, CPU or rate, which tests running beside them would distort.
set_tests_properties(test_client.bench_open_loop_holds_the_rate
  test_client.bench_open_loop_latency_counts_from_intended_time
  test_client.bench_open_loop_reports_both_latencies
  test_client.bench_warmup_resets_statistics_and_schedule
  test_client.bench_silent_server_times_out_without_spinning
  test_client.bench_idle_connections_cost_no_cpu test_client.bench_server_closing_is_counted
  test_client.send_size_streams_big_message_in_bounded_memory PROPERTIES RUN_SERIAL TRUE LABELS "integration;measures")
