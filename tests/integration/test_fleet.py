#!/usr/bin/env python3
"""A fleet behind real HAProxy (Debian's haproxy 2.6, README "Past one machine"): three
linepool instances on port 0 with admin ports, a generated HAProxy configuration in front
(mode tcp, balance leastconn, send-proxy-v2, a PING/PONG line check against each admin port).
Clients bound to their own loopback addresses stream numbered lines through echo and check
every answer is the next number: every backend comes up; each backend's log names its
clients' own addresses; SIGKILL of the busiest instance gives its clients EOF or RST within
2 s, they reconnect through HAProxy to the survivors and resend from their first unanswered
number, and every number is answered exactly once; a backend set to drain through HAProxy's
runtime API gets no new connection, keeps serving its own, and exits 0 on SIGTERM with all of
them answered; each survivor's message count is exactly what its clients had answered."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import lptest
from lptest import SLOW, Server

EOF_BOUND = 2.0  # seconds from SIGKILL to the killed instance's clients seeing EOF or RST
CLIENTS = 7  # leastconn over 3 backends: 3, 2, 2, so one is the busiest
ADMIN_RE = re.compile(r"^admin listening on 127\.0\.0\.1:(\d+)$")


class Backend:
    def __init__(self, name):
        self.name = name
        self.srv = Server("--listen", "127.0.0.1:0+proxy=echo", "--admin", "127.0.0.1:0", "-v",
                          "--threads", "2", "--drain-timeout", "5")
        ports = [int(m.group(1)) for m in map(ADMIN_RE.match, self.srv.stdout_lines) if m]
        assert len(ports) == 1, self.srv.stdout_lines
        self.admin = ports[0]

    def clients(self):
        """Client addresses (ip, port) this backend's log says came through a PROXY header."""
        return set((ip, int(port)) for ip, port in re.findall(
            r"conn \d+ (127\.0\.0\.\d+):(\d+) via 127\.0\.0\.1:\d+: PROXY v2", self.srv.stderr()))


class HAProxy:
    def __init__(self, tmp, backends):
        self.sock_path = os.path.join(tmp, "haproxy.sock")
        self.front = socket.socket()  # HAProxy takes it as fd@: no port to guess
        self.front.bind(("127.0.0.1", 0))
        self.front.listen(128)
        self.port = self.front.getsockname()[1]
        cfg = os.path.join(tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(config(self.sock_path, self.front.fileno(), backends))
        self.log = open(os.path.join(tmp, "haproxy.log"), "w+b")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=self.log,
                                     stderr=subprocess.STDOUT, pass_fds=[self.front.fileno()])
        lptest.wait_for(lambda: os.path.exists(self.sock_path) or self.proc.poll() is not None,
                        10, "HAProxy's stats socket")
        assert self.proc.poll() is None, self.output()

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def api(self, command):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5 * SLOW)
            s.connect(self.sock_path)
            s.sendall(command.encode() + b"\n")
            out = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out.decode()
                out += chunk

    def servers(self):
        """{name: (op_state, admin_state)} from `show servers state lp`."""
        rows = [l.split() for l in self.api("show servers state lp").splitlines()
                if l and not l.startswith("#") and len(l.split()) > 7]
        return {r[3]: (int(r[5]), int(r[6])) for r in rows}

    def sessions(self):
        """{server: current sessions} from `show stat` (CSV: pxname,svname,...,scur)."""
        rows = [l.split(",") for l in self.api("show stat").splitlines() if l.startswith("lp,")]
        return {r[1]: int(r[4]) for r in rows if r[1] != "BACKEND"}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.front.close()
        self.log.close()


