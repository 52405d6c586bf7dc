"""The binary upgrade at SIGUSR2: the server starts the executable at the path it was started
from (the file on disk now) with the same arguments, hands it the listening sockets
(LISTEN_FDS/LISTEN_FDNAMES, LISTEN_PID set for the child), waits for its READY=1 on a
private notify socket, then drains as at SIGTERM. A new process that fails or is late
leaves the old one serving.

The test process makes itself a child subreaper (prctl), so each server that outlives its
parent becomes the test's child: its exit status is checked, and "one process left" is
checked by pid, not guessed."""
import ctypes
import multiprocessing
import os
import re
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import lptest  # noqa: E402
from lptest import Server, connect, echo_roundtrip, recv_lines, wait_for, SLOW  # noqa: E402
from notifysock import NotifySocket  # noqa: E402

SLOW_PLUGIN = os.path.join(lptest.BUILD, "tests", "slow.so")
PR_SET_CHILD_SUBREAPER = 36
STARTED_RE = r"SIGUSR2: started \S+ as pid (\d+)"
READY_RE = r"upgrade: new process (\d+) is ready; pid (\d+) stops accepting and drains"


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, os.strerror(ctypes.get_errno())


def listen_inodes(port):
    """Inodes of the sockets listening on 127.0.0.1:port (/proc/net/tcp)."""
    out = []
    with open("/proc/net/tcp") as f:
        next(f)
        for row in f:
            fields = row.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
                out.append(int(fields[9]))
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def reap(pid, timeout=10):
    """Waits for a server that is the test's child (directly or as the subreaper); returns
    its exit status."""
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            got = 0  # not reparented to us yet: its parent is still exiting
        if got == pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    raise AssertionError("process %d did not exit within %.1f s" % (pid, timeout * SLOW))


class Chain:
    """The first server (a lptest.Server) and its successors by upgrade."""

    def __init__(self, srv):
        self.srv = srv
        self.pids = [srv.proc.pid]
        self.statuses = {}

    def log(self):
        return self.srv.stderr()

    def ready(self):
        return [(int(a), int(b)) for a, b in re.findall(READY_RE, self.log(), re.M)]

    def upgrade(self, timeout=10):
        """SIGUSR2 to the current process; waits until its successor is ready and it has
        exited (status 0). Returns the new pid."""
        n = len(self.ready())
        old = self.pids[-1]
        os.kill(old, signal.SIGUSR2)
        wait_for(lambda: len(self.ready()) > n, timeout, "upgrade %d to be ready" % (n + 1))
        new, drained = self.ready()[n]
        assert drained == old, (drained, old)
        self.pids.append(new)
        self.wait_exit(old)
        return new

    def wait_exit(self, pid):
        if pid == self.srv.proc.pid:
            self.statuses[pid] = self.srv.proc.wait(timeout=10 * SLOW)
        else:
            self.statuses[pid] = reap(pid)
        assert self.statuses[pid] == 0, "pid %d exited %s:\n%s" % (pid, self.statuses[pid],
                                                                  self.log()[-3000:])

    def stop(self):
        """SIGTERM to the last process; reads every process's stdout; checks the logs."""
        last = self.pids[-1]
        os.kill(last, signal.SIGTERM)
        self.wait_exit(last)
        self.srv.rc = self.srv.proc.wait(timeout=5)
        rest = self.srv.proc.stdout.read().decode(errors="replace")
        self.srv.stdout_lines += rest.splitlines()
        lptest.assert_no_sanitizer_report(self.log())
        return self.log()

    def kill_all(self):
        for pid in self.pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

    def summaries(self):
        out = []
        for line in self.srv.stdout_lines:
            if line.startswith("linepool-server: stopped"):
                out.append({k: int(v) for k, v in
                            (kv.split("=") for kv in line.split(": ", 2)[2].split())})
        return out


def script(path, body):
    """Replaces path by a shell script, as a package upgrade replaces a binary: a new file
    renamed over the old name (the running server keeps the old, now nameless, inode)."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(tmp, 0o755)
    os.rename(tmp, path)


class Copy:
    """A copy of the server binary in a temporary folder, to be replaced during a test."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="lp-upgrade-")
        self.exe = os.path.join(self.dir, "linepool-server")
        shutil.copy2(lptest.SERVER, self.exe)
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def served(port, text=b"still here"):
    return echo_roundtrip(port, text) == text


