# Fuzz targets (tests/fuzz/README.md). Each target is one fuzz_NAME.c plus the module under
# test compiled in. Every build gets fuzz_NAME_replay (replay.c as main) and a CTest entry
# that runs the seed corpus through it once, so the gcc and sanitizer suites cover it. With
# -DLP_FUZZ=ON (clang) the libFuzzer binaries fuzz_NAME are built too, into build/fuzz/.
set(LP_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(LP_FUZZ_OUT ${CMAKE_BINARY_DIR}/fuzz)
set(LP_FUZZ_TARGETS framer config values plugin_args plugin_schema hdr json hlog template
    admin_proto proxy passfd)
set(LP_FUZZ_proxy_SOURCES ${PROJECT_SOURCE_DIR}/server/proxy.c)
set(LP_FUZZ_framer_SOURCES ${PROJECT_SOURCE_DIR}/server/framer.c
    ${PROJECT_SOURCE_DIR}/server/bytebuf.c)
set(LP_FUZZ_admin_proto_SOURCES ${PROJECT_SOURCE_DIR}/server/admin_proto.c)
set(LP_FUZZ_config_SOURCES ${PROJECT_SOURCE_DIR}/server/config.c
    ${PROJECT_SOURCE_DIR}/server/listen_spec.c ${PROJECT_SOURCE_DIR}/server/opt.c
    ${PROJECT_SOURCE_DIR}/server/values.c ${PROJECT_SOURCE_DIR}/server/cidr.c)
set(LP_FUZZ_values_SOURCES ${PROJECT_SOURCE_DIR}/server/opt.c ${PROJECT_SOURCE_DIR}/server/values.c)
set(LP_FUZZ_passfd_SOURCES ${PROJECT_SOURCE_DIR}/server/passfd.c
    ${PROJECT_SOURCE_DIR}/server/log.c ${PROJECT_SOURCE_DIR}/server/values.c)
set(LP_FUZZ_plugin_args_SOURCES) # plugins/args.h is header-only
set(LP_FUZZ_plugin_schema_SOURCES ${PROJECT_SOURCE_DIR}/server/plugin_schema.c
    ${PROJECT_SOURCE_DIR}/server/values.c)
# linepool-client's parsers, compiled in (not linked from lp_client_core) so libFuzzer sees
# their coverage.
set(LP_CLIENT_DIR ${PROJECT_SOURCE_DIR}/client)
find_package(ZLIB REQUIRED)
set(LP_FUZZ_hdr_SOURCES ${LP_CLIENT_DIR}/hdr.c ${LP_CLIENT_DIR}/base64.c ${LP_CLIENT_DIR}/histogram.c)
set(LP_FUZZ_hdr_LIBS ZLIB::ZLIB m)
set(LP_FUZZ_json_SOURCES ${LP_CLIENT_DIR}/json.c)
set(LP_FUZZ_json_LIBS m)
set(LP_FUZZ_hlog_SOURCES ${LP_FUZZ_hdr_SOURCES} ${LP_CLIENT_DIR}/hlog.c ${LP_CLIENT_DIR}/merge.c
    ${LP_CLIENT_DIR}/cmdstat.c ${LP_CLIENT_DIR}/json.c ${LP_CLIENT_DIR}/memtier.c)
set(LP_FUZZ_hlog_LIBS ZLIB::ZLIB m)
set(LP_FUZZ_template_SOURCES ${LP_CLIENT_DIR}/template.c ${LP_CLIENT_DIR}/workload.c
    ${LP_CLIENT_DIR}/replies.c)
set(LP_FUZZ_template_LIBS m)

if(LP_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "LP_FUZZ needs clang: cmake -DCMAKE_C_COMPILER=clang -DLP_FUZZ=ON ...")
  endif()
  if(LP_SANITIZE STREQUAL "thread")
    message(FATAL_ERROR "LP_FUZZ builds with ASan+UBSan; it cannot be combined with TSan")
  endif()
endif()

function(lp_fuzz_executable exe name)
  # errbuf.c: the one error-line helper every parser uses
  add_executable(${exe} ${LP_FUZZ_DIR}/fuzz_${name}.c ${LP_FUZZ_${name}_SOURCES}
                 ${PROJECT_SOURCE_DIR}/server/errbuf.c ${ARGN})
  target_include_directories(${exe} PRIVATE ${LP_FUZZ_DIR} ${PROJECT_SOURCE_DIR}/server
                             ${PROJECT_SOURCE_DIR}/plugins ${PROJECT_SOURCE_DIR}/include
                             ${PROJECT_SOURCE_DIR}/client)
  target_compile_definitions(${exe} PRIVATE ${LP_PATH_DEFINES})
  set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${LP_FUZZ_OUT})
  if(LP_FUZZ_${name}_LIBS)
    target_link_libraries(${exe} PRIVATE ${LP_FUZZ_${name}_LIBS})
  endif()
endfunction()

foreach(name ${LP_FUZZ_TARGETS})
  lp_fuzz_executable(fuzz_${name}_replay ${name} ${LP_FUZZ_DIR}/replay.c)
  add_test(NAME fuzz_${name}.seed_corpus
    COMMAND fuzz_${name}_replay ${LP_FUZZ_DIR}/corpus/${name})
  set_tests_properties(fuzz_${name}.seed_corpus PROPERTIES TIMEOUT 120 LABELS "unit;fuzz")

  if(LP_FUZZ)
    lp_fuzz_executable(fuzz_${name} ${name})
    set(flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
        -fno-omit-frame-pointer)
    target_compile_options(fuzz_${name} PRIVATE ${flags})
    target_link_options(fuzz_${name} PRIVATE ${flags})
    # libFuzzer runs files named one by one (a folder would be fuzzed, and written into).
    file(GLOB seeds CONFIGURE_DEPENDS ${LP_FUZZ_DIR}/corpus/${name}/*)
    add_test(NAME fuzz_${name}.libfuzzer_seeds COMMAND fuzz_${name} ${seeds})
    set_tests_properties(fuzz_${name}.libfuzzer_seeds PROPERTIES TIMEOUT 120 LABELS fuzz)
  endif()
endforeach()
