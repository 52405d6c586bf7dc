"""The admin listener (--admin, issue 14): HTTP health and metrics, line commands, and what
the admin port does with bad input, against the real linepool-server on port 0 of loopback."""
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import lptest  # noqa: E402
from lptest import Server, connect, recv_lines, summary_of, wait_for, SLOW  # noqa: E402
from test_failures import Witness  # noqa: E402

SLOW_PLUGIN = os.path.join(lptest.BUILD, "tests", "slow.so")
ADMIN_RE = re.compile(r"^admin listening on (\S+):(\d+)$")


def admin_port(srv):
    for line in srv.stdout_lines:
        m = ADMIN_RE.match(line)
        if m:
            return int(m.group(2))
    raise AssertionError("no 'admin listening on' line in %r" % srv.stdout_lines)


def admin_addr(srv):
    for line in srv.stdout_lines:
        m = ADMIN_RE.match(line)
        if m:
            return m.group(1)
    raise AssertionError("no admin line")


def read_all(sock, timeout=5 * SLOW):
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def http(port, request):
    """Sends raw request bytes; returns (status, headers dict, body) of the one response,
    read to the server's close."""
    with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as s:
        s.sendall(request)
        data = read_all(s)
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, "no end of head in %r" % data[:200]
    lines = head.decode().split("\r\n")
    m = re.match(r"^HTTP/1\.1 (\d{3}) ", lines[0])
    assert m, lines[0]
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    assert int(headers["content-length"]) == len(body) or request.startswith(b"HEAD"), \
        "Content-Length %s but %d bytes" % (headers["content-length"], len(body))
    return int(m.group(1)), headers, body


def get(port, path):
    return http(port, b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())


def lines_until(sock, last, timeout=5 * SLOW):
    """Reads whole lines up to and including `last`; returns them."""
    sock.settimeout(timeout)
    buf = b""
    while not (buf.startswith(last + b"\n") or (b"\n" + last + b"\n") in buf):
        chunk = sock.recv(65536)
        assert chunk, "closed before %r: %r" % (last, buf[-200:])
        buf += chunk
    lines = buf.split(b"\n")[:-1]
    assert lines[-1] == last, "more after %r: %r" % (last, buf[-200:])
    return lines


def for_at_least(seconds, abuse):
    """Runs abuse() again and again until `seconds` have passed (the witness needs time to be
    answered during it); returns how many times it ran."""
    t0, n = time.monotonic(), 0
    while n == 0 or time.monotonic() - t0 < seconds:
        abuse()
        n += 1
    return n


def command(port, line, nlines=1):
    """One line command on a fresh connection; returns its answer lines."""
    with connect(port) as s:
        s.sendall(line + b"\n")
        return recv_lines(s, nlines)


