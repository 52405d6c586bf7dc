#!/usr/bin/env python3
"""Stress of the worker pool through the real server: 50 pipelining connections whose
handler sleeps 0-2 ms and burns 0-200 us of CPU at random ("mix" of the burn test plugin),
at --threads 8 and 16. Every reply must arrive, in order, exactly once, with no stall.
Randomness is seeded; the seed is printed, and a failure names it (LP_SEED=N replays it)."""
import os
import random
import threading
import time

import lptest
from lptest import SLOW, Server, connect

BURN_PLUGIN = os.path.join(lptest.BUILD, "tests", "burn.so")
SLOW_PLUGIN = os.path.join(lptest.BUILD, "tests", "slow.so")
CONNS, PER_CONN, WINDOW = 50, 200, 16
# Worst wait for one reply. ~150 ms is 7 connections of a set each answering a window of 16
# requests of up to 2.2 ms, one after another (measured 90-150 ms on 2 idle cores with
# --spread all; 205-260 ms with the default --spread load, whose first windows meet all 50
# connections packed on one worker until the blocking is seen and the set is dispersed); a
# lost wake-up is a wait without end, and unfair scheduling measured 600-700 ms (as did
# --spread load before a crowded set was dispersed at claim time). The cases run alone
# (RUN_SERIAL) so other tests cannot take the cores.
STALL_LIMIT = 0.4 * SLOW


class Pipeliner(threading.Thread):
    """Keeps WINDOW requests in flight on one connection and checks each reply's number."""

    def __init__(self, port, rnd):
        super().__init__(daemon=True)
        self.sock = connect(port, timeout=30 * SLOW)
        self.requests = [b"mix %d %d %d\n" % (i, rnd.randrange(2001), rnd.randrange(201))
                         for i in range(PER_CONN)]
        self.replies, self.worst_gap, self.error = [], 0.0, None

    def run(self):
        try:
            self.sock.sendall(b"".join(self.requests[:WINDOW]))
            sent, buf, last = WINDOW, b"", time.monotonic()
            while len(self.replies) < PER_CONN:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise AssertionError("closed after %d replies" % len(self.replies))
                now = time.monotonic()
                self.worst_gap, last = max(self.worst_gap, now - last), now
                buf += chunk
                *lines, buf = buf.split(b"\n")
                self.replies += [int(x) for x in lines]
                more = min(PER_CONN, len(self.replies) + WINDOW)
                if more > sent:
                    self.sock.sendall(b"".join(self.requests[sent:more]))
                    sent = more
            assert not buf, buf
        except Exception as e:  # reported by the case, with the seed
            self.error = e
        finally:
            self.sock.close()


def stress(threads):
    seed = int(os.environ.get("LP_SEED") or random.SystemRandom().randrange(1 << 30))
    print("seed %d (LP_SEED=%d replays it)" % (seed, seed))
    rnd = random.Random(seed)
    with Server("--listen", "127.0.0.1:0=burn", "--plugin", BURN_PLUGIN,
                "--threads", str(threads)) as srv:
        t0 = time.monotonic()
        conns = [Pipeliner(srv.port, rnd) for _ in range(CONNS)]
        for c in conns:
            c.start()
        for c in conns:
            c.join(120 * SLOW)
        took = time.monotonic() - t0
        stuck = [i for i, c in enumerate(conns) if c.is_alive()]
        assert not stuck, "seed %d: connections %s never finished" % (seed, stuck)
        for i, c in enumerate(conns):
            assert c.error is None, "seed %d, conn %d: %r" % (seed, i, c.error)
            assert c.replies == list(range(PER_CONN)), \
                "seed %d, conn %d: replies out of order or missing" % (seed, i)
        worst = max(c.worst_gap for c in conns)
        assert worst < STALL_LIMIT, "seed %d: a reply waited %.3f s" % (seed, worst)
        rc, err = srv.stop()
        assert rc == 0, err
        summary = lptest.summary_of(srv)
        assert summary["messages"] == CONNS * PER_CONN, summary
    print("threads %d: %d replies in order in %.2f s, worst wait %.1f ms" %
          (threads, CONNS * PER_CONN, took, worst * 1000))


def case_random_sleeps_and_burns_keep_order_at_8_threads():
    stress(8)


def case_random_sleeps_and_burns_keep_order_at_16_threads():
    stress(16)


def case_message_arriving_while_its_connection_runs_is_answered():
    """Edge-triggered sockets report new bytes once: a message that arrives while its
    connection's handler runs must be picked up by that run's owner afterwards. The first
    message blocks its handler 300 ms; the second is sent once the server has read the first
    (its receive queue is empty), so it lands during the handler. Three rounds, one worker
    and four, so the event meets the connection running on its own worker and after a
    hand-off."""
    for threads in (1, 4):
        with Server("--listen", "127.0.0.1:0=slow", "--plugin", SLOW_PLUGIN,
                    "--threads", str(threads)) as srv:
            for round_ in range(3):
                s = connect(srv.port, timeout=10 * SLOW)
                s.sendall(b"sleep 300\n")
                lptest.wait_read_by(srv, s, "the handler to have the first message")
                s.sendall(b"after %d\n" % round_)
                got = lptest.recv_lines(s, 2, timeout=5 * SLOW)
                assert got == [b"slept 300", b"after %d" % round_], (threads, round_, got)
                s.close()
            rc, err = srv.stop()
            assert rc == 0, err


if __name__ == "__main__":
    lptest.main(globals())
