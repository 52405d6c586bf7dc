#!/usr/bin/env python3
"""Deferred answers through the real server (host defer/complete, SDK 2): a test plugin
answers from its own thread after a random delay; replies keep the order of their messages,
none arrives after a close, the drain waits for them, and waiting connections hold no
worker. Randomness is seeded; the seed is printed and named in a failure (LP_SEED=N)."""
import json
import os
import random
import re
import signal
import subprocess
import threading
import time

import lptest
from lptest import SLOW, Server, connect

DEFER_PLUGIN = os.path.join(lptest.BUILD, "tests", "defer.so")
CONNS, PER_CONN, WINDOW = 50, 120, 12


def defer_server(*extra):
    return Server("--listen", "127.0.0.1:0=defer", "--plugin", DEFER_PLUGIN, *extra)


def seed_of():
    seed = int(os.environ.get("LP_SEED") or random.SystemRandom().randrange(1 << 30))
    print("seed %d (LP_SEED=%d replays it)" % (seed, seed))
    return seed


class Pipeliner(threading.Thread):
    """WINDOW requests in flight: deferred ones (random 0-50 ms) mixed with immediate ones;
    every reply must be the next number. close_after: hang up with answers outstanding."""

    def __init__(self, port, rnd, close_after=None):
        super().__init__(daemon=True)
        self.sock = connect(port, timeout=30 * SLOW)
        self.requests = [(b"d %d %d\n" % (i, rnd.randrange(51))) if rnd.random() < 0.7
                         else (b"now %d\n" % i) for i in range(PER_CONN)]
        self.close_after = close_after
        self.replies, self.error = [], None

    def run(self):
        try:
            self.sock.sendall(b"".join(self.requests[:WINDOW]))
            sent, buf = WINDOW, b""
            while len(self.replies) < PER_CONN:
                if self.close_after is not None and len(self.replies) >= self.close_after:
                    return
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise AssertionError("closed after %d replies" % len(self.replies))
                buf += chunk
                *lines, buf = buf.split(b"\n")
                self.replies += [int(x) for x in lines]
                more = min(PER_CONN, len(self.replies) + WINDOW)
                if more > sent:
                    self.sock.sendall(b"".join(self.requests[sent:more]))
                    sent = more
        except Exception as e:  # reported by the case, with the seed
            self.error = e
        finally:
            self.sock.close()


def case_deferred_answers_from_a_thread_keep_their_order():
    seed = seed_of()
    rnd = random.Random(seed)
    with defer_server("--threads", "2") as srv:
        quitters = [Pipeliner(srv.port, rnd, close_after=rnd.randrange(5, 60)) for _ in range(5)]
        conns = [Pipeliner(srv.port, rnd) for _ in range(CONNS)]
        for c in quitters + conns:
            c.start()
        for c in quitters + conns:
            c.join(60 * SLOW)
        assert not [c for c in conns if c.is_alive()], "seed %d: a connection hung" % seed
        for i, c in enumerate(conns):
            assert c.error is None, "seed %d, conn %d: %r" % (seed, i, c.error)
            assert c.replies == list(range(PER_CONN)), "seed %d, conn %d: %s" % (
                seed, i, c.replies[:20])
        for c in quitters:  # what they got before hanging up was in order too
            assert c.error is None, (seed, c.error)
            assert c.replies == list(range(len(c.replies))), (seed, c.replies[:20])
        # every quitter's outstanding answers are completed against a closed connection
        lptest.wait_for(lambda: lptest.echo_roundtrip(srv.port, b"now 7") == b"7",
                        5 * SLOW, "the server to answer after the quitters")
        rc, err = srv.stop()
        assert rc == 0, err
    print("%d connections x %d answers in order (%d hung up early)" % (CONNS, PER_CONN, 5))


def case_overtake_lets_later_answers_pass():
    with defer_server() as srv:
        s = connect(srv.port)
        s.sendall(b"overtake\nd 1 300\nnow 2\n")
        got = lptest.recv_lines(s, 3, timeout=5 * SLOW)
        assert got == [b"ok", b"2", b"1"], got
        s.close()
        rc, err = srv.stop()
        assert rc == 0, err


def case_drain_waits_for_deferred_answers():
    """SIGTERM while 10 connections wait 400 ms for their answers: every answer is written
    before its connection closes, and the server exits 0 within --drain-timeout."""
    with defer_server("--drain-timeout", str(3 * SLOW)) as srv:
        socks = [connect(srv.port, timeout=10 * SLOW) for _ in range(10)]
        for i, s in enumerate(socks):
            s.sendall(b"d %d 400\n" % i)
        for s in socks:
            lptest.wait_read_by(srv, s, "the handler to have the message")
        srv.proc.send_signal(signal.SIGTERM)
        for i, s in enumerate(socks):
            got, how = lptest.read_to_end(s, 10 * SLOW)
            assert got == b"%d\n" % i and how == "fin", (i, got, how)
            s.close()
        rc, err = srv.stop(sig=None, timeout=10 * SLOW)
        assert rc == 0, err


