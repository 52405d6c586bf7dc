"""The admin listener (--admin, issue 14): HTTP health and metrics, line commands, and what
the admin port does with bad input, against the real linepool-server on port 0 of loopback."""
import os
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import lptest  # noqa: E402
from lptest import Server, connect, recv_lines, wait_for, SLOW  # noqa: E402

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


if __name__ == "__main__":
    lptest.main(globals())
