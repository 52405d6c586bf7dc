# The Debian package: `cpack -G DEB` in the build folder writes linepool_VERSION_ARCH.deb
# with the server, the client, the bundled plugins, the plugin SDK (header, helpers, fake
# host, pkg-config and CMake package), the systemd units of this folder (installed by
# server/CMakeLists.txt, the service naming /usr/bin/linepool-server) and a man page for each
# program, generated from its --help at build time. Everything goes under /usr; the server
# finds its plugins relative to its own binary (/usr/lib/linepool/plugins).
set(LP_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})

set(LP_MAN_DIR ${CMAKE_BINARY_DIR}/man)
function(lp_man_page target summary commands plugin_subdir)
  set(out ${LP_MAN_DIR}/${target}.1)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${LP_MAN_DIR}
    COMMAND ${CMAKE_COMMAND} -DBIN=$<TARGET_FILE:${target}> -DNAME=${target}
            "-DSUMMARY=${summary}" -DVERSION=${PROJECT_VERSION} "-DCOMMANDS=${commands}"
            "-DPLUGIN_SUBDIR=${plugin_subdir}" -DOUT=${out} -P ${LP_PACKAGING_DIR}/manpage.cmake
    DEPENDS ${target} ${LP_PACKAGING_DIR}/manpage.cmake
    COMMENT "Man page ${target}.1 from its --help" VERBATIM)
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  set(LP_MAN_PAGES ${LP_MAN_PAGES} ${out} PARENT_SCOPE)
endfunction()
set(LP_MAN_PAGES)
lp_man_page(linepool-server "newline-framing TCP server running handler plugins" ""
  ${CMAKE_INSTALL_LIBDIR}/linepool/plugins)
if(TARGET linepool-client)
  lp_man_page(linepool-client "load tester and client for newline-delimited TCP servers"
    "send;stream;bench;merge;plot" "")
endif()
add_custom_target(man_pages ALL DEPENDS ${LP_MAN_PAGES})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME linepool)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "newline-framing TCP server with dlopen plugins and a worker pool, and its load tester")
set(CPACK_PACKAGE_CONTACT "linepool maintainers <linepool@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The SDK's pkg-config file is written at install time from CMAKE_INSTALL_PREFIX: with a
# DESTDIR it names /usr, not CPack's staging folder.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # libc6, zlib1g, from the binaries themselves
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "haproxy, pkg-config, cmake")
include(CPack)
