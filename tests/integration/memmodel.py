"""The bound on linepool-server's RSS growth for a given amount of its own allocations, in
each build (glibc, ASan, TSan): the memory tests derive their budgets here, never guess them."""
import os

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
READ_BUFFER = 256 * KiB  # server/server.c READ_BUFFER: one per worker, never per connection
SANITIZER = os.environ.get("LP_SANITIZE", "")
ASAN_QUARANTINE_MIB = 4


def pow2_at_least(n):
    p = 1
    while p < n:
        p *= 2
    return p


def realloc_chain_kib(live_bytes):
    """What growing one buffer by doubling (conn_reply, framer carry) up to live_bytes can
    leave resident: the final power-of-two block plus every smaller step it was copied out
    of (freed, but kept by the allocator): < 2 x the final block."""
    return 2 * pow2_at_least(live_bytes) // KiB


def rss_budget_kib(base_kib):
    """The bound on server RSS growth for `base_kib` of server allocations, per build.

    glibc (normal build): resident memory is the allocations themselves, including freed
    blocks a thread's arena keeps for reuse; the callers count those through
    realloc_chain_kib(). ASan: 1/8 shadow for every touched byte, plus the quarantine that
    keeps freed blocks poisoned, capped for these servers (asan_env()) at 4 MiB globally and
    256 KiB per thread. Uncapped it holds up to 256 MiB: that, not the workers, is what made
    test_server.slow_reader_is_bounded_and_closed fail in CI (RSS 7,948 -> 19,904 KiB are the
    ASan build's figures; measured here: 7,868 -> 19,304 with the quarantine, +1,940 KiB
    without it, +0.9-2.7 MiB in the glibc build). TSan: 4x shadow plus 1/2 meta shadow for
    every touched byte (tsan_platform.h: kShadowMultiplier 4)."""
    if SANITIZER == "address":
        return base_kib * 9 // 8 + ASAN_QUARANTINE_MIB * 1024 + 4 * 256
    if SANITIZER == "thread":
        return base_kib * 11 // 2
    return base_kib


def asan_env():
    """For a server whose memory is measured under ASan (see rss_budget_kib): caps the
    quarantine (freed blocks are still poisoned, just recycled sooner) and turns off the fake
    stacks of detect_stack_use_after_return, whose frames are taken round-robin, so their
    pages get touched one by one with every call, up to ~11 x the stack size per thread:
    RSS that grows with the work done, measured +4.2 MiB over the 1 GiB line, and ASan's,
    not the server's. Every other test keeps both."""
    if SANITIZER != "address":
        return None
    return {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
            ":quarantine_size_mb=%d:thread_local_quarantine_size_kb=256"
            ":detect_stack_use_after_return=0" % ASAN_QUARANTINE_MIB}
