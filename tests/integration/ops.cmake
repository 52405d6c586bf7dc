# Integration tests of operating the server: systemd's notify protocol and socket activation
# (Debian's systemd package: systemd-socket-activate), and the SIGUSR2 binary upgrade.
add_custom_target(ops_integration_deps ALL DEPENDS linepool-server echo counter slow)
lp_add_integration_tests(test_systemd.py TIMEOUT 120)
lp_add_integration_tests(test_upgrade.py TIMEOUT 180)
# The upgrade under load counts connects per second and refusals, which a test running
# beside it would distort.
set_tests_properties(test_upgrade.ten_upgrades_under_load_refuse_nothing
  PROPERTIES RUN_SERIAL TRUE LABELS "integration;measures")
