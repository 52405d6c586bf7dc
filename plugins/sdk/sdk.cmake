# Installs the plugin SDK: include/linepool.h, include/linepool/{args,fake_host}.h, the fake
# host library, the CMake package linepool (targets linepool::sdk and linepool::fake_host,
# functions linepool_add_plugin and linepool_add_plugin_test, variable LINEPOOL_PLUGIN_DIR),
# linepool.pc (Cflags, variable plugindir) and linepool-fake-host.pc (Libs of the fake host). `cmake --install build --prefix DIR` works without
# reconfiguring: the package is relocatable and the .pc file is written at install time.
include(CMakePackageConfigHelpers)

# The fake host for plugin unit tests (tests/unit/fake_host.c): a static library that parses
# declared arguments with the server's own parser. Plain C11 + POSIX threads: built without
# -D_GNU_SOURCE, and its header needs no feature macro from its users. Two builds of it:
# lp_fake_host for linepool's own tests (instrumented in sanitizer builds), and the installed
# linepool_fake_host, never instrumented, so plugin authors link it with any flags.
function(lp_fake_host_library target)
  add_library(${target} STATIC ${PROJECT_SOURCE_DIR}/tests/unit/fake_host.c
    ${PROJECT_SOURCE_DIR}/server/plugin_schema.c ${PROJECT_SOURCE_DIR}/server/values.c
    ${PROJECT_SOURCE_DIR}/server/errbuf.c)
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/tests/unit>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/server)
  target_compile_options(${target} PRIVATE -U_GNU_SOURCE)
  target_link_libraries(${target} PUBLIC Threads::Threads)
endfunction()
find_package(Threads REQUIRED)
lp_fake_host_library(lp_fake_host)
lp_fake_host_library(lp_fake_host_sdk)
set_target_properties(lp_fake_host_sdk PROPERTIES OUTPUT_NAME linepool_fake_host
  EXPORT_NAME fake_host)
target_compile_options(lp_fake_host_sdk PRIVATE -fno-sanitize=all)
add_library(linepool::fake_host ALIAS lp_fake_host_sdk)

set(LP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/linepool)
set(LP_PLUGIN_SUBDIR ${CMAKE_INSTALL_LIBDIR}/linepool/plugins)

install(FILES ${PROJECT_SOURCE_DIR}/include/linepool.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The helpers: <linepool/args.h> (a strict KEY=VALUE parser for plugins that parse their own
# argument text) and <linepool/fake_host.h> with liblinepool_fake_host.a (unit tests).
install(FILES ${PROJECT_SOURCE_DIR}/plugins/args.h ${PROJECT_SOURCE_DIR}/tests/unit/fake_host.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/linepool)
install(TARGETS linepool_sdk lp_fake_host_sdk EXPORT linepoolTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT linepoolTargets NAMESPACE linepool:: DESTINATION ${LP_CMAKE_DIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/linepoolConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/linepoolConfig.cmake
  INSTALL_DESTINATION ${LP_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR LP_PLUGIN_SUBDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/linepoolConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/linepoolConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/linepoolConfigVersion.cmake DESTINATION ${LP_CMAKE_DIR})

# pkg-config: written at install time, so the prefix is the one installed to (also with
# `cmake --install --prefix DIR`); DESTDIR staging keeps the final prefix.
install(CODE "
  set(LP_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(CMAKE_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(CMAKE_INSTALL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  configure_file(\"${CMAKE_CURRENT_LIST_DIR}/linepool.pc.in\"
                 \"${CMAKE_CURRENT_BINARY_DIR}/linepool.pc\" @ONLY)
  configure_file(\"${CMAKE_CURRENT_LIST_DIR}/linepool-fake-host.pc.in\"
                 \"${CMAKE_CURRENT_BINARY_DIR}/linepool-fake-host.pc\" @ONLY)")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/linepool.pc
  ${CMAKE_CURRENT_BINARY_DIR}/linepool-fake-host.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
