/* nosym - a valid shared object that exports no lp_plugin symbol (a typo'd name instead). */
#include <linepool.h>

LP_EXPORT int lp_plugn = 1;
