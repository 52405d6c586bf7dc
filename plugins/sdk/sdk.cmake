# Installs the plugin SDK: include/linepool.h, the CMake package linepool (target
# linepool::sdk, function linepool_add_plugin, variable LINEPOOL_PLUGIN_DIR) and linepool.pc
# (Cflags, variable plugindir). `cmake --install build --prefix DIR` works without
# reconfiguring: the package is relocatable and the .pc file is written at install time.
include(CMakePackageConfigHelpers)

set(LP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/linepool)
set(LP_PLUGIN_SUBDIR ${CMAKE_INSTALL_LIBDIR}/linepool/plugins)

install(FILES ${PROJECT_SOURCE_DIR}/include/linepool.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS linepool_sdk EXPORT linepoolTargets)
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
                 \"${CMAKE_CURRENT_BINARY_DIR}/linepool.pc\" @ONLY)")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/linepool.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
