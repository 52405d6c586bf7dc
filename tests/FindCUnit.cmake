# FindCUnit - CUnit 2.1 (Debian: libcunit1-dev), for the unit tests. Defines CUnit_FOUND,
# CUNIT_INCLUDE_DIR and CUNIT_LIBRARY. A find module, so -DCMAKE_DISABLE_FIND_PACKAGE_CUnit=ON
# configures as if it were not installed.
find_library(CUNIT_LIBRARY cunit)
find_path(CUNIT_INCLUDE_DIR CUnit/Basic.h)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CUnit DEFAULT_MSG CUNIT_LIBRARY CUNIT_INCLUDE_DIR)
