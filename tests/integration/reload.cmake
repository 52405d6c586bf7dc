# SIGHUP reloads (issue 13), against the real server: a second build of echo that answers
# visibly differently, and the test plugin's variants (tests/integration/reload_plugin.c),
# each copied over a file in a temporary plugin directory as its "new version". The build
# tree's own plugins are never touched.
add_library(echo_v2 MODULE ${PROJECT_SOURCE_DIR}/plugins/echo.c)
target_compile_definitions(echo_v2 PRIVATE LP_ECHO_PREFIX="v2:" LP_ECHO_VERSION="2.0.0-test")
foreach(variant reloadable reloadable_v2 reloadable_fail reloadable_hang)
  add_library(${variant} MODULE ${CMAKE_CURRENT_LIST_DIR}/reload_plugin.c)
endforeach()
target_compile_definitions(reloadable_v2 PRIVATE RELOADABLE_VERSION="2")
target_compile_definitions(reloadable_fail PRIVATE RELOADABLE_FAIL)
target_compile_definitions(reloadable_hang PRIVATE RELOADABLE_HANG)
foreach(t echo_v2 reloadable reloadable_v2 reloadable_fail reloadable_hang)
  set_target_properties(${t} PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
  target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/include)
endforeach()
add_custom_target(reload_integration_deps ALL
  DEPENDS linepool-server echo counter echo_v2 reloadable reloadable_v2 reloadable_fail
  reloadable_hang)

lp_add_integration_tests(test_reload.py TIMEOUT 240)
# The load test bounds the worst reply gap and the RSS case measures memory: alone, please.
set_tests_properties(test_reload.fifty_clients_through_twenty_reloads
  test_reload.two_hundred_reloads_keep_rss_flat PROPERTIES RUN_SERIAL TRUE
  LABELS "integration;measures")