def config(sock_path, fd, backends):
    servers = "".join("    server %s 127.0.0.1:%d check port %d\n"
                      % (b.name, b.srv.port, b.admin) for b in backends)
    return """global
    stats socket %s mode 600 level admin
defaults
    mode tcp
    timeout connect 200ms
    timeout client 30s
    timeout server 30s
    timeout check 1s
    retries 5
    option redispatch 1
frontend lp_in
    bind fd@%d
    default_backend lp
backend lp
    balance leastconn
    option tcp-check
    tcp-check connect linger
    tcp-check send PING\\r\\n
    tcp-check expect string PONG
    default-server send-proxy-v2 inter 200ms fall 2 rise 1 on-marked-down shutdown-sessions
%s""" % (sock_path, fd, servers)


class Client(threading.Thread):
    """Streams "c<i> <seq>" lines, WINDOW in flight, through HAProxy from its own source
    address. Answers must come as 0, 1, 2, ... across connections: after a close it
    reconnects and resends from its first unanswered number. A duplicate, a gap or a wrong
    line is recorded as an error."""
    WINDOW = 4

    def __init__(self, i, port):
        super().__init__(daemon=True)
        self.i, self.port, self.ip = i, port, "127.0.0.%d" % (10 + i)
        self.answered = 0  # the first unanswered number
        self.sent = 0
        self.conns = []  # [(ip, port), answers on it]
        self.closes = []  # monotonic time of each EOF/RST seen
        self.errors = []
        self.paused = threading.Event()  # set: send nothing new
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def connect(self):
        s = socket.socket()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.bind((self.ip, 0))
        s.settimeout(5 * SLOW)
        s.connect(("127.0.0.1", self.port))
        s.settimeout(0.05)
        with self.lock:
            self.conns.append([s.getsockname(), 0])
            self.sent = self.answered  # resend from the first unanswered number
        return s

    def run(self):
        try:
            self.loop()
        except Exception as e:  # the case reads errors; a thread's traceback is not a failure
            self.errors.append("client %d: %r" % (self.i, e))

    def loop(self):
        s, buf = self.connect(), b""
        while not self.stopping.is_set():
            try:
                while not self.paused.is_set() and self.sent - self.answered < self.WINDOW:
                    s.sendall(b"c%d %d\n" % (self.i, self.sent))
                    self.sent += 1
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""  # an RST, seen by a send or a receive
            if not chunk:
                self.closes.append(time.monotonic())
                s.close()
                s, buf = self.connect(), b""
                continue
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                want = b"c%d %d" % (self.i, self.answered)
                if line != want:
                    self.errors.append("client %d: got %r, expected %r" % (self.i, line, want))
                with self.lock:
                    self.answered += 1
                    self.conns[-1][1] += 1
        s.close()

    def idle(self):
        return self.paused.is_set() and self.sent == self.answered

    def where(self):
        with self.lock:
            return tuple(self.conns[-1][0])


def wait_answers(clients, more, what):
    """Waits until each client has `more` answers beyond what it had."""
    start = {c: c.answered for c in clients}
    lptest.wait_for(lambda: all(c.answered >= start[c] + more for c in clients), 10, what)


def backend_of(backends, addr):
    owners = [b for b in backends if addr in b.clients()]
    return owners[0] if len(owners) == 1 else None


