/* cunit_main.h - runs a CUnit suite table and turns failures into a non-zero exit status
 * (CU_basic_run_tests alone reports success even when assertions fail). */
#ifndef LINEPOOL_CUNIT_MAIN_H
#define LINEPOOL_CUNIT_MAIN_H

#include <CUnit/Basic.h>

static inline int cunit_run(CU_SuiteInfo *suites)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    if (CU_register_suites(suites) != CUE_SUCCESS) {
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed() +
                      CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

#endif
