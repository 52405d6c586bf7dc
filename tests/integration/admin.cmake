# The admin listener (issue 14): health, metrics and line commands against the real server,
# promtool on a scrape under load, and abuse of the admin port beside a witness connection.
add_custom_target(admin_integration_deps ALL DEPENDS linepool-server echo counter slow)

lp_add_integration_tests(test_admin.py TIMEOUT 120)