# --- the main test ----------------------------------------------------------------------

def prober(port, stop, out):
    """In its own process (no GIL shared with the clients): new connections, one line each,
    about 1,000 a second. A connect that fails is what must never happen; a probe accepted by
    a process that began draining before it read the line gets an end of stream instead of
    the answer, which is the drain's documented behaviour, counted apart."""
    ok = refused = unanswered = 0
    errors = {}
    t0 = time.monotonic()
    next_at = t0
    while not stop.is_set():
        next_at += 0.001
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        s = socket.socket()
        s.settimeout(5 * SLOW)
        # no TIME_WAIT per probe: 10,000s of them would use up the ephemeral ports
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        try:
            s.connect(("127.0.0.1", port))
        except OSError as e:
            refused += 1
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            s.close()
            continue
        try:
            s.sendall(b"probe\n")
            got = b""
            while not got.endswith(b"\n"):
                chunk = s.recv(64)
                if not chunk:
                    break
                got += chunk
            if got == b"probe\n":
                ok += 1
            else:
                unanswered += 1
        except OSError:
            unanswered += 1
        s.close()
    out.send({"ok": ok, "refused": refused, "unanswered": unanswered, "errors": errors,
              "seconds": time.monotonic() - t0})


class Streamer(threading.Thread):
    """One client streaming numbered lines through echo, one at a time: on an end of stream
    (its server drained) it reconnects and resends the line that had no answer, so every
    line is answered exactly once, in order."""

    def __init__(self, port, k, stop):
        super().__init__(daemon=True)
        self.port, self.k, self.stop = port, k, stop
        self.seq = 0
        self.answers = []
        self.connects = self.ends = self.resends = 0
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as e:  # noqa: BLE001 - reported by the case
            self.error = repr(e)

    def _run(self):
        sock = None
        while not self.stop.is_set():
            if sock is None:
                sock = connect(self.port)  # a refused or reset connect raises: the failure
                self.connects += 1
                buf = b""
            line = b"c%d %d\n" % (self.k, self.seq)
            try:
                sock.sendall(line)
                while b"\n" not in buf:
                    chunk = sock.recv(4096)
                    if not chunk:
                        raise ConnectionResetError("end of stream")
                    buf += chunk
            except (ConnectionResetError, BrokenPipeError):
                sock.close()
                sock = None
                self.ends += 1
                self.resends += 1
                continue
            answer, buf = buf.split(b"\n", 1)
            assert answer + b"\n" == line and not buf, (answer, line, buf)
            self.answers.append(self.seq)
            self.seq += 1
        if sock:
            sock.close()


