# Integration tests of the plugin SDK, the bundled plugins and the loader's refusals,
# against the real server (and, for sdk_out_of_tree_plugin, an installed copy of it).
add_custom_target(plugin_integration_deps ALL
  DEPENDS linepool-server echo counter rate-meter broken_plugins)

lp_add_integration_tests(test_plugins.py TIMEOUT 120)
# The stream case measures a rate and the SDK case installs a whole build: alone, please.
set_tests_properties(test_plugins.tutorial_stream_with_Y test_plugins.sdk_out_of_tree_plugin
  PROPERTIES RUN_SERIAL TRUE LABELS "integration;measures")