def case_haproxy_fleet_failover_and_drain():
    assert shutil.which("haproxy"), "haproxy is not installed (tests/run installs Debian's)"
    tmp = tempfile.mkdtemp(prefix="lp-fleet-")
    backends, proxy, clients = [], None, []
    try:
        backends = [Backend("lp%d" % i) for i in range(1, 4)]
        proxy = HAProxy(tmp, backends)
        lptest.wait_for(lambda: [s[0] for s in proxy.servers().values()] == [2, 2, 2], 10,
                        "every backend up (op_state 2); HAProxy said:\n" + proxy.output())

        clients = [Client(i, proxy.port) for i in range(CLIENTS)]
        for c in clients:
            c.start()
        wait_answers(clients, 50, "every client answered through HAProxy")
        # each backend's log names its clients' own addresses (the PROXY v2 header)
        lptest.wait_for(lambda: all(backend_of(backends, c.where()) for c in clients), 5,
                        "each client's own address in exactly one backend's log")

        # SIGKILL the busiest instance
        sessions = proxy.sessions()
        busiest = max(backends, key=lambda b: sessions[b.name])
        victims = [c for c in clients if backend_of(backends, c.where()) is busiest]
        assert len(victims) == sessions[busiest.name] == 3, (sessions, len(victims))
        killed_at = time.monotonic()
        busiest.srv.proc.send_signal(signal.SIGKILL)
        busiest.srv.proc.wait(timeout=5)
        try:
            lptest.wait_for(lambda: all(c.closes for c in victims), EOF_BOUND,
                            "EOF or RST at each client of the killed instance")
        except AssertionError as e:
            raise AssertionError("%s: %s; HAProxy:\n%s" % (e, [(c.i, c.closes, c.errors, c.sent,
                                 c.answered, c.where()) for c in victims], proxy.output()))
        took = max(c.closes[0] - killed_at for c in victims)
        assert took < EOF_BOUND * SLOW, took
        survivors = [b for b in backends if b is not busiest]
        assert not any(c.closes for c in clients if c not in victims)
        wait_answers(clients, 50, "every client answered again after the kill")
        for c in victims:
            assert backend_of(survivors, c.where()), "client %d reconnected where?" % c.i
        lptest.wait_for(lambda: proxy.servers()[busiest.name][0] == 0, 5,
                        "HAProxy marking %s DOWN" % busiest.name)
        print("SIGKILL %s: its %d clients saw EOF/RST after at most %.3f s"
              % (busiest.name, len(victims), took))

        # drain one survivor through the runtime API: no new connections, its own go on
        drained, other = survivors
        out = proxy.api("set server lp/%s state drain" % drained.name)
        assert out.strip() == "", out
        assert proxy.servers()[drained.name][1] & 8, proxy.servers()  # SRV_ADMF_FDRAIN
        own = [c for c in clients if backend_of([drained], c.where())]
        assert own, "no client on %s" % drained.name
        newcomers = [Client(CLIENTS + i, proxy.port) for i in range(3)]
        for c in newcomers:
            c.start()
        clients += newcomers
        wait_answers(newcomers + own, 30, "the newcomers and the drained backend's clients")
        for c in newcomers:
            assert backend_of(backends, c.where()) is other, "client %d went to the drained" % c.i
        # its clients finish what they sent; then SIGTERM: exit 0 with all of them answered
        for c in own:
            c.paused.set()
        lptest.wait_for(lambda: all(c.idle() for c in own), 5, "the drained clients' answers")
        closes_before = {c: len(c.closes) for c in own}
        rc, _ = drained.srv.stop(expect=0)
        lptest.wait_for(lambda: all(len(c.closes) > closes_before[c] for c in own), 5,
                        "the drained backend closing its connections")
        for c in own:
            c.paused.clear()
        wait_answers(clients, 30, "every client answered by the last backend")
        assert all(backend_of([other], c.where()) for c in clients)

        for c in clients:
            c.paused.set()
        lptest.wait_for(lambda: all(c.idle() for c in clients), 5, "every answer in")
        other.srv.stop(expect=0)
        for c in clients:
            c.stopping.set()
            c.join(timeout=5)
        errors = [e for c in clients for e in c.errors]
        assert not errors, errors
        # exactly once on the survivors' side too: each counted what its clients had answered
        for b in survivors:
            mine = b.clients()
            answered = sum(n for c in clients for addr, n in c.conns if tuple(addr) in mine)
            assert lptest.summary_of(b.srv)["messages"] == answered, (b.name, answered)
        print("%d clients, %d numbers, each answered once" % (len(clients),
                                                                sum(c.answered for c in clients)))
    finally:
        for c in clients:
            c.stopping.set()
        if proxy:
            proxy.stop()
        for b in backends:
            if b.srv.proc.poll() is None:
                b.srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    lptest.main(globals())
