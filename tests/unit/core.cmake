# Unit tests of the server core modules.
lp_add_unit_test(test_framer ${CMAKE_CURRENT_LIST_DIR}/test_framer.c)
target_link_libraries(test_framer PRIVATE lp_framer)
lp_add_unit_test(test_config ${CMAKE_CURRENT_LIST_DIR}/test_config.c)
target_link_libraries(test_config PRIVATE lp_core)
target_compile_definitions(test_config PRIVATE
  LP_BUILD_PLUGIN_DIR="${LP_BUILD_PLUGIN_DIR}" LP_INSTALL_PLUGIN_DIR="${LP_INSTALL_PLUGIN_DIR}")
lp_add_unit_test(test_pool ${CMAKE_CURRENT_LIST_DIR}/test_pool.c)
target_link_libraries(test_pool PRIVATE lp_core)
