# Unit tests of the plugin loader and of each bundled plugin, driven through a fake host.
# lp_fake_host (the fake host, tests/unit/fake_host.c) is defined with the SDK in
# plugins/sdk/sdk.cmake, because it installs with it.

# The registry test dlopens the real built plugins and the broken ones of tests/plugins.
lp_add_unit_test(test_registry ${CMAKE_CURRENT_LIST_DIR}/test_registry.c)
target_link_libraries(test_registry PRIVATE lp_core lp_fake_host)
target_compile_definitions(test_registry PRIVATE
  LP_BUILD_PLUGIN_DIR="${LP_BUILD_PLUGIN_DIR}"
  LP_BROKEN_DIR="${CMAKE_BINARY_DIR}/tests/broken")
add_dependencies(test_registry echo broken_plugins)

# Each plugin's source is compiled into its test, so sanitizer builds instrument it too.
foreach(p echo counter rate-meter)
  string(REPLACE "-" "_" t ${p})
  if(EXISTS ${PROJECT_SOURCE_DIR}/plugins/${p}.c AND EXISTS ${CMAKE_CURRENT_LIST_DIR}/test_plugin_${t}.c)
    lp_add_unit_test(test_plugin_${t} ${CMAKE_CURRENT_LIST_DIR}/test_plugin_${t}.c
      ${PROJECT_SOURCE_DIR}/plugins/${p}.c)
    target_include_directories(test_plugin_${t} PRIVATE ${PROJECT_SOURCE_DIR}/plugins)
    target_link_libraries(test_plugin_${t} PRIVATE lp_fake_host)
  endif()
endforeach()

# The plugins' header-only KEY=VALUE parser.
lp_add_unit_test(test_plugin_args ${CMAKE_CURRENT_LIST_DIR}/test_plugin_args.c)
target_include_directories(test_plugin_args PRIVATE ${PROJECT_SOURCE_DIR}/plugins)

# Declared plugin arguments, parsed by the server before load.
lp_add_unit_test(test_plugin_schema ${CMAKE_CURRENT_LIST_DIR}/test_plugin_schema.c
  ${PROJECT_SOURCE_DIR}/server/plugin_schema.c)
target_include_directories(test_plugin_schema PRIVATE ${PROJECT_SOURCE_DIR}/server
  ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(test_plugin_schema PRIVATE lp_values)

# The ABI macros of linepool.h (versions, LP_HOST_HAS).
lp_add_unit_test(test_plugin_abi ${CMAKE_CURRENT_LIST_DIR}/test_plugin_abi.c)
target_link_libraries(test_plugin_abi PRIVATE lp_fake_host)
