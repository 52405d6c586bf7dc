/* nomessage - a descriptor without the one mandatory hook. */
#include <linepool.h>

LP_EXPORT const struct lp_plugin lp_plugin = {
    .abi = LP_PLUGIN_ABI,
    .name = "nomessage",
};