def parse_metrics(text):
    """{(name, labels-tuple): value} of a text-format scrape."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        assert m, "bad sample line %r" % line
        labels = tuple(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        key = (m.group(1), labels)
        assert key not in out, "sample %r twice" % (key,)
        out[key] = float(m.group(4))
    return out


def scrape(port):
    status, headers, body = get(port, "/metrics")
    assert status == 200, status
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8", headers
    return parse_metrics(body.decode())


# --- cases -------------------------------------------------------------------------------

def case_admin_is_off_by_default():
    with Server("--listen", "127.0.0.1:0=echo") as srv:
        assert not any(ADMIN_RE.match(line) for line in srv.stdout_lines), srv.stdout_lines
        wait_for(lambda: srv.open_sockets() == 1, 5 * SLOW, "only the data listener's socket")


def case_admin_binds_loopback_unless_told():
    with Server("--listen", "127.0.0.1:0=echo", "--admin", "0", expect_listeners=1) as srv:
        assert admin_addr(srv) == "127.0.0.1", admin_addr(srv)
        assert command(admin_port(srv), b"PING") == [b"PONG"]
    with Server("--listen", "127.0.0.1:0=echo", "--admin", "[::1]:0", expect_listeners=1) as srv:
        assert admin_addr(srv) == "[::1]", admin_addr(srv)
    proc = lptest.run_server("--admin", "nohost:", "--listen", "127.0.0.1:0=echo")
    assert proc.returncode == 2 and b"--admin nohost:: bad port" in proc.stderr, proc.stderr


def case_ping_health_ready_then_draining():
    with Server("--listen", "127.0.0.1:0=slow", "--plugin", SLOW_PLUGIN, "--admin", "0",
                "--drain-timeout", str(10 * SLOW), expect_listeners=1) as srv:
        port = admin_port(srv)
        assert command(port, b"PING") == [b"PONG"]
        assert command(port, b"ping\r") == [b"PONG"]
        status, headers, body = get(port, "/healthz")
        assert (status, body) == (200, b"ok\n"), (status, body)
        assert headers["connection"] == "close", headers
        status, _, body = get(port, "/readyz")
        assert (status, body) == (200, b"ready\n"), (status, body)
        # A handler busy for 2 s holds the drain open while we probe.
        busy = connect(srv.port)
        busy.sendall(b"sleep 2000\n")
        wait_for(lambda: scrape(port)[("linepool_connections",
                                       (("listener", "127.0.0.1:%d" % srv.port),))] == 1,
                 5 * SLOW, "the busy connection to count as open")
        srv.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: get(port, "/readyz")[0] == 503, 5 * SLOW, "/readyz to say 503")
        t_ready = time.monotonic()
        assert get(port, "/readyz")[2] == b"draining\n"
        assert command(port, b"PING") == [b"DRAINING"]
        assert get(port, "/healthz")[0] == 200, "still serving while it drains"
        m = scrape(port)
        assert m[("linepool_draining", ())] == 1, m
        assert recv_lines(busy, 1, timeout=10 * SLOW) == [b"slept 2000"]
        busy.close()
        rc, _ = srv.stop(sig=None)
        print("readyz said 503 with %.2f s of the drain left" % (time.monotonic() - t_ready))


def case_http_answers_404_405_and_head():
    with Server("--listen", "127.0.0.1:0=echo", "--admin", "0", expect_listeners=1) as srv:
        port = admin_port(srv)
        assert get(port, "/nope")[0] == 404
        assert get(port, "/metricsx")[0] == 404
        status, headers, _ = http(port, b"POST /metrics HTTP/1.1\r\n\r\n")
        assert status == 405 and headers["allow"] == "GET, HEAD", (status, headers)
        status, headers, body = http(port, b"HEAD /metrics HTTP/1.0\r\n\r\n")
        assert status == 200 and body == b"" and int(headers["content-length"]) > 100
        assert get(port, "/metrics?name[]=x")[0] == 200, "a query string is ignored"
        # LF-only lines are HTTP too (RFC 9112 2.2)
        assert http(port, b"GET /healthz HTTP/1.1\n\n")[0] == 200


def promtool_check(text):
    """`promtool check metrics` (Debian's prometheus package) on one scrape: exit 0, no
    complaint."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found: install Debian's prometheus package (tests/run does)"
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          timeout=30)
    assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), \
        "promtool check metrics: %d\n%s%s" % (proc.returncode, proc.stdout.decode(),
                                              proc.stderr.decode())


def is_cumulative(name):
    return name.endswith(("_total", "_bucket", "_count", "_sum"))


def assert_grew(before, after):
    """Every counter and histogram series of `before` is in `after`, not smaller."""
    for key, v in before.items():
        if is_cumulative(key[0]) and not key[0].startswith("process_"):
            assert key in after, "series %r vanished" % (key,)
            assert after[key] >= v, "counter %r went from %r down to %r" % (key, v, after[key])