def case_ten_upgrades_under_load_refuse_nothing():
    """Probers opening ~2,000 connections a second and 50 streaming clients through 10
    upgrades in a row: no connect refused or reset; every line answered exactly once and in
    order; every connection accepted by exactly one process (the processes' summed
    connection count is the clients' successful connects); every message a process read was
    answered (summed messages = answers); the listening socket's inode never changes; every
    old process exits 0 and one process is left, until the final SIGTERM."""
    become_subreaper()
    srv = Server("--listen", "127.0.0.1:0=echo", "--threads", "2", "--drain-timeout",
                 str(5 * SLOW), "--upgrade-timeout", str(10 * SLOW))
    chain = Chain(srv)
    try:
        port = srv.port
        inode = listen_inodes(port)
        assert len(inode) == 1, inode
        ctx = multiprocessing.get_context("fork")
        stop_probe = ctx.Event()
        # two probers, each paced at ~1,000 connects/s: on a loaded machine one alone may fall
        # short of the 500/s the test promises
        pipes = [ctx.Pipe(duplex=False) for _ in range(2)]
        probes_procs = [ctx.Process(target=prober, args=(port, stop_probe, tx), daemon=True)
                        for _, tx in pipes]
        for p in probes_procs:
            p.start()
        stop = threading.Event()
        clients = [Streamer(port, k, stop) for k in range(50)]
        for c in clients:
            c.start()
        wait_for(lambda: all(len(c.answers) >= 3 for c in clients), 10, "every client to stream")
        t0 = time.monotonic()
        for i in range(10):
            marks = [len(c.answers) for c in clients]
            chain.upgrade()
            assert listen_inodes(port) == inode, (i, listen_inodes(port), inode)
            errors = [(c.k, c.error) for c in clients if c.error]
            assert not errors, errors
            # every client is served again (by the new process) before the next upgrade
            wait_for(lambda: all(len(c.answers) > m for c, m in zip(clients, marks)), 10,
                     "every client to be served after upgrade %d" % (i + 1))
        took = time.monotonic() - t0
        stop.set()
        for c in clients:
            c.join(10 * SLOW)
        stop_probe.set()
        reports = []
        for rx, _ in pipes:
            assert rx.poll(10 * SLOW), "a prober did not report"
            reports.append(rx.recv())
        for p in probes_procs:
            p.join(5)
        probes = {k: sum(r[k] for r in reports) for k in ("ok", "refused", "unanswered")}
        probes["seconds"] = max(r["seconds"] for r in reports)
        probes["errors"] = [r["errors"] for r in reports]
        alive_now = [pid for pid in chain.pids if alive(pid)]
        assert alive_now == [chain.pids[-1]], ("one process left", alive_now, chain.pids)
        assert listen_inodes(port) == inode
        err = chain.stop()
    except BaseException:
        chain.kill_all()
        srv.kill()
        raise
    finally:
        srv.cleanup()
    errors = [(c.k, c.error) for c in clients if c.error or c.is_alive()]
    assert not errors, errors
    for c in clients:
        assert c.answers == list(range(c.seq)), c.k  # each once, in order
    rate = (probes["ok"] + probes["unanswered"] + probes["refused"]) / probes["seconds"]
    assert probes["refused"] == 0, probes
    assert rate >= 500, "prober made only %.0f connects/s" % rate
    sums = {k: sum(s[k] for s in chain.summaries()) for k in ("connections", "messages")}
    assert len(chain.summaries()) == 11, chain.summaries()
    connects = sum(c.connects for c in clients) + probes["ok"] + probes["unanswered"]
    answers = sum(len(c.answers) for c in clients) + probes["ok"]
    assert sums["connections"] == connects, (sums, connects)
    # a message read is answered: the lines a drain never read are the resent ones
    assert sums["messages"] == answers, (sums, answers)
    assert len(set(chain.pids)) == 11 and all(chain.statuses[p] == 0 for p in chain.pids)
    assert not listen_inodes(port), "still listening after the last SIGTERM"
    assert err.count("SIGUSR2: started") == 10, err
    ends = sum(c.ends for c in clients)
    print("10 upgrades in %.2f s: probers %d connects at %.0f/s, 0 refused, %d answered, %d "
          "ended by a drain before their line was read; 50 clients: %d lines answered once "
          "each, %d connects, %d drained connections (%d lines resent); listening inode %d "
          "throughout" % (took, probes["ok"] + probes["unanswered"], rate, probes["ok"],
                          probes["unanswered"], sum(len(c.answers) for c in clients),
                          sum(c.connects for c in clients), ends,
                          sum(c.resends for c in clients), inode[0]))


# --- the new file, and failures ----------------------------------------------------------

def case_upgrade_runs_the_file_on_disk_now():
    """The binary is replaced on disk (a new file renamed over it) before SIGUSR2: the new
    file runs, not the old inode /proc/self/exe would name; the socket is the same."""
    become_subreaper()
    with Copy() as cp:
        srv = Server("--listen", "127.0.0.1:0=echo", "--plugin-dir", lptest.PLUGIN_DIR,
                     exe=cp.exe)
        chain = Chain(srv)
        try:
            inode = listen_inodes(srv.port)
            marker = os.path.join(cp.dir, "new-binary-ran")
            script(cp.exe, 'echo "$$" > %s\nexec %s "$@"' % (marker, lptest.SERVER))
            new = chain.upgrade()
            with open(marker) as f:
                assert int(f.read()) == new, "the replaced file ran, as the new process"
            assert listen_inodes(srv.port) == inode
            assert served(srv.port)
            chain.stop()
        except BaseException:
            chain.kill_all()
            srv.kill()
            raise
        finally:
            srv.cleanup()


