#!/usr/bin/env python3
"""--spread (issue 11): how many workers take connections, seen through the admin
listener's linepool_workers_taking_connections gauge, against the real linepool-server on
port 0 of loopback. With --spread load a light load stays on one worker, handlers that
block bring in every worker and, once they stop, the load goes back to one; CPU-bound
handlers keep the second worker they were given, since it made them faster; --spread all
uses every worker from the start."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lptest  # noqa: E402
from lptest import Server, connect, recv_lines, wait_for, SLOW  # noqa: E402
from test_admin import admin_port, scrape  # noqa: E402

SLOW_PLUGIN = os.path.join(lptest.BUILD, "tests", "slow.so")
BURN_PLUGIN = os.path.join(lptest.BUILD, "tests", "burn.so")
GAUGE = ("linepool_workers_taking_connections", ())


def width(srv):
    return scrape(admin_port(srv))[GAUGE]


def case_light_load_stays_on_one_worker_and_blocking_brings_in_all():
    with Server("--listen", "127.0.0.1:0=slow", "--plugin", SLOW_PLUGIN, "--threads", "4",
                "--admin", "0", expect_listeners=1) as srv:
        quick = connect(srv.port)
        for i in range(200):
            quick.sendall(b"q%d\n" % i)
            assert recv_lines(quick, 1) == [b"q%d" % i]
        assert width(srv) == 1
        sleepers = [connect(srv.port) for _ in range(3)]
        for s in sleepers:
            s.sendall(b"sleep %d\n" % (1500 * SLOW))
        wait_for(lambda: width(srv) == 4, 5 * SLOW, "every worker to take connections")
        # the quick connection is answered promptly meanwhile, wherever it now lives
        worst = 0.0
        for i in range(200):
            t = time.monotonic()
            quick.sendall(b"r%d\n" % i)
            assert recv_lines(quick, 1) == [b"r%d" % i]
            worst = max(worst, time.monotonic() - t)
        assert worst < 0.25 * SLOW, worst
        # the first sleeper's worker was stuck with the others' connections in its set
        assert scrape(admin_port(srv))[("linepool_worker_handoffs_total", ())] >= 1
        for s in sleepers:
            assert recv_lines(s, 1, timeout=10 * SLOW) == [b"slept %d" % (1500 * SLOW)]
            s.close()
        # No handler asleep any more: a second later the light load is back on one worker
        # (the monitor decides while workers run, so the quick connection keeps talking).
        done = time.monotonic()
        seq = [0]

        def back_on_one():
            seq[0] += 1
            quick.sendall(b"s%d\n" % seq[0])
            assert recv_lines(quick, 1) == [b"s%d" % seq[0]]
            time.sleep(0.02)
            return width(srv) == 1
        wait_for(back_on_one, 5 * SLOW, "the load to go back to one worker")
        after = time.monotonic() - done
        assert after >= 0.9, "back on one %.2f s after the last sleep: too soon" % after
        quick.close()
        rc, err = srv.stop()
        assert rc == 0, err
        print("one worker under light load; four once handlers slept; worst reply meanwhile "
              "%.1f ms; back on one %.2f s after the last sleep" % (worst * 1000, after))


def case_cpu_bound_handlers_keep_the_worker_that_made_them_faster():
    """Handlers that burn 200 us of CPU per message, 20 connections, one client thread: one
    worker is saturated and a core is idle, so a second worker joins on trial; the work done
    per second rises with it, so it stays past the trial (SPREAD_TRIAL_NS, spread.h)."""
    with Server("--listen", "127.0.0.1:0=burn", "--plugin", BURN_PLUGIN, "--threads", "2",
                "--admin", "0", expect_listeners=1) as srv:
        assert width(srv) == 1
        seconds = 4 * SLOW
        bench = subprocess.Popen(
            [lptest.CLIENT, "bench", "-p", str(srv.port), "-c", "20", "-t", "1", "-q",
             "-d", str(seconds), "--message", "burn 200"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            start = time.monotonic()
            wait_for(lambda: width(srv) == 2, 2 * SLOW, "a second worker to join")
            grown = time.monotonic()
            # past the trial's second, with room to spare, and before the bench ends
            widths = []
            while time.monotonic() < grown + 2.0 * SLOW and time.monotonic() < start + seconds - 0.3:
                widths.append(width(srv))
                time.sleep(0.1)
            out, err = bench.communicate(timeout=seconds + 10 * SLOW)
        finally:
            if bench.poll() is None:
                bench.kill()
                bench.wait()
        assert bench.returncode == 0, err
        assert len(widths) >= 10, widths
        assert all(w == 2 for w in widths), "the second worker was taken away: %s" % widths
        rc, err = srv.stop()
        assert rc == 0, err
        print("a second worker joined %.2f s into the load and stayed (%d samples over %.1f s)"
              % (grown - start, len(widths), len(widths) * 0.1))


def case_spread_all_takes_every_worker_from_the_start():
    with Server("--listen", "127.0.0.1:0=echo", "--threads", "3", "--spread", "all",
                "--admin", "0", expect_listeners=1) as srv:
        assert width(srv) == 3
        with connect(srv.port) as s:
            s.sendall(b"x\n")
            assert recv_lines(s, 1) == [b"x"]
        assert width(srv) == 3
        rc, err = srv.stop()
        assert rc == 0, err


def case_spread_other_values_are_refused():
    for bad in ("half", "", "LOAD"):
        proc = lptest.run_server("--spread", bad, "--listen", "127.0.0.1:0=echo")
        assert proc.returncode == 2, proc
        assert b"expected 'load' or 'all'" in proc.stderr, proc.stderr


if __name__ == "__main__":
    lptest.main(globals())