def load(port, nclients, lines_each, stop):
    """nclients connections each echo `lines_each` numbered lines (pipelined 16 deep) and
    check every answer; returns (lines, bytes) sent in all."""
    sent = [0, 0]
    lock = threading.Lock()
    errors = []

    def client(i):
        try:
            with connect(port) as s:
                n = 0
                while n < lines_each and not stop.is_set():
                    batch = [b"c%d line %d" % (i, n + k) for k in range(min(16, lines_each - n))]
                    s.sendall(b"".join(x + b"\n" for x in batch))
                    assert recv_lines(s, len(batch)) == batch
                    with lock:
                        sent[0] += len(batch)
                        sent[1] += sum(len(x) + 1 for x in batch)
                    n += len(batch)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(nclients)]
    for t in threads:
        t.start()
    return threads, sent, errors


def case_scrape_under_load_passes_promtool_and_counts_match():
    # --spread all: the 8 connections land on both workers, so the counts below are sums over
    # every worker's counters (spread by load, this light load would stay on one)
    with Server("--listen", "data@127.0.0.1:0=counter,echo", "--admin", "0", "--threads", "2",
                "--spread", "all", expect_listeners=1) as srv:
        port = admin_port(srv)
        lab = (("listener", "data"),)
        stop = threading.Event()
        threads, sent, errors = load(srv.port, 8, 15000, stop)
        scrapes, texts = [], []
        while any(t.is_alive() for t in threads):
            status, _, body = get(port, "/metrics")
            assert status == 200
            texts.append(body)
            scrapes.append(parse_metrics(body.decode()))
            time.sleep(0.02)
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(scrapes) >= 3, "only %d scrapes during the load" % len(scrapes)
        mid = texts[len(texts) // 2]
        promtool_check(mid)
        for a, b in zip(scrapes, scrapes[1:]):
            assert_grew(a, b)
        wait_for(lambda: scrape(port)[("linepool_connections", lab)] == 0, 5 * SLOW,
                 "every load connection to be closed")
        last = scrape(port)
        assert_grew(scrapes[-1], last)
        promtool_check(get(port, "/metrics")[2])
        lines, nbytes = sent
        assert lines == 8 * 15000, sent
        want = {
            ("linepool_messages_total", lab): lines,
            ("linepool_read_bytes_total", lab): nbytes,
            ("linepool_written_bytes_total", lab): nbytes,
            ("linepool_connections_accepted_total", lab): 8,
            ("linepool_connections_closed_total", (("reason", "peer"),)): 8,
            ("linepool_handler_duration_seconds_count", (("plugin", "echo"),)): lines,
            ("linepool_handler_duration_seconds_count", (("plugin", "counter"),)): lines,
            ("linepool_plugin_counted_connections_total", (("plugin", "counter"),)): 8,
            ("linepool_plugin_counted_messages_total", (("plugin", "counter"),)): lines,
            ("linepool_plugin_counted_bytes_total", (("plugin", "counter"),)): nbytes,
        }
        got = {k: last.get(k) for k in want}
        assert got == want, "\n".join("%r: %r, sent %r" % (k, got[k], want[k]) for k in want)
        busy = sum(v for (n, _), v in last.items() if n == "linepool_worker_busy_seconds_total")
        assert busy > 0, "workers that echoed %d lines were never busy" % lines
        assert last[("process_open_fds", ())] > 0 and last[("process_resident_memory_bytes", ())] > 0
        rc, _ = srv.stop()
        summary = summary_of(srv)
        assert (summary["connections"], summary["messages"], summary["bytes_in"],
                summary["bytes_out"]) == (8, lines, nbytes, nbytes), summary
        print("%d scrapes during the load; promtool passed; counters matched %d lines, %d bytes"
              % (len(scrapes), lines, nbytes))


def case_stats_and_plugins_commands():
    with Server("--plugin", "counter@a", "--listen", "127.0.0.1:0=counter@a,echo", "--admin",
                "0", expect_listeners=1) as srv:
        port = admin_port(srv)
        with connect(srv.port) as data:
            data.sendall(b"x\n")
            assert recv_lines(data, 1) == [b"x"]
            with connect(port) as s:
                s.sendall(b"plugins\n")
                assert lines_until(s, b"END") == [b"PLUGIN counter@a 1.0.0 connections=1",
                                                  b"PLUGIN echo 1.0.0 connections=1", b"END"]
                s.sendall(b"STATS\r\n")
                lines = lines_until(s, b"END")
        stat = dict(line.decode().split(" ", 2)[1:] for line in lines[:-1])
        assert all(line.startswith(b"STAT ") for line in lines[:-1]), lines
        assert stat["curr_connections"] == "1" and stat["total_connections"] == "1", stat
        assert stat["messages"] == "1" and stat["bytes_read"] == "2", stat
        assert stat["pid"] == str(srv.proc.pid) and stat["draining"] == "0", stat
        wait_for(lambda: command(port, b"plugins", 3)[0] == b"PLUGIN counter@a 1.0.0 connections=0",
                 5 * SLOW, "plugins to count the closed connection")


def case_pipelined_stats_past_the_output_bound_are_all_answered():
    # 2,000 answers are far past the admin's output bound (256 KiB): the commands left in the
    # input when output stopped must be answered once it drains, not wait for more input (the
    # connection's 5 s expiry would then close it with answers missing).
    with admin_server() as srv:
        port = admin_port(srv)
        with connect(port) as s:
            t0 = time.monotonic()
            s.sendall(b"stats\n" * 2000)
            s.settimeout(5 * SLOW)
            tail, ends = b"", 0
            while ends < 2000:
                chunk = s.recv(1 << 20)
                assert chunk, "closed after %d of 2000 END lines" % ends
                text = tail + chunk  # the 4-byte tail kept: an "\nEND\n" may straddle chunks
                ends += text.count(b"\nEND\n")
                tail = text[-4:]
            took = time.monotonic() - t0
        assert took < 2.5 * SLOW, "2,000 pipelined stats took %.2f s" % took
        print("2000 pipelined stats answered in %.3f s" % took)


# --- bad input on the admin port, each beside a witness on the data listener ---------------

def admin_server():
    return Server("--listen", "127.0.0.1:0=echo", "--admin", "0", expect_listeners=1)


def case_garbage_gets_error_lines_then_close():
    rng = lptest.seeded("garbage")
    with admin_server() as srv:
        port = admin_port(srv)
        w = Witness(srv.port)
        w.begin()

        def abuse():
            with connect(port) as s:
                junk = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))).replace(
                    b"\n", b"") for _ in range(20)]
                junk = [j for j in junk if j.strip(b" \t\r") and b"HTTP/" not in j]
                s.sendall(b"".join(j + b"\n" for j in junk) + b"PING\n")
                assert lines_until(s, b"PONG") == [b"ERROR unknown command"] * len(junk) + [b"PONG"]
                s.sendall(bytes(rng.randrange(256) for _ in range(64 * 1024)).replace(b"\n", b"x"))
                assert read_all(s) == b"ERROR line too long (max 1024 bytes)\n"

        n = for_at_least(0.5, abuse)
        assert command(port, b"PING") == [b"PONG"]
        w.end()
        w.stop()
        print(w.summary())