def case_failed_upgrades_keep_the_old_process_serving():
    """A new binary that exits at once, one that is missing, and one never ready within
    --upgrade-timeout (killed): each logs why and the old process keeps serving (the same
    listener accepts new connections); a good binary afterwards upgrades normally."""
    become_subreaper()
    with Copy() as cp:
        srv = Server("--listen", "127.0.0.1:0=echo", "--plugin-dir", lptest.PLUGIN_DIR,
                     "--upgrade-timeout", str(1 * SLOW), exe=cp.exe)
        chain = Chain(srv)
        try:
            port = srv.port
            script(cp.exe, "echo 'broken build' >&2\nexit 3")
            os.kill(srv.proc.pid, signal.SIGUSR2)
            wait_for(lambda: "exited with status 3 before it was ready; still serving"
                     in chain.log(), 10, "the failed upgrade to be logged")
            assert served(port)
            os.unlink(cp.exe)
            os.kill(srv.proc.pid, signal.SIGUSR2)
            wait_for(lambda: "SIGUSR2: upgrade failed: cannot run %s: No such file or directory;"
                     " still serving" % cp.exe in chain.log(), 10, "the missing binary")
            assert served(port)
            script(cp.exe, "exec sleep 60")
            t0 = time.monotonic()
            os.kill(srv.proc.pid, signal.SIGUSR2)
            wait_for(lambda: "was not ready in time; killed it; still serving" in chain.log(),
                     10, "the late upgrade to be given up")
            late = int(re.findall(STARTED_RE, chain.log())[-1])
            waited = time.monotonic() - t0
            assert waited >= 1 * SLOW * 0.9, waited
            assert not alive(late), "the late process was killed and reaped"
            assert served(port)
            assert srv.proc.poll() is None
            script(cp.exe, 'exec %s "$@"' % lptest.SERVER)
            chain.upgrade()
            assert served(port)
            err = chain.stop()
            assert err.count("SIGUSR2: started") == 3, err  # the missing file never started
        except BaseException:
            chain.kill_all()
            srv.kill()
            raise
        finally:
            srv.cleanup()
        print("late new process given up after %.2f s (--upgrade-timeout %s)" % (waited, SLOW))


def case_sigusr2_twice_in_a_burst_upgrades_once():
    """Two SIGUSR2 back to back, and a third while the new process starts: one upgrade; a
    signal that arrives while one is in progress is logged and ignored (two sent back to back
    may also merge into one, as pending signals do)."""
    become_subreaper()
    with Copy() as cp:
        srv = Server("--listen", "127.0.0.1:0=echo", "--plugin-dir", lptest.PLUGIN_DIR,
                     exe=cp.exe)
        chain = Chain(srv)
        try:
            # slow to start, so the third signal surely lands while it starts
            script(cp.exe, 'sleep %s\nexec %s "$@"' % (0.5 * SLOW, lptest.SERVER))
            os.kill(srv.proc.pid, signal.SIGUSR2)
            os.kill(srv.proc.pid, signal.SIGUSR2)
            wait_for(lambda: re.search(STARTED_RE, chain.log()), 10, "the upgrade to start")
            os.kill(srv.proc.pid, signal.SIGUSR2)
            wait_for(lambda: chain.ready(), 10, "the upgrade to be ready")
            new = chain.ready()[0][0]
            chain.pids.append(new)
            chain.wait_exit(srv.proc.pid)
            log = chain.log()
            assert len(re.findall(STARTED_RE, log)) == 1, log
            assert "SIGUSR2: ignored, the upgrade to pid %d is in progress" % new in log, log
            assert served(srv.port)
            assert [p for p in chain.pids if alive(p)] == [new]
            chain.stop()
        except BaseException:
            chain.kill_all()
            srv.kill()
            raise
        finally:
            srv.cleanup()


