"""lptest - helpers for integration tests: start the real linepool-server on port 0 of
127.0.0.1, find its ports from its stdout, talk to it over real sockets, always stop it.

Each test file is run as `python3 FILE CASE`; CASE names a function `case_<CASE>`.
A case fails by raising (assert); every wait is bounded. Every server a case starts is
stopped with SIGTERM and its exit status checked (Server.stop, or the context manager's exit);
every run of the server binary, refusals and --help included, goes through run_server() or
Server, so LP_VALGRIND=1 reaches all of them. Random inputs come from seeded(), which prints the
seed when the case fails.
"""
import fcntl
import os
import random
import re
import resource
import signal
import socket
import subprocess
import struct
import sys
import tempfile
import termios
import threading
import time

BUILD = os.environ.get("LP_BUILD_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
SOURCE = os.environ.get("LP_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
SERVER = os.path.join(BUILD, "server", "linepool-server")
CLIENT = os.path.join(BUILD, "client", "linepool-client")
PLUGIN_DIR = os.path.join(BUILD, "plugins")
SANITIZED = bool(os.environ.get("LP_SANITIZE"))
# LP_VALGRIND=1 runs every server under valgrind memcheck (see README, "Checking memory").
VALGRIND = [] if not os.environ.get("LP_VALGRIND") else [
    "valgrind", "--quiet", "--error-exitcode=97", "--leak-check=full",
    "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite,indirect"]
# Sanitizer builds run several times slower, valgrind far slower: scale time bounds, never
# assertions on data.
SLOW = 20 if VALGRIND else 4 if SANITIZED else 1

LISTEN_RE = re.compile(r"^listening on (\S+):(\d+) \((.*)\)$")


class Server:
    """A running linepool-server. Use as a context manager; stop() returns (rc, stderr)."""

    def __init__(self, *args, expect_listeners=None, env=None, preexec_fn=None, wait=True,
                 wrap=(), pass_fds=(), exe=None):
        """wrap: a command that execs the server (e.g. systemd-socket-activate ...); exe: a
        copy of the server binary to run instead of the build's."""
        self.args = list(wrap) + server_command(*args, exe=exe)
        self.stderr_file = tempfile.NamedTemporaryFile(prefix="lp-stderr-", delete=False)
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                     stderr=self.stderr_file, env=full_env,
                                     preexec_fn=preexec_fn, pass_fds=pass_fds)
        self.listeners = []  # (host, port, plugins)
        self.stdout_lines = []
        self.rc = None
        if wait:
            n = expect_listeners
            if n is None:
                n = sum(1 for a in args if a == "--listen") or 3
            self._await_listeners(n)

    def _await_listeners(self, n, timeout=10 * SLOW):
        deadline = time.monotonic() + timeout
        while len(self.listeners) < n:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError("server did not print %d listening lines; stderr:\n%s"
                                     % (n, self.stderr()))
            line = self.proc.stdout.readline().decode()
            if not line:
                rc = self.proc.wait(timeout=5)
                raise AssertionError("server exited (%s) before listening; stderr:\n%s"
                                     % (rc, self.stderr()))
            self.stdout_lines.append(line.rstrip("\n"))
            m = LISTEN_RE.match(line.strip())
            if m:
                host = m.group(1).strip("[]")
                self.listeners.append((host, int(m.group(2)), m.group(3)))

    @property
    def port(self):
        return self.listeners[0][1]

    def port_of(self, plugins):
        for host, port, p in self.listeners:
            if p == plugins:
                return port
        raise KeyError(plugins)

    def stderr(self):
        with open(self.stderr_file.name, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=10, expect=0):
        """Signals the server (unless sig is None), waits for exit; returns (rc, stderr).
        The exit status must be `expect` (None: the caller checks it)."""
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.rc = self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("server did not exit within %ss; stderr:\n%s"
                                 % (timeout * SLOW, self.stderr()))
        rest = self.proc.stdout.read().decode(errors="replace")
        self.stdout_lines += rest.splitlines()
        err = self.stderr()
        assert_no_sanitizer_report(err)
        assert expect is None or self.rc == expect, "server exited %s, expected %s; stderr:\n%s" \
            % (self.rc, expect, err[-4000:])
        return self.rc, err

    def kill(self):
        """Only for a case that already failed: SIGTERM first, so the server's own checks
        (LeakSanitizer, valgrind) still report; SIGKILL if it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def open_fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def open_sockets(self):
        """Sockets the server holds: its listeners and connections (no other fd)."""
        d = "/proc/%d/fd" % self.proc.pid
        n = 0
        for fd in os.listdir(d):
            try:
                n += os.readlink(os.path.join(d, fd)).startswith("socket:")
            except OSError:
                pass  # closed meanwhile
        return n

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tick

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                if self.rc is None:  # the case did not stop it: SIGTERM, and exit status 0
                    self.stop()
                assert_no_sanitizer_report(self.stderr())
        finally:
            self.kill()
            self.cleanup()
        return False

    def cleanup(self):
        try:
            os.unlink(self.stderr_file.name)
        except OSError:
            pass


def server_command(*args, exe=None):
    """The argv that runs linepool-server with args, under valgrind when LP_VALGRIND=1."""
    return VALGRIND + [exe or SERVER] + [str(a) for a in args]


def run_server(*args, timeout=10, **kw):
    """Runs a server that must exit by itself (a refusal, --help, --version); returns the
    CompletedProcess. Its stderr is checked for sanitizer and valgrind reports."""
    proc = subprocess.run(server_command(*args), capture_output=True, timeout=timeout * SLOW,
                          **kw)
    assert_no_sanitizer_report(proc.stderr.decode(errors="replace"))
    assert proc.returncode != 97, "valgrind found errors:\n%s" % proc.stderr.decode()[-4000:]
    return proc


_seeds = []


def seeded(name):
    """A random.Random for one input of a case, seeded from LP_SEED (default: fresh) and
    printed when the case fails, so the failing input can be made again: LP_SEED=N."""
    seed = int(os.environ.get("LP_SEED") or random.SystemRandom().randrange(1 << 32))
    _seeds.append((name, seed))
    return random.Random(seed)


SANITIZER_REPORT_RE = re.compile(r"^(==\d+==ERROR: \w+Sanitizer|WARNING: ThreadSanitizer|"
                                 r"\S+:\d+:\d+: runtime error: |==\d+== \S)", re.M)


def assert_no_sanitizer_report(stderr):
    """Every server run is also checked for ASan, UBSan and TSan reports, whatever its exit
    status: a report is a failure even when the case's own assertions held."""
    m = SANITIZER_REPORT_RE.search(stderr)
    assert not m, "sanitizer report from the server:\n" + stderr[m.start():m.start() + 4000]


def connect(port, host="127.0.0.1", timeout=5 * SLOW):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_lines(sock, n, timeout=5 * SLOW):
    """Reads until n complete lines arrived; returns them without '\\n' (bytes)."""
    sock.settimeout(timeout)
    buf = b""
    deadline = time.monotonic() + timeout
    while buf.count(b"\n") < n:
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %d lines, got %r" % (n, buf[:200]))
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise AssertionError("connection closed after %r" % buf[:200])
        buf += chunk
    lines = buf.split(b"\n")
    assert len(lines) - 1 == n, "more lines than expected: %r" % buf[:200]
    return lines[:n]


def read_to_end(sock, timeout=5 * SLOW):
    """Reads until the peer ends the stream; returns (bytes, how): 'fin' or 'rst'."""
    sock.settimeout(timeout)
    chunks, deadline = [], time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            raise AssertionError("peer did not close within %.1f s; got %r"
                                 % (timeout, b"".join(chunks)[:200]))
        try:
            chunk = sock.recv(1 << 20)
        except ConnectionResetError:
            return b"".join(chunks), "rst"
        if not chunk:
            return b"".join(chunks), "fin"
        chunks.append(chunk)


def recv_until_close(sock, timeout=5 * SLOW):
    return read_to_end(sock, timeout)[0]


def flood(port, n):
    """n non-blocking connect attempts, left open; returns the sockets."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            pass  # in progress, or the backlog is full: an attempt all the same
        socks.append(s)
    return socks


def echo_roundtrip(port, text=b"ping"):
    """One line to an echo listener on a fresh connection; returns the answer line."""
    with connect(port) as s:
        s.sendall(text + b"\n")
        return recv_lines(s, 1)[0]


def summary_of(srv):
    """The server's one-line summary at exit, as {name: int}."""
    lines = [l for l in srv.stdout_lines if l.startswith("linepool-server: stopped")]
    assert len(lines) == 1, srv.stdout_lines
    return {k: int(v) for k, v in (kv.split("=") for kv in lines[0].split(": ", 2)[2].split())}


TCP_TIME_WAIT = 6  # include/net/tcp_states.h, as /proc/net/tcp shows it (hex)


def tcp_states(local_port):
    """The TCP state of every IPv4 socket on this local port, from /proc/net/tcp."""
    states = []
    with open("/proc/net/tcp") as f:
        next(f)
        for row in f:
            fields = row.split()
            if int(fields[1].split(":")[1], 16) == local_port:
                states.append(int(fields[3], 16))
    return states


class Sampler(threading.Thread):
    """Samples the server's VmRSS every 5 ms until stopped; .peak in KiB."""

    def __init__(self, srv):
        super().__init__(daemon=True)
        self.srv, self.peak, self.halt = srv, 0, threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                self.peak = max(self.peak, self.srv.rss_kib())
            except (OSError, AssertionError):
                return
            self.halt.wait(0.005)

    def stop(self):
        self.halt.set()
        self.join(5)
        return self.peak


def unacked_bytes(sock):
    """Bytes this socket sent that the peer's TCP has not acknowledged yet (SIOCOUTQ)."""
    buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
    return struct.unpack("i", buf)[0]


def tcp_rx_queues(server_port):
    """Bytes waiting in the server's receive queues, per peer port, from /proc/net/tcp."""
    out = {}
    with open("/proc/net/tcp") as f:
        next(f)
        for row in f:
            fields = row.split()
            local, remote, queues = fields[1], fields[2], fields[4]
            if int(local.split(":")[1], 16) == server_port:
                out[int(remote.split(":")[1], 16)] = int(queues.split(":")[1], 16)
    return out


def wait_read_by(srv, sock, what="the server to read what was sent", timeout=5):
    """Waits until the server's TCP acknowledged everything sock sent and the server read it
    all from its receive queue: e.g. a handler has the message, rather than 'sleep a bit'."""
    port = sock.getsockname()[1]
    wait_for(lambda: unacked_bytes(sock) == 0 and tcp_rx_queues(srv.port).get(port) == 0,
             timeout, what)


def wait_steady(read, what, timeout=5, samples=3, period=0.05):
    """Waits until read() returns the same value `samples` times in a row, `period` apart;
    returns it. For a figure that settles after an event the test can see (e.g. RSS once the
    fds are closed and the frees behind them done)."""
    deadline = time.monotonic() + timeout * SLOW
    seen = []
    while time.monotonic() < deadline:
        seen = (seen + [read()])[-samples:]
        if len(seen) == samples and len(set(seen)) == 1:
            return seen[0]
        time.sleep(period)
    raise AssertionError("timed out waiting for %s to settle: %r" % (what, seen))


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def limit_fds(n):
    """preexec_fn for a server whose soft and hard fd limits are both n."""
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def cases_of(module_globals):
    """The module's cases, in the order they are defined: the one list of them (CMake
    registers one CTest entry per name that `FILE --list` prints)."""
    return [k[5:] for k, v in module_globals.items() if k.startswith("case_") and callable(v)]


def check_cases(module_globals, registered):
    """`FILE --check-cases NAME...`: fails unless NAME... (what CTest registered) are exactly
    the module's cases, e.g. after a case was added or renamed without a new cmake run."""
    cases = cases_of(module_globals)
    only_here = sorted(set(cases) - set(registered))
    only_there = sorted(set(registered) - set(cases))
    if only_here or only_there:
        sys.exit("%s: cases in the module but not in CTest: %s; in CTest but not in the "
                 "module: %s (re-run cmake)" % (sys.argv[0], " ".join(only_here) or "none",
                                                " ".join(only_there) or "none"))
    print("ok: %d cases, each registered once" % len(cases))


def main(module_globals):
    if sys.argv[1:] == ["--list"]:
        print("\n".join(cases_of(module_globals)))
        return
    if sys.argv[1:2] == ["--check-cases"]:
        check_cases(module_globals, sys.argv[2:])
        return
    if len(sys.argv) != 2 or "case_" + sys.argv[1] not in module_globals:
        sys.exit("usage: %s CASE | --list | --check-cases NAME...\ncases: %s"
                 % (sys.argv[0], " ".join(cases_of(module_globals))))
    try:
        module_globals["case_" + sys.argv[1]]()
    except BaseException:
        for name, seed in _seeds:
            print("random input %s: seed %d (rerun with LP_SEED=%d)" % (name, seed, seed),
                  file=sys.stderr)
        raise
    print("ok", sys.argv[1])
