# Unit tests of the plugin loader and of each bundled plugin, driven through a fake host.
# The fake host parses declared arguments with the server's own parser. It is installed with
# the SDK (plugins/sdk/sdk.cmake) for plugin authors' unit tests.
add_library(lp_fake_host STATIC ${CMAKE_CURRENT_LIST_DIR}/fake_host.c
  ${PROJECT_SOURCE_DIR}/server/plugin_schema.c ${PROJECT_SOURCE_DIR}/server/values.c)
set_target_properties(lp_fake_host PROPERTIES OUTPUT_NAME linepool_fake_host
  POSITION_INDEPENDENT_CODE ON)
target_include_directories(lp_fake_host PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<BUILD_INTERFACE:${CMAKE_CURRENT_LIST_DIR}>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/linepool>)
target_include_directories(lp_fake_host PRIVATE ${PROJECT_SOURCE_DIR}/server)
# Built without feature macros (-D_GNU_SOURCE is for the server): what users compile with.
set_property(TARGET lp_fake_host APPEND PROPERTY COMPILE_OPTIONS -U_GNU_SOURCE)
find_package(Threads REQUIRED)
target_link_libraries(lp_fake_host PUBLIC Threads::Threads)

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
