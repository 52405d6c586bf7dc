# Integration tests of the server core, against the real binary.
add_library(slow MODULE ${CMAKE_CURRENT_LIST_DIR}/slow_plugin.c)
set_target_properties(slow PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
target_include_directories(slow PRIVATE ${PROJECT_SOURCE_DIR}/include)
add_library(burn MODULE ${CMAKE_CURRENT_LIST_DIR}/burn_plugin.c)
set_target_properties(burn PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
target_include_directories(burn PRIVATE ${PROJECT_SOURCE_DIR}/include)
add_library(defer MODULE ${CMAKE_CURRENT_LIST_DIR}/defer_plugin.c)
set_target_properties(defer PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
target_include_directories(defer PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(defer PRIVATE Threads::Threads)
add_custom_target(integration_deps ALL DEPENDS linepool-server echo slow burn defer)

lp_add_integration_tests(test_server.py TIMEOUT 120)
# The default-port case binds 5005-5007; the others measure memory, CPU or latency, which a
# test running beside them would distort.
set_tests_properties(test_server.default_listeners
  test_server.ten_thousand_connections_within_memory_budget
  test_server.blocking_handler_does_not_delay_others
  test_server.fd_limit_keeps_serving_without_spinning
  test_server.slow_reader_is_bounded_and_closed PROPERTIES RUN_SERIAL TRUE LABELS "integration;measures")
# It samples the server's RSS, which valgrind's own would swamp (README, "Checking memory").
set_tests_properties(test_server.line_too_long_without_newline_keeps_memory_bounded
  PROPERTIES LABELS "integration;measures")

lp_add_integration_tests(test_config_file.py TIMEOUT 60)

lp_add_integration_tests(test_pool_stress.py TIMEOUT 300)
# They bound the worst wait for a reply, which tests running beside them would distort.
set_tests_properties(test_pool_stress.random_sleeps_and_burns_keep_order_at_8_threads
  test_pool_stress.random_sleeps_and_burns_keep_order_at_16_threads
  PROPERTIES RUN_SERIAL TRUE LABELS "integration;measures")

lp_add_integration_tests(test_spread.py TIMEOUT 120)
# It needs the idle core a second worker grows onto: nothing may run beside it.
set_tests_properties(test_spread.cpu_bound_handlers_keep_the_worker_that_made_them_faster
  PROPERTIES RUN_SERIAL TRUE LABELS "integration;measures")

lp_add_integration_tests(test_deferred.py TIMEOUT 300)
set_tests_properties(test_deferred.thousand_waiting_connections_hold_no_worker
  PROPERTIES RUN_SERIAL TRUE LABELS "integration;measures")
