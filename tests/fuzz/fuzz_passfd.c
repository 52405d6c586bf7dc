/* fuzz_passfd - server/passfd.c's LISTEN_FDNAMES split against an independent reference:
 * byte 0 is LISTEN_FDS (the count; 255 = LISTEN_FDNAMES unset), the rest the names text.
 * The parse is accepted exactly when the text has that many ':'-separated names, each 1-255
 * bytes; the names joined with ':' give the text back; unset names are all "unknown". The
 * rest of the input also goes through passfd_key as a host, whose output has no ':'. */
#include "fuzz.h"
#include "passfd.h"

#include <errno.h>
#include <string.h>

static int reference_ok(const char *text, size_t n)
{
    size_t count = 0, len = 0;
    if (!*text)
        return n == 0;
    for (const char *c = text;; c++) {
        if (*c == ':' || *c == '\0') {
            if (len == 0 || len > PASSFD_NAME_MAX)
                return 0;
            count++;
            len = 0;
            if (!*c)
                break;
        } else {
            len++;
        }
    }
    return count == n;
}

static void check_names(const char *text, size_t n)
{
    char **names = NULL;
    int rc = passfd_parse_names(text, n, &names);
    if (rc == -ENOMEM)
        return;
    if (!text) {
        FUZZ_CHECK(rc == 0);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(strcmp(names[i], "unknown") == 0);
        passfd_free_names(names, n);
        return;
    }
    FUZZ_CHECK((rc == 0) == reference_ok(text, n));
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc)
        return;
    size_t off = 0, total = strlen(text);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        FUZZ_CHECK(len >= 1 && len <= PASSFD_NAME_MAX && !strchr(names[i], ':'));
        FUZZ_CHECK(off + len <= total && memcmp(text + off, names[i], len) == 0);
        off += len;
        FUZZ_CHECK(i + 1 == n ? off == total : text[off] == ':');
        off += i + 1 < n;
    }
    passfd_free_names(names, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = data[0] == 255 ? 3 : data[0];
    char *text = malloc(size);
    FUZZ_CHECK(text);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    check_names(data[0] == 255 ? NULL : text, n);
    char key[PASSFD_NAME_MAX + 1];
    passfd_key(text, (uint16_t)(size * 257), key, sizeof key);
    FUZZ_CHECK(!strchr(key, ':') && strlen(key) < sizeof key);
    free(text);
    return 0;
}