def case_unknown_command_is_answered_and_the_connection_stays():
    with admin_server() as srv:
        port = admin_port(srv)
        w = Witness(srv.port)
        w.begin()
        with connect(port) as s:

            def abuse():
                s.sendall(b"HELLO\n\nflush_all\n")
                assert recv_lines(s, 2) == [b"ERROR unknown command"] * 2
                s.sendall(b"PING\n")
                assert recv_lines(s, 1) == [b"PONG"]

            for_at_least(0.5, abuse)
        w.end()
        w.stop()


def case_one_mib_header_gets_431_and_close():
    with admin_server() as srv:
        port = admin_port(srv)
        w = Witness(srv.port)
        w.begin()
        big = b"a" * (1024 * 1024)

        def abuse():
            with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ")
                try:
                    s.sendall(big + b"\r\n\r\n")
                except OSError:
                    pass  # the server may close before it took all of it: documented
                data = read_all(s)
            assert data.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), \
                data[:100]

        n = for_at_least(0.5, abuse)
        assert command(port, b"PING") == [b"PONG"]
        print("%d requests with a 1 MiB header, each answered 431" % n)
        w.end()
        w.stop()
        print(w.summary())


def case_slowloris_clients_are_closed_at_the_timeout():
    timeout = 5  # ADMIN_TIMEOUT_S, server/admin.h
    with admin_server() as srv:
        port = admin_port(srv)
        w = Witness(srv.port)
        w.begin()
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
        t0 = time.monotonic()
        for s in socks:
            s.sendall(b"GET /metrics HTTP/1.1\r\n")
            s.setblocking(False)
        closed = {}
        while len(closed) < len(socks) and time.monotonic() - t0 < timeout + 5 * SLOW:
            for i, s in enumerate(socks):
                if i in closed:
                    continue
                try:
                    s.send(b"X")
                    if s.recv(100) == b"":
                        closed[i] = time.monotonic() - t0
                except BlockingIOError:
                    pass
                except OSError:
                    closed[i] = time.monotonic() - t0
            # meanwhile, other admin clients are served
            assert command(port, b"PING") == [b"PONG"]
            time.sleep(0.5)
        for s in socks:
            s.close()
        assert len(closed) == len(socks), "%d of %d slowloris clients still open after %.1f s" \
            % (len(socks) - len(closed), len(socks), time.monotonic() - t0)
        assert all(timeout - 0.6 <= t <= timeout + 2 * SLOW for t in closed.values()), closed
        w.end()
        w.stop()
        print("slowloris closed after %.2f-%.2f s; %s" % (min(closed.values()),
                                                          max(closed.values()), w.summary()))


