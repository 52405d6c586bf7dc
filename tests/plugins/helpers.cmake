# Test plugins of the SDK's features, built next to the broken ones (tests/broken):
#   abi/v10      built against the first header, kept verbatim (ABI 1.0): must load
#   abi/v11      built against the minor-1 header, kept verbatim (ABI 1.1): must load
#   abi/newminor claims the next minor, abi/newmajor the next major: must be refused
#   helpers/where (listener query, instances), kv (LP_NOT_MINE + catch-all), crash (SIGSEGV)
function(lp_test_plugin name src)
  add_library(testplugin_${name} MODULE ${src})
  set_target_properties(testplugin_${name} PROPERTIES OUTPUT_NAME ${name} PREFIX ""
    C_VISIBILITY_PRESET hidden LIBRARY_OUTPUT_DIRECTORY "${LP_BROKEN_PLUGIN_DIR}")
  add_dependencies(broken_plugins testplugin_${name})
endfunction()

lp_test_plugin(v10 ${CMAKE_CURRENT_LIST_DIR}/abi/v10.c)
target_include_directories(testplugin_v10 PRIVATE ${CMAKE_CURRENT_LIST_DIR}/abi) # the old header
lp_test_plugin(v11 ${CMAKE_CURRENT_LIST_DIR}/abi/v11.c)
target_include_directories(testplugin_v11 PRIVATE ${CMAKE_CURRENT_LIST_DIR}/abi/v11)
foreach(p newminor newmajor)
  lp_test_plugin(${p} ${CMAKE_CURRENT_LIST_DIR}/abi/${p}.c)
  target_include_directories(testplugin_${p} PRIVATE ${PROJECT_SOURCE_DIR}/include)
endforeach()
foreach(p where kv crash whoami)
  lp_test_plugin(${p} ${CMAKE_CURRENT_LIST_DIR}/helpers/${p}.c)
  target_include_directories(testplugin_${p} PRIVATE ${PROJECT_SOURCE_DIR}/include)
endforeach()
find_package(Threads REQUIRED)
target_link_libraries(testplugin_kv PRIVATE Threads::Threads)
# The fault must be the plugin's SIGSEGV, not a sanitizer's report of it.
target_compile_options(testplugin_crash PRIVATE -fno-sanitize=all)
