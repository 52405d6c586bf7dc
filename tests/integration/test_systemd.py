"""linepool under systemd: the notify protocol (READY=1 once every listener is bound,
STOPPING=1 when the drain starts, WATCHDOG=1 every half WATCHDOG_USEC but not while a worker
is stuck in one hook) through a Python datagram socket as NOTIFY_SOCKET, and socket
activation through Debian's real systemd-socket-activate."""
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import lptest  # noqa: E402
from lptest import Server, connect, recv_lines, run_server, wait_for, SLOW  # noqa: E402
from notifysock import NotifySocket  # noqa: E402

SLOW_PLUGIN = os.path.join(lptest.BUILD, "tests", "slow.so")
ACTIVATE = shutil.which("systemd-socket-activate")


def free_port():
    """A port free right now (systemd-socket-activate needs a number; 0 is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_activate():
    assert ACTIVATE, ("systemd-socket-activate not found: install Debian's systemd package "
                      "(tests/run does)")


def ping_gaps(notify, since=0.0):
    times = [t for t, _, f in notify.snapshot() if f.get("WATCHDOG") == "1" and t >= since]
    return [b - a for a, b in zip(times, times[1:])]


# --- notify ------------------------------------------------------------------------------

def case_ready_after_every_listener_then_stopping_at_drain():
    """READY=1 comes once, after both listeners accept, with MAINPID and a STATUS naming both;
    STOPPING=1 comes when SIGTERM starts the drain, while a handler still runs (its answer
    arrives after STOPPING), and the server then exits 0."""
    with NotifySocket() as notify:
        with Server("--listen", "127.0.0.1:0=slow", "--listen", "127.0.0.1:0=echo",
                    "--plugin", SLOW_PLUGIN, "--threads", "2", "--drain-timeout", str(10 * SLOW),
                    env={"NOTIFY_SOCKET": notify.env}, wait=False) as srv:
            ready = notify.wait("READY", "1")
            # Both listeners accept at the moment READY arrives (before the stdout lines are
            # even read): systemd starts dependent units on READY.
            t_ready, pid, fields = ready[0]
            addrs = re.findall(r"127\.0\.0\.1:(\d+)", fields.get("STATUS", ""))
            assert len(addrs) == 2, fields
            for port in addrs:
                connect(int(port)).close()
            assert pid == srv.proc.pid and fields.get("MAINPID") == str(srv.proc.pid), fields
            srv._await_listeners(2)
            with connect(srv.port_of("slow")) as s:
                s.sendall(b"sleep 600\n")
                lptest.wait_read_by(srv, s)  # the handler has it: the signal lands mid-hook
                srv.proc.send_signal(signal.SIGTERM)
                stopping = notify.wait("STOPPING", "1")
                answer = recv_lines(s, 1)[0]
                t_answer = time.monotonic()
                assert answer == b"slept 600", answer
                assert stopping[0][0] < t_answer, "STOPPING=1 only after the drain's work"
            rc, err = srv.stop(sig=None)
            assert len(notify.with_key("READY")) == 1, notify.snapshot()
            assert len(notify.with_key("STOPPING")) == 1, notify.snapshot()
            print("READY after %s listeners, STOPPING %.3f s before the last answer"
                  % (len(addrs), t_answer - stopping[0][0]))


def case_notify_socket_file_path():
    """NOTIFY_SOCKET may be a file path too, not only an abstract '@' name."""
    with NotifySocket(abstract=False) as notify:
        with Server("--listen", "127.0.0.1:0=echo", env={"NOTIFY_SOCKET": notify.env}) as srv:
            notify.wait("READY", "1")
            srv.stop()
            notify.wait("STOPPING", "1")


def case_bad_notify_socket_exits_2():
    """A NOTIFY_SOCKET that is neither an absolute path nor an @name is a clear error."""
    proc = run_server("--listen", "127.0.0.1:0=echo",
                      env=dict(os.environ, NOTIFY_SOCKET="relative/notify"))
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "NOTIFY_SOCKET=relative/notify: expected an absolute path or an @name" in err, err


def case_watchdog_pings_at_half_interval():
    """WATCHDOG_USEC=400000: WATCHDOG=1 about every 200 ms, from the main pid; none with
    WATCHDOG_PID naming another process."""
    usec = 400000 * SLOW
    with NotifySocket() as notify:
        with Server("--listen", "127.0.0.1:0=echo",
                    env={"NOTIFY_SOCKET": notify.env, "WATCHDOG_USEC": str(usec)}) as srv:
            pings = notify.wait("WATCHDOG", "1", count=6, timeout=5)
            assert all(p[1] == srv.proc.pid for p in pings), pings
            gaps = ping_gaps(notify)
            half = usec / 2e6
            assert all(0.8 * half <= g <= 2 * half for g in gaps[1:]), (half, gaps)
            srv.stop()
        print("pings every %s s (half of %d us)" % (["%.3f" % g for g in gaps[1:]], usec))
    with NotifySocket() as notify:
        with Server("--listen", "127.0.0.1:0=echo",
                    env={"NOTIFY_SOCKET": notify.env, "WATCHDOG_USEC": "100000",
                         "WATCHDOG_PID": "1"}) as srv:
            notify.wait("READY", "1")
            with connect(srv.port) as s:  # a round trip: the main loop has run past READY
                s.sendall(b"x\n")
                recv_lines(s, 1)
            srv.stop()
            assert not notify.with_key("WATCHDOG"), notify.snapshot()


def case_watchdog_withheld_while_a_handler_is_stuck():
    """A handler that blocks 2 s: WATCHDOG=1 stops within about half an interval plus a tick
    of the hook starting, the log says why, other connections are still served, and the pings
    resume once the handler returns."""
    usec = 400000 * SLOW
    half = usec / 2e6
    stuck_ms = 2000 * SLOW
    with NotifySocket() as notify:
        with Server("--listen", "127.0.0.1:0=slow", "--plugin", SLOW_PLUGIN, "--threads", "2",
                    env={"NOTIFY_SOCKET": notify.env, "WATCHDOG_USEC": str(usec)}) as srv:
            notify.wait("WATCHDOG", "1", count=3)
            with connect(srv.port) as s:
                t0 = time.monotonic()
                s.sendall(b"sleep %d\n" % stuck_ms)
                # meanwhile another connection is answered by the other worker
                with connect(srv.port) as other:
                    other.sendall(b"still served\n")
                    assert recv_lines(other, 1)[0] == b"still served"
                assert recv_lines(s, 1, timeout=10 * SLOW)[0] == b"slept %d" % stuck_ms
                t1 = time.monotonic()
            notify.wait("WATCHDOG", "1", count=len(notify.with_key("WATCHDOG")) + 2)
            during = [t for t, _, f in notify.snapshot()
                      if f.get("WATCHDOG") == "1" and t0 + 2.5 * half < t < t1 - 0.05]
            assert not during, "keep-alives while the handler was stuck: %r" % during
            gap = max(ping_gaps(notify))
            assert gap >= stuck_ms / 1000 - 2.5 * half, (gap, stuck_ms)
            rc, err = srv.stop()
            assert "keep-alive withheld" in err and "keep-alive resumed" in err, err
        print("handler stuck %.2f s: longest gap between keep-alives %.2f s (interval %.2f s)"
              % (t1 - t0, gap, 2 * half))


# --- socket activation -----------------------------------------------------------------

def case_socket_activation_serves_the_passed_socket():
    """systemd-socket-activate binds, passes the socket named 'web' when the first client
    connects, and execs the server: `--listen systemd:web=echo` serves that very socket (the
    first client, which connected before the server ran, is answered too)."""
    need_activate()
    port = free_port()
    with NotifySocket() as notify:
        wrap = [ACTIVATE, "-l", "127.0.0.1:%d" % port, "--fdname=web",
                "-E", "NOTIFY_SOCKET=" + notify.env]
        with Server("--listen", "systemd:web=echo", wrap=wrap, wait=False) as srv:
            wait_for(lambda: "Listening" in srv.stderr(), 10, "systemd-socket-activate to listen")
            with connect(port) as first:
                first.sendall(b"first\n")
                srv._await_listeners(1)
                assert srv.listeners[0][1] == port, srv.listeners
                assert recv_lines(first, 1)[0] == b"first"
            notify.wait("READY", "1")
            with connect(port) as s:
                s.sendall(b"second\n")
                assert recv_lines(s, 1)[0] == b"second"
            inode = listen_inode(port)
            assert socket_inodes(srv.proc.pid) >= {inode}, "the server serves the passed socket"
            srv.stop()


def listen_inode(port):
    with open("/proc/net/tcp") as f:
        next(f)
        for row in f:
            fields = row.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
                return int(fields[9])
    raise AssertionError("nothing listens on %d" % port)


def socket_inodes(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(int(link[8:-1]))
    return out


def case_socket_activation_two_names_two_chains():
    """Two sockets, FileDescriptorNames 'lines' and 'count': each listener runs its own chain."""
    need_activate()
    p1, p2 = free_port(), free_port()
    wrap = [ACTIVATE, "-l", "127.0.0.1:%d" % p1, "-l", "127.0.0.1:%d" % p2,
            "--fdname=lines:count"]
    with Server("--listen", "systemd:lines=echo", "--listen", "systemd:count=counter",
                wrap=wrap, wait=False) as srv:
        wait_for(lambda: "Listening" in srv.stderr(), 10, "systemd-socket-activate to listen")
        with connect(p2) as s:
            srv._await_listeners(2)
            s.sendall(b"a\nb\nY\n")
            assert recv_lines(s, 1)[0].startswith(b"count messages=2"), "counter on 'count'"
        with connect(p1) as s:
            s.sendall(b"echoed\n")
            assert recv_lines(s, 1)[0] == b"echoed"
        srv.stop()


def case_two_sockets_of_one_name_keep_their_listener_options_and_reload():
    """Two passed sockets named 'a' make two listeners of one `--listen systemd:a+proxy=echo`:
    each reads a PROXY header (the option belongs to the spec, not to a position among
    listeners), the listener after them keeps its own options, and a SIGHUP reload moves
    every one of their chains to the new plugin generation (both still answer after it)."""
    need_activate()
    p1, p2 = free_port(), free_port()
    wrap = [ACTIVATE, "-l", "127.0.0.1:%d" % p1, "-l", "127.0.0.1:%d" % p2, "--fdname=a:a"]
    header = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"
    with Server("--listen", "systemd:a+proxy=echo", "--listen", "127.0.0.1:0=echo",
                wrap=wrap, wait=False) as srv:
        wait_for(lambda: "Listening" in srv.stderr(), 10, "systemd-socket-activate to listen")
        first = connect(p1)
        srv._await_listeners(3)
        assert sorted(p for _, p, _ in srv.listeners[:2]) == sorted([p1, p2]), srv.listeners
        plain = srv.listeners[2][1]

        def round_trips():
            for port in (p1, p2):
                with connect(port) as s:
                    s.sendall(header + b"hello\n")
                    assert recv_lines(s, 1)[0] == b"hello", port
            with connect(plain) as s:
                s.sendall(header)
                assert recv_lines(s, 1)[0] == header.rstrip(b"\n"), "no +proxy here"

        first.sendall(header + b"first\n")
        assert recv_lines(first, 1)[0] == b"first"
        first.close()
        round_trips()
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "plugin echo reloaded" in srv.stderr(), 10, "the reload")
        round_trips()
        srv.stop()


def case_socket_activation_unknown_name_exits_2():
    """`--listen systemd:nope=echo` when only 'web' was passed: one line naming what was passed,
    exit 2."""
    need_activate()
    port = free_port()
    with Server("--listen", "systemd:nope=echo",
                wrap=[ACTIVATE, "-l", "127.0.0.1:%d" % port, "--fdname=web"], wait=False) as srv:
        wait_for(lambda: "Listening" in srv.stderr(), 10, "systemd-socket-activate to listen")
        try:
            connect(port).close()  # starts the server, which refuses to run
        except OSError:
            pass  # it may have exited and closed the socket first
        rc, err = srv.stop(sig=None, expect=2)
        assert "--listen systemd:nope: no socket named 'nope' was passed (LISTEN_FDNAMES: web)" \
            in err, err


def run_with_fd3(sock, *args, names=None, fds="1"):
    """The server with `sock` as fd 3 and LISTEN_PID naming it (a shell's pid is kept by its
    exec), as systemd hands a socket over."""
    env = dict(os.environ, LISTEN_FDS=fds)
    if names is not None:
        env["LISTEN_FDNAMES"] = names
    wrap = ["sh", "-c", 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', "sh"]
    fd = sock.fileno()
    # close_fds=False: subprocess would close fd 3 after preexec_fn made it (Python's own fds
    # are close-on-exec, so nothing else leaks into the server).
    return lptest.subprocess.run(wrap + lptest.server_command(*args), capture_output=True,
                                 timeout=10 * SLOW, env=env, close_fds=False,
                                 preexec_fn=lambda: os.dup2(fd, 3))


def case_passed_socket_that_does_not_listen_exits_2():
    """A passed datagram socket, or a stream socket that is not listening, is refused with one
    line naming it; LISTEN_FDNAMES naming a different count of sockets, too."""
    cases = [(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), "not a stream socket"),
             (socket.socket(), "a stream socket that is not listening")]
    for sock, why in cases:
        with sock:
            proc = run_with_fd3(sock, "--listen", "systemd:web=echo", names="web")
            err = proc.stderr.decode()
            lptest.assert_no_sanitizer_report(err)
            assert proc.returncode == 2, err
            assert "--listen systemd:web: the passed socket 3 is %s" % why in err, err
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        proc = run_with_fd3(sock, "--listen", "systemd:web=echo", names="web:extra")
        err = proc.stderr.decode()
        assert proc.returncode == 2, err
        assert "LISTEN_FDNAMES=web:extra does not name the 1 sockets of LISTEN_FDS" in err, err


def case_listen_pid_of_another_process_is_ignored():
    """LISTEN_FDS meant for another pid (LISTEN_PID=1) is not ours: `systemd:web` finds none."""
    env = dict(os.environ, LISTEN_PID="1", LISTEN_FDS="1", LISTEN_FDNAMES="web")
    proc = run_server("--listen", "systemd:web=echo", env=env)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "no socket named 'web' was passed (LISTEN_FDNAMES: none passed)" in err, err


# --- the shipped unit files ------------------------------------------------------------

UNIT_DIR = os.path.join(lptest.SOURCE, "server", "packaging")


def unit_values(path, key):
    with open(path) as f:
        return [l.split("=", 1)[1].strip() for l in f if l.startswith(key + "=")]


def case_shipped_units_verify_and_serve():
    """server/packaging's linepool.service (as CMake configures it, pointed at this build)
    and linepool.socket pass `systemd-analyze verify`; the service's ExecStart, given the
    socket's FileDescriptorName through systemd-socket-activate, serves a client."""
    need_activate()
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze not found: install Debian's systemd package"
    configured = os.path.join(lptest.BUILD, "server", "linepool.service")
    assert unit_values(configured, "Type") == ["notify"], configured
    assert unit_values(configured, "WatchdogSec"), "the service sets a watchdog"
    exec_start = unit_values(configured, "ExecStart")[0].split()
    assert exec_start[0].endswith("/bin/linepool-server"), exec_start
    socket_unit = os.path.join(UNIT_DIR, "linepool.socket")
    name = unit_values(socket_unit, "FileDescriptorName")[0]
    assert "systemd:%s=echo" % name in exec_start, (exec_start, name)
    d = tempfile.mkdtemp(prefix="lp-units-")
    try:
        with open(configured) as f:
            text = f.read().replace(exec_start[0], lptest.SERVER)
        with open(os.path.join(d, "linepool.service"), "w") as f:
            f.write(text)
        shutil.copy(socket_unit, d)
        proc = lptest.subprocess.run([analyze, "verify", "--man=no", "linepool.socket",
                                      "linepool.service"], cwd=d, capture_output=True,
                                     timeout=30 * SLOW)
        assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr.decode()
    finally:
        shutil.rmtree(d)
    port = free_port()
    args = [a for a in exec_start[1:] if a != "$LINEPOOL_ARGS"]
    with Server(*args, "--plugin-dir", lptest.PLUGIN_DIR, wait=False,
                wrap=[ACTIVATE, "-l", "127.0.0.1:%d" % port, "--fdname=" + name]) as srv:
        wait_for(lambda: "Listening" in srv.stderr(), 10, "systemd-socket-activate to listen")
        with connect(port) as s:
            s.sendall(b"from the unit\n")
            assert recv_lines(s, 1)[0] == b"from the unit"
        srv.stop()


if __name__ == "__main__":
    lptest.main(globals())
