/* fmt - number formatting for human-readable output. Pure: no I/O. */
#ifndef LINEPOOL_CLIENT_FMT_H
#define LINEPOOL_CLIENT_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Writes v with ',' every three digits ("50,000,002") into buf; returns buf. A buffer of 32
 * bytes always fits. */
char *fmt_thousands(char *buf, size_t len, uint64_t v);

/* Writes a latency in nanoseconds with a unit chosen for 3-4 significant digits ("812ns",
 * "23.4us", "1.25ms", "2.01s"); returns buf. */
char *fmt_ns(char *buf, size_t len, uint64_t ns);

#endif
