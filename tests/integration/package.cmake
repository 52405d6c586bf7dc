# The Debian package (issue 15): cpack -G DEB, unpacked into a fresh root, run from there.
# It runs cpack in the build folder (which rewrites the SDK's .pc files there) and builds a
# plugin project twice: alone, like the SDK walkthrough.
lp_add_integration_tests(test_package.py TIMEOUT 180)
set_tests_properties(test_package.deb_installs_and_runs PROPERTIES RUN_SERIAL TRUE
  LABELS "integration;measures")
