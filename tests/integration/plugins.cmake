# Integration tests of the plugin SDK, the bundled plugins and the loader's refusals,
# against the real server (and, for sdk_out_of_tree_plugin, an installed copy of it).
add_custom_target(plugin_integration_deps ALL
  DEPENDS linepool-server echo counter rate-meter broken_plugins)

set(LP_REFUSALS not_found not_a_shared_object unresolved_symbol no_descriptor_symbol
  abi_mismatch no_message_hook no_name load_hook_failure duplicate_name bad_plugin_args
  newer_minor other_major repeated_arg bad_bool_arg out_of_range_arg malformed_arg args_to_echo
  empty_instance bad_instance instance_twice bad_listener_names)
list(TRANSFORM LP_REFUSALS PREPEND refuses_)
lp_add_integration_tests(test_plugins.py TIMEOUT 120 CASES
  ${LP_REFUSALS} refuses_world_writable_file_and_directory unknown_plugin_in_listen
  abi_older_minor_loads instances_have_separate_state listener_query_names_and_addresses
  not_mine_catch_all_once crash_names_plugin_hook_and_connection list_plugins
  help_and_version_print_plugin_dirs small_fixes_in_the_log
  plugin_args_reach_the_plugin plugin_by_path chain_counter_then_echo
  chain_rate_meter_passes_everything_on counter_exact_under_threads_and_logs_totals
  tutorial_send_one_message tutorial_large_message tutorial_stream_with_Y
  rate_meter_progress_lines_every_second sdk_out_of_tree_plugin)
# The stream case measures a rate and the SDK case installs a whole build: alone, please.
set_tests_properties(test_plugins.tutorial_stream_with_Y test_plugins.sdk_out_of_tree_plugin
  PROPERTIES RUN_SERIAL TRUE LABELS "integration;measures")
