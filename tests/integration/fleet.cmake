# A fleet of three instances behind real HAProxy (issue 15): failover and drain. It bounds
# how fast a killed instance's clients see the close, which tests beside it would distort.
lp_add_integration_tests(test_fleet.py TIMEOUT 60)
set_tests_properties(test_fleet.haproxy_fleet_failover_and_drain PROPERTIES RUN_SERIAL TRUE
  LABELS "integration;measures")
