# Deliberately broken plugins (one per loader refusal) and a probe plugin, built into
# ${CMAKE_BINARY_DIR}/tests/broken for test_registry and test_plugins.py.
set(LP_BROKEN_PLUGIN_DIR "${CMAKE_BINARY_DIR}/tests/broken")
foreach(p nosym oldabi failload silentfail nomessage noname undefsym impostor probe)
  add_library(broken_${p} MODULE ${CMAKE_CURRENT_LIST_DIR}/broken/${p}.c)
  set_target_properties(broken_${p} PROPERTIES OUTPUT_NAME ${p} PREFIX "" C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY "${LP_BROKEN_PLUGIN_DIR}")
  target_include_directories(broken_${p} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  list(APPEND LP_BROKEN_PLUGINS broken_${p})
endforeach()
configure_file(${CMAKE_CURRENT_LIST_DIR}/broken/notelf.so.in ${LP_BROKEN_PLUGIN_DIR}/notelf.so
  COPYONLY)
add_custom_target(broken_plugins ALL DEPENDS ${LP_BROKEN_PLUGINS})
