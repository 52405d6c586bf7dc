# Unit tests of linepool-client's pure modules (options, histogram, message source, answer).
foreach(t options histogram msgsrc answer hdr cmdstat workload)
  lp_add_unit_test(test_client_${t} ${CMAKE_CURRENT_LIST_DIR}/test_client_${t}.c)
  target_link_libraries(test_client_${t} PRIVATE lp_client_core)
endforeach()