def case_thousand_scrapers_at_once_are_all_answered_in_bounded_fds():
    n = 1000
    with Server("--listen", "127.0.0.1:0=echo", "--admin", "0", expect_listeners=1,
                preexec_fn=lptest.limit_fds(256)) as srv:
        port = admin_port(srv)
        w = Witness(srv.port)
        w.begin()
        sel = selectors.DefaultSelector()
        got = {}
        t0 = time.monotonic()
        for i in range(n):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sel.register(s, selectors.EVENT_WRITE, i)
            got[i] = b""
        done, peak = 0, 0
        while done < n and time.monotonic() - t0 < 60 * SLOW:
            for key, ev in sel.select(timeout=0.5):
                s, i = key.fileobj, key.data
                if ev & selectors.EVENT_WRITE:
                    s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
                    sel.modify(s, selectors.EVENT_READ, i)
                    continue
                try:
                    chunk = s.recv(65536)
                except ConnectionError:
                    chunk = b""
                got[i] += chunk
                if not chunk:
                    sel.unregister(s)
                    s.close()
                    done += 1
            peak = max(peak, srv.open_sockets())
        took = time.monotonic() - t0
        w.end()
        assert done == n, "%d of %d scrapers finished in %.1f s" % (done, n, took)
        ok = sum(1 for v in got.values() if v.startswith(b"HTTP/1.1 200 OK\r\n")
                 and b"linepool_messages_total" in v)
        assert ok == n, "%d of %d scrapes were answered 200 with metrics" % (ok, n)
        # listener + admin listener + witness + at most ADMIN_MAX_CONNS (32) admin clients
        assert peak <= 3 + 32, "the server held %d sockets at once" % peak
        w.stop()
        print("%d scrapes answered in %.2f s with at most %d server sockets; %s"
              % (n, took, peak, w.summary()))


if __name__ == "__main__":
    lptest.main(globals())
