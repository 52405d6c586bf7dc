/* fuzz.h - what every fuzz target shares: the libFuzzer entry point (also called by
 * replay.c, the plain main() that runs the seed corpus in the gcc and sanitizer builds) and
 * the oracle's check, which aborts so that libFuzzer saves the input as a crash. */
#ifndef LINEPOOL_FUZZ_H
#define LINEPOOL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs one input. Returns 0; a failed check aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: oracle mismatch: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