def case_thousand_waiting_connections_hold_no_worker():
    """1,000 connections each waiting 100 ms on a deferred answer, --threads 2: at ~10,000
    answers/s the workers only ever hand out tickets (a worker blocked per wait would cap
    this at 20/s)."""
    lptest.raise_fd_limit(4096)
    with defer_server("--threads", "2") as srv:
        report = os.path.join(lptest.tempfile.gettempdir(), "lp-defer-%d.json" % os.getpid())
        proc = subprocess.run([lptest.CLIENT, "bench", "-p", str(srv.port), "-c", "1000",
                               "-t", "1", "-d", "3", "-q", "--message", "d 0 100",
                               "--timeout", str(10 * SLOW), "--json", report],
                              capture_output=True, timeout=60 * SLOW)
        assert proc.returncode == 0, proc.stderr
        with open(report) as f:
            r = json.load(f)
        os.unlink(report)
        assert r["errors"]["total"] == 0, r["errors"]
        rps = r["requests_per_second"]
        print("1,000 connections x 100 ms deferred: %.0f answers/s" % rps)
        assert rps >= 9000 / SLOW, rps
        rc, err = srv.stop()
        assert rc == 0, err


def case_connection_timers_one_shot_and_repeating():
    """A repeating connection timer answers 5 times, 80 ms apart, then cancels itself; a
    one-shot one answers once; a plugin timer completes a deferred answer from the timer
    thread."""
    with defer_server() as srv:
        s = connect(srv.port)
        t0 = time.monotonic()
        s.sendall(b"every 80 5\n")
        got = lptest.recv_lines(s, 5, timeout=5 * SLOW)
        took = time.monotonic() - t0
        assert got == [b"tock %d" % i for i in range(1, 6)], got
        assert took >= 0.38, took  # five ticks 80 ms apart cannot come sooner
        s.sendall(b"tick 50\nptimer 50\nnow 9\n")
        got = lptest.recv_lines(s, 3, timeout=5 * SLOW)
        assert sorted(got[:1]) == [b"tick"] and got[1:] == [b"ptimer", b"9"], got
        s.close()
        rc, err = srv.stop()
        assert rc == 0, err


def case_timers_of_a_closed_connection_stop():
    """20 connections start a timer every 5 ms and hang up: the timers are cancelled with
    them (a callback into a freed connection would crash the server or trip ASan), and the
    server keeps answering."""
    with defer_server() as srv:
        for _ in range(20):
            s = connect(srv.port)
            s.sendall(b"every 5 100000\n")
            # Ticking when it hangs up: the first tick has come, and maybe more behind it
            # in the same read when the test was slow to look (each in order).
            s.settimeout(5 * SLOW)
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(65536)
                assert chunk, "closed before the first tick"
                buf += chunk
            ticks = buf[:buf.rindex(b"\n")].split(b"\n")
            assert ticks == [b"tock %d" % k for k in range(1, len(ticks) + 1)], ticks
            s.close()
        lptest.wait_for(lambda: lptest.echo_roundtrip(srv.port, b"now 3") == b"3", 5 * SLOW,
                        "the server to answer after the closes")
        rc, err = srv.stop()
        assert rc == 0, err


def case_three_hundred_connections_with_timers_at_once():
    """More timers at once than one chunk of timer slots (256): every connection still gets
    its five ticks, in order (timer memory never moves under the connections)."""
    lptest.raise_fd_limit(2048)
    with defer_server() as srv:
        socks = [connect(srv.port, timeout=10 * SLOW) for _ in range(300)]
        for s in socks:
            s.sendall(b"every 30 5\n")
        for i, s in enumerate(socks):
            got = lptest.recv_lines(s, 5, timeout=10 * SLOW)
            assert got == [b"tock %d" % k for k in range(1, 6)], (i, got)
            s.close()
        rc, err = srv.stop()
        assert rc == 0, err


def case_rate_meter_progress_lines_come_during_a_silent_stretch():
    """rate-meter's interval lines come from a timer: a stream that goes silent after its
    first bytes still gets one line per interval (0.2 s here), on time."""
    with Server("--listen", "127.0.0.1:0=rate-meter",
                "--plugin", "rate-meter:interval=0.2") as srv:
        s = connect(srv.port)
        s.sendall(b"X" * 1000 + b"\n")
        t0 = time.monotonic()
        progress = re.compile(r"rate-meter.*conn \d+ \[")
        lptest.wait_for(lambda: len(progress.findall(srv.stderr())) >= 3, 5 * SLOW,
                        "three progress lines while the client is silent")
        took = time.monotonic() - t0
        assert took < 1.5 * SLOW, took
        s.sendall(b"Y\n")
        got = lptest.recv_lines(s, 4, timeout=5 * SLOW)
        assert got[0] == b"Processed 1,003 bytes in 2 chunks.", got
        s.close()
        rc, err = srv.stop()
        assert rc == 0, err
    print("3 progress lines in %.2f s of silence (interval 0.2 s)" % took)


if __name__ == "__main__":
    lptest.main(globals())
