# PROXY protocol listeners (issue 15): the whoami test plugin reports peer and via.
add_custom_target(proxy_integration_deps ALL DEPENDS linepool-server echo broken_plugins)
lp_add_integration_tests(test_proxy.py TIMEOUT 60)