def case_sigusr2_during_the_drain_is_ignored():
    """SIGUSR2 after SIGTERM started the drain: logged and ignored (the process is stopping,
    and its listeners are closed); the drain finishes the handler's work and exits 0."""
    with Server("--listen", "127.0.0.1:0=slow", "--plugin", SLOW_PLUGIN, "--drain-timeout",
                str(10 * SLOW)) as srv:
        with connect(srv.port) as s:
            s.sendall(b"sleep %d\n" % (500 * SLOW))
            lptest.wait_read_by(srv, s)
            srv.proc.send_signal(signal.SIGTERM)
            wait_for(lambda: "SIGTERM: stopping" in srv.stderr(), 5, "the drain to start")
            srv.proc.send_signal(signal.SIGUSR2)
            wait_for(lambda: "SIGUSR2 during the drain: ignored" in srv.stderr(), 5,
                     "SIGUSR2 to be ignored")
            assert recv_lines(s, 1)[0] == b"slept %d" % (500 * SLOW)
        rc, err = srv.stop(sig=None)
        assert "SIGUSR2: started" not in err, err


def case_sigterm_while_an_upgrade_starts_abandons_it():
    """SIGTERM before the new process is ready: it is killed (it accepted nothing yet) and
    the old one drains and exits 0; no process is left."""
    become_subreaper()
    with Copy() as cp:
        srv = Server("--listen", "127.0.0.1:0=echo", "--plugin-dir", lptest.PLUGIN_DIR,
                     "--upgrade-timeout", "60", exe=cp.exe)
        try:
            script(cp.exe, "exec sleep 60")
            srv.proc.send_signal(signal.SIGUSR2)
            wait_for(lambda: re.search(STARTED_RE, srv.stderr()), 10, "the upgrade to start")
            late = int(re.search(STARTED_RE, srv.stderr()).group(1))
            rc, err = srv.stop()
            assert "SIGTERM: abandoning the upgrade: killing new process %d" % late in err, err
            assert not alive(late)
        finally:
            srv.kill()
            srv.cleanup()


def case_upgrade_hands_over_the_admin_port():
    """With --admin the admin socket moves too (the new process could not bind a fixed admin
    port the old one holds): same port, same inode, answered by the new process, whose
    /readyz says 200 while the old one drains."""
    become_subreaper()
    srv = Server("--listen", "127.0.0.1:0=echo", "--admin", "127.0.0.1:0")
    chain = Chain(srv)
    try:
        admin = [l for l in srv.stdout_lines if l.startswith("admin listening on ")]
        assert len(admin) == 1, srv.stdout_lines
        port = int(admin[0].rsplit(":", 1)[1])
        inode = listen_inodes(port)
        assert echo_roundtrip(port, b"PING") == b"PONG"
        chain.upgrade()
        assert listen_inodes(port) == inode, (listen_inodes(port), inode)
        assert echo_roundtrip(port, b"PING") == b"PONG"
        with connect(port) as s:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert lptest.read_to_end(s)[0].startswith(b"HTTP/1.1 200"), "the new one is ready"
        assert served(srv.port)
        chain.stop()
    except BaseException:
        chain.kill_all()
        srv.kill()
        raise
    finally:
        srv.cleanup()


def case_upgrade_under_systemd_hands_over_mainpid():
    """Under a notify socket with a watchdog: the old process tells the manager MAINPID=new
    and sends nothing after it (no STOPPING, which would stop the service); the new one sends
    no second READY, pings the watchdog from its own pid, and STOPPING at its own SIGTERM."""
    become_subreaper()
    usec = 300000 * SLOW
    with NotifySocket() as notify:
        srv = Server("--listen", "127.0.0.1:0=echo",
                     env={"NOTIFY_SOCKET": notify.env, "WATCHDOG_USEC": str(usec)})
        chain = Chain(srv)
        try:
            old = srv.proc.pid
            notify.wait("WATCHDOG", "1", count=2)
            new = chain.upgrade()
            handover = notify.wait("MAINPID", str(new))
            assert handover[0][1] == old, handover
            wait_for(lambda: any(p == new for _, p, f in notify.with_key("WATCHDOG")), 5,
                     "the new process to ping the watchdog")
            t_handover = handover[0][0]
            after = [m for m in notify.snapshot() if m[1] == old and m[0] > t_handover]
            assert not after, "the old process spoke after the handover: %r" % after
            assert served(srv.port)
            chain.stop()
            stopping = notify.wait("STOPPING", "1")
            assert [m[1] for m in stopping] == [new], stopping
            assert len(notify.with_key("READY")) == 1, notify.snapshot()
        except BaseException:
            chain.kill_all()
            srv.kill()
            raise
        finally:
            srv.cleanup()


if __name__ == "__main__":
    lptest.main(globals())
