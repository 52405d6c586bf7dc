# Integration tests of the server core, against the real binary.
add_library(slow MODULE ${CMAKE_CURRENT_LIST_DIR}/slow_plugin.c)
set_target_properties(slow PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
target_include_directories(slow PRIVATE ${PROJECT_SOURCE_DIR}/include)
add_library(burn MODULE ${CMAKE_CURRENT_LIST_DIR}/burn_plugin.c)
set_target_properties(burn PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
target_include_directories(burn PRIVATE ${PROJECT_SOURCE_DIR}/include)
add_custom_target(integration_deps ALL DEPENDS linepool-server echo slow burn)

lp_add_integration_tests(test_server.py TIMEOUT 120 CASES
  listen_line_and_echo ipv6_and_localhost default_listeners port_in_use_is_a_clear_error
  restart_on_same_port_despite_time_wait message_split_into_single_bytes
  many_messages_in_one_write_in_order nul_and_crlf_are_data
  unterminated_tail_delivered_at_clean_eof tail_dropped_and_logged_after_reset
  line_too_long_gets_error_and_close_others_unaffected
  line_too_long_without_newline_keeps_memory_bounded
  pipelined_order_per_connection_under_threads ten_thousand_connections_within_memory_budget
  blocking_handler_does_not_delay_others sigterm_finishes_received_messages
  sigint_stops_idle_server_quickly stuck_handler_cannot_hold_shutdown_past_deadline
  second_signal_forces_exit sigpipe_never_kills max_conns_answers_extra_clients_with_error
  fd_limit_keeps_serving_without_spinning slow_reader_is_bounded_and_closed
  idle_timeout_closes_silent_connections logs_have_timestamp_and_level_and_obey_v_q
  help_documents_every_option_with_default)
# The default-port case binds 5005-5007; the others measure memory, CPU or latency, which a
# test running beside them would distort.
set_tests_properties(test_server.default_listeners
  test_server.ten_thousand_connections_within_memory_budget
  test_server.blocking_handler_does_not_delay_others
  test_server.fd_limit_keeps_serving_without_spinning
  test_server.slow_reader_is_bounded_and_closed PROPERTIES RUN_SERIAL TRUE LABELS "integration;measures")

lp_add_integration_tests(test_pool_stress.py TIMEOUT 300 CASES
  random_sleeps_and_burns_keep_order_at_8_threads
  random_sleeps_and_burns_keep_order_at_16_threads)
