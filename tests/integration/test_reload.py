"""SIGHUP reloads plugins by generations (issue 13): a new version of every plugin is loaded
from a private copy of its file and serves connections opened from then on; older
connections keep their version (echo) or move to the new one at a message boundary
(counter); an old version is unloaded once, after its last connection; a reload that cannot
load keeps the old version serving, with one line why. Every case keeps a witness connection
served throughout. Plugin files are copied into a temporary plugin directory and replaced
there; the build tree's plugins are never touched."""
import os
import re
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import lptest  # noqa: E402
from lptest import Server, connect, recv_lines, wait_for, SLOW  # noqa: E402

TESTS = os.path.join(lptest.BUILD, "tests")
PLUGINS = lptest.PLUGIN_DIR
V1, V2 = b"", b"v2:"  # what echo and echo_v2 put before each answer


class PluginDir:
    """A private plugin directory holding copies of the named plugins; `install` writes a
    new version over one of them in place (cp-style: truncate, write), as an operator might:
    harmless, since the server maps only private copies."""

    def __init__(self, *names):
        self.path = tempfile.mkdtemp(prefix="lp-reload-")
        for name in names:
            shutil.copyfile(self.source(name), os.path.join(self.path, name + ".so"))

    @staticmethod
    def source(name):
        built = os.path.join(PLUGINS, name + ".so")
        return built if os.path.exists(built) else os.path.join(TESTS, name + ".so")

    def install(self, name, variant):
        shutil.copyfile(self.source(variant), os.path.join(self.path, name + ".so"))

    def write(self, name, data):
        with open(os.path.join(self.path, name + ".so"), "wb") as f:
            f.write(data)

    def remove(self, name):
        os.unlink(os.path.join(self.path, name + ".so"))

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


RELOAD_LINE = re.compile(r" (?:INFO |WARN ) plugin ([^\s:]+):? (reloaded|reload failed|"
                         r"reload refused)")


def outcomes(srv, plugin):
    """Every reload outcome logged for `plugin` so far, in order."""
    return [m.group(2) for m in RELOAD_LINE.finditer(srv.stderr()) if m.group(1) == plugin]


def hup(srv, plugin, timeout=5):
    """SIGHUP, then waits for the next outcome line of `plugin`; returns that outcome."""
    before = len(outcomes(srv, plugin))
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: len(outcomes(srv, plugin)) > before, timeout, "the reload of " + plugin)
    return outcomes(srv, plugin)[before]


def unloads(err, plugin):
    """{generation: times unloaded} from the server's log."""
    seen = {}
    for g in re.findall(r" INFO  plugin %s generation (\d+) \([^)]*\) unloaded" % plugin, err):
        seen[int(g)] = seen.get(int(g), 0) + 1
    return seen


def ask(sock, line, n=1):
    sock.sendall(line + b"\n")
    return recv_lines(sock, n)


# --- the proof under load ------------------------------------------------------------------

class Client:
    """One pipelining connection: numbered lines, at most WINDOW unanswered; checks every
    answer is the next number, all with the same echo version, and the longest wait."""
    WINDOW = 16
    BURST = 4  # new lines per turn of the loop: paced, so the client's own CPU (on cores
    #            it shares with the server) does not decide the reply gaps it measures

    def __init__(self, cid, port, sel):
        self.cid = cid
        self.sock = connect(port)
        self.sock.setblocking(False)
        self.sent = self.answered = 0
        self.buf = b""
        self.prefix = None
        self.last_answer = time.monotonic()
        self.worst_gap = self.worst_at = 0.0
        self.long_waits = []  # (start, end) of every wait over 20 ms
        self.sending = True
        self.out = b""
        sel.register(self.sock, selectors.EVENT_READ, self)

    def top_up(self):
        burst = self.BURST
        while self.sending and burst and self.sent - self.answered < self.WINDOW:
            self.out += b"%d %d\n" % (self.cid, self.sent)
            self.sent += 1
            burst -= 1
        if self.out:
            try:
                n = self.sock.send(self.out)
            except BlockingIOError:
                n = 0
            self.out = self.out[n:]

    def on_readable(self):
        chunk = self.sock.recv(1 << 16)  # a reset raises: a failure of the case
        assert chunk, "client %d: the server closed the connection" % self.cid
        now = time.monotonic()
        if now - self.last_answer > self.worst_gap:
            self.worst_gap, self.worst_at = now - self.last_answer, now
        if now - self.last_answer > 0.02:
            self.long_waits.append((self.last_answer, now))
        self.last_answer = now
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            body = b"%d %d" % (self.cid, self.answered)
            prefix = line[:-len(body)] if line.endswith(body) else None
            assert prefix in (V1, V2), "client %d: expected answer %r, got %r" \
                % (self.cid, body, line)
            if self.prefix is None:
                self.prefix = prefix
            assert prefix == self.prefix, "client %d switched echo version mid-connection: " \
                "%r after %r" % (self.cid, prefix, self.prefix)
            self.answered += 1


class Probe:
    """A connection opened after a reload: one line, whose answer must be `want`."""

    def __init__(self, port, line, want, sel):
        self.sock = connect(port)  # the kernel completes it; the server accepts it later
        self.sock.sendall(line + b"\n")
        self.sock.setblocking(False)
        self.want, self.buf, self.answered, self.sel = want, b"", False, sel
        sel.register(self.sock, selectors.EVENT_READ, self)

    def on_readable(self):
        chunk = self.sock.recv(4096)
        assert chunk, "the probe's connection closed before its answer"
        self.buf += chunk
        if self.buf.endswith(b"\n"):
            assert self.buf == self.want + b"\n", (self.buf, self.want)
            self.sel.unregister(self.sock)
            self.sock.close()
            self.answered = True


def case_fifty_clients_through_twenty_reloads():
    """50 clients pipeline numbered lines to counter,echo through 20 reloads 100 ms apart,
    echo's file alternating between echo and echo_v2 (which answers 'v2:...'). A connection
    opened after each reload (a probe) sees the version just installed; the 50 keep the echo
    they started with (pinned) while their counter moves on. At the end sent == echoed ==
    counted, per connection (counter's Y) and in the server totals, every number once and in
    order, no connection refused or reset, the worst wait for an answer under 100 ms, and
    every generation of both plugins unloaded exactly once."""
    reloads, clients_n = 20, 50
    with PluginDir("echo", "counter") as d, \
            Server("--plugin-dir", d.path, "--listen", "127.0.0.1:0=counter,echo",
                   "--threads", "2", "--max-generations", "4") as srv:
        sel = selectors.DefaultSelector()
        clients = [Client(i, srv.port, sel) for i in range(clients_n)]
        probes, installed, done = 0, V1, 0
        start = time.monotonic()
        next_reload = start + 0.1
        awaiting = None  # the echo outcome count we wait to grow after a SIGHUP
        probe = None
        hups, reloaded = [], []  # when each SIGHUP was sent, when its line was seen
        deadline = start + 60 * SLOW
        while done < reloads or any(c.answered < c.sent for c in clients):
            assert time.monotonic() < deadline, "the run did not finish"
            for c in clients:
                c.sending = done < reloads
                c.top_up()
            for key, _ in sel.select(timeout=0.002):
                key.data.on_readable()
            now = time.monotonic()
            if awaiting is None and done < reloads and now >= next_reload \
                    and all(c.prefix is not None for c in clients):
                installed = V2 if installed == V1 else V1
                d.install("echo", "echo" if installed == V1 else "echo_v2")
                awaiting = len(outcomes(srv, "echo"))
                hups.append(time.monotonic())
                srv.proc.send_signal(signal.SIGHUP)
            elif awaiting is not None and probe is None:
                got = outcomes(srv, "echo")
                if len(got) > awaiting:
                    assert got[awaiting] == "reloaded", srv.stderr()[-3000:]
                    reloaded.append(time.monotonic())
                    # a new connection must get the new version; its answer is read by this
                    # loop like the others', so no client waits while the probe does
                    probe = Probe(srv.port, b"probe %d" % done, installed + b"probe %d" % done,
                                  sel)
            elif probe is not None and probe.answered:
                probes += 1
                done += 1
                awaiting = probe = None
                next_reload = max(next_reload + 0.1, time.monotonic())
        elapsed = time.monotonic() - start
        # every client's count, from the counter version it ended on (it moved 20 times)
        for c in clients:
            c.sock.setblocking(True)
            assert ask(c.sock, b"Y") == [b"count messages=%d bytes=%d" % (
                c.sent, sum(len(b"%d %d\n" % (c.cid, i)) for i in range(c.sent)))]
            assert c.prefix == V1, "client %d started before the first reload" % c.cid
            c.sock.close()
        sent = sum(c.sent for c in clients)
        worst, worst_at = max((c.worst_gap, c.worst_at) for c in clients)
        # where the worst wait ended, from the nearest SIGHUP: tells a reload's stall from
        # the machine's (a stall of the server at a reload starts just after its SIGHUP)
        near = min(hups, key=lambda t: abs(worst_at - worst / 2 - t))
        wait_for(lambda: srv.open_sockets() == 1, 5, "the clients' connections to close")
        rc, err = srv.stop()
        totals = re.findall(r" INFO  counter: server totals: connections=(\d+) messages=(\d+) ",
                            err)
        assert totals == [(str(clients_n + probes), str(sent + probes))], totals
        summary = lptest.summary_of(srv)
        assert summary["messages"] == sent + probes + clients_n, summary  # + each Y
        assert summary["reloads"] == 2 * reloads and summary["reload_failures"] == 0, summary
        for plugin in ("echo", "counter"):
            assert unloads(err, plugin) == {g: 1 for g in range(1, reloads + 2)}, \
                (plugin, unloads(err, plugin))
        # the longest wait that overlapped a reload (SIGHUP to its log line) and the longest
        # that did not: a reload's own cost shows as a difference between the two
        during = [b - a for c in clients for a, b in c.long_waits
                  if any(a < r and b > h for h, r in zip(hups, reloaded))]
        apart = [b - a for c in clients for a, b in c.long_waits
                 if not any(a < r and b > h for h, r in zip(hups, reloaded))]
        print("waits over 20 ms: %d overlapping a reload (longest %.1f ms), %d not (longest "
              "%.1f ms)" % (len(during), max(during, default=0) * 1000, len(apart),
                            max(apart, default=0) * 1000))
        print("%d clients, %d reloads in %.2f s: sent=%d echoed=%d counted=%d, worst reply "
              "gap %.1f ms (from %+.1f ms to %+.1f ms of the nearest SIGHUP)"
              % (clients_n, reloads, elapsed, sent, sum(c.answered for c in clients),
                 int(totals[0][1]) - probes, worst * 1000, (worst_at - worst - near) * 1000,
                 (worst_at - near) * 1000))
        assert worst < 0.1 * SLOW, "worst reply gap %.1f ms" % (worst * 1000)


def case_two_hundred_reloads_keep_rss_flat():
    """200 reloads of counter and echo, one every few ms, a witness on counter moving to each
    new version: the server's RSS after them is within 1 MiB of what it was after the first
    20 (each version's private copy, handle and state are given back)."""
    # ASan keeps freed memory in a quarantine (256 MiB by default) and gives every thread
    # (each reload's load hook runs on one) its own fake stacks for use-after-return: with
    # neither, what the server gives back is reused, and RSS measures what it still holds.
    asan = {"ASAN_OPTIONS": ":".join(filter(None, [
        os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=0",
        "thread_local_quarantine_size_kb=0", "detect_stack_use_after_return=0"]))}
    with PluginDir("echo", "counter") as d, \
            Server("--plugin-dir", d.path, "--listen", "127.0.0.1:0=counter",
                   "--listen", "127.0.0.1:0=echo", "--threads", "2", env=asan) as srv:
        witness = connect(srv.port_of("counter"))
        base = None
        for i in range(1, 201):
            assert hup(srv, "counter") == "reloaded", srv.stderr()[-2000:]
            # one message moves the witness to the new counter, so the old one can go
            assert ask(witness, b"x\nY") == [b"count messages=%d bytes=%d" % (i, 2 * i)]
            if i == 20:
                base = srv.rss_kib()
        wait_for(lambda: len(unloads(srv.stderr(), "counter")) >= 199, 5, "old versions gone")
        grown = srv.rss_kib() - base
        print("RSS after 20 reloads %d KiB, after 200: %+d KiB" % (base, grown))
        # The tools' own memory grows with every mapped copy and thread: TSan keeps the
        # shadow of each copy after it is unmapped (~25 KiB a reload of two plugins here),
        # ASan's allocator and thread records add ~1 KiB a reload. The plain build is held
        # to the 1 MiB the issue asks; the sanitizer builds get the tools' share on top.
        budget = {"thread": 8192, "address": 2048}.get(os.environ.get("LP_SANITIZE"), 1024)
        assert grown < budget, "RSS grew %d KiB over 180 reloads" % grown
        assert lptest.echo_roundtrip(srv.port_of("echo")) == b"ping"
        witness.close()
        srv.stop()
        assert lptest.summary_of(srv)["reloads"] == 400


# --- bad input: the old version keeps serving ----------------------------------------------

def witnessed(d, *extra):
    """A server on counter,echo in plugin dir d, and a witness connection on it."""
    srv = Server("--plugin-dir", d.path, "--listen", "127.0.0.1:0=counter,echo", *extra)
    w = connect(srv.port)
    assert ask(w, b"hello") == [b"hello"]
    return srv, w


def case_reload_refused_while_previous_generation_retires():
    """With --max-generations 2, a witness pinned on echo generation 1 keeps it loaded after
    a reload; the next reload is refused for echo with a line naming the bound and the
    connection, while counter (whose connections move) reloads. Once the witness closes,
    generation 1 is unloaded (once) and the next reload goes through."""
    with PluginDir("echo", "counter") as d:
        srv, w = witnessed(d)
        with srv:
            d.install("echo", "echo_v2")
            assert hup(srv, "echo") == "reloaded"
            assert ask(w, b"still") == [b"still"]  # pinned on generation 1
            assert hup(srv, "echo") == "reload refused"
            assert re.search(r"WARN  plugin echo: reload refused: 2 generations loaded "
                             r"\(--max-generations 2\), 1 connection still on older ones; "
                             r"generation 2 \(2\.0\.0-test\) keeps serving", srv.stderr())
            assert outcomes(srv, "counter")[-1] == "reloaded"
            assert ask(w, b"served") == [b"served"]
            assert lptest.echo_roundtrip(srv.port) == b"v2:ping"
            w.close()
            wait_for(lambda: unloads(srv.stderr(), "echo") == {1: 1}, 5, "generation 1 unloaded")
            assert hup(srv, "echo") == "reloaded"
            rc, err = srv.stop()
            assert unloads(err, "echo") == {1: 1, 2: 1, 3: 1}, unloads(err, "echo")
            assert lptest.summary_of(srv)["reload_failures"] == 1


def refused_reload(prepare, expect, *extra, plugin="echo"):
    """A reload whose new file cannot be used: one WARN line `expect` (a regex), the old
    version keeps answering the witness and new connections, nothing is unloaded early."""
    with PluginDir("echo", "counter") as d:
        srv, w = witnessed(d, *extra)
        with srv:
            prepare(d)
            assert hup(srv, plugin, timeout=10) == "reload failed", srv.stderr()
            lines = [l for l in srv.stderr().splitlines() if "reload failed" in l]
            assert len(lines) == 1 and re.search(expect, lines[0]), lines
            assert ask(w, b"after") == [b"after"]
            assert lptest.echo_roundtrip(srv.port) == b"ping"
            assert 1 not in unloads(srv.stderr(), plugin)
            w.close()
            srv.stop()
            assert lptest.summary_of(srv)["reload_failures"] == 1


def case_reload_of_garbage_file_keeps_old_version():
    refused_reload(lambda d: d.write("echo", b"\x7fELF but not really\n" * 100),
                   r"WARN  plugin echo: reload failed, generation 1 \(1\.0\.0\) keeps serving: "
                   r"plugin \S+/echo\.so: not a loadable shared object: \S+/echo\.so: ")


def case_reload_of_vanished_file_keeps_old_version():
    refused_reload(lambda d: d.remove("echo"),
                   r"WARN  plugin echo: reload failed, generation 1 \(1\.0\.0\) keeps serving: "
                   r"plugin \S+/echo\.so: No such file or directory$")


def case_reload_whose_load_hook_fails_keeps_old_version():
    with PluginDir("reloadable", "reloadable_fail", "echo") as d:
        d.install("reloadable", "reloadable")
        with Server("--plugin-dir", d.path, "--listen", "127.0.0.1:0=reloadable") as srv:
            w = connect(srv.port)
            assert ask(w, b"x") == [b"reloadable 1"]
            d.install("reloadable", "reloadable_fail")
            assert hup(srv, "reloadable") == "reload failed"
            assert re.search(r"WARN  plugin reloadable: reload failed, generation 1 \(1\) keeps "
                             r"serving: plugin reloadable: load failed: refusing on purpose "
                             r"\(the failing variant\)$", srv.stderr(), re.M), srv.stderr()
            assert ask(w, b"x") == [b"reloadable 1"]
            d.install("reloadable", "reloadable_v2")  # a good file again: it goes through
            assert hup(srv, "reloadable") == "reloaded"
            assert ask(w, b"x") == [b"reloadable 1"]  # pinned
            with connect(srv.port) as n:
                assert ask(n, b"x") == [b"reloadable 2"]
            w.close()
            # generation 1 goes once its witness is gone: its 1 ms plugin timer stopped first
            wait_for(lambda: unloads(srv.stderr(), "reloadable") == {1: 1}, 5, "gen 1 unloaded")
            assert "reloadable: version 1 unloaded after some ticks" in srv.stderr()
            srv.stop()


def case_reload_whose_load_hook_hangs_is_abandoned_after_timeout():
    with PluginDir("reloadable", "reloadable_hang") as d:
        d.install("reloadable", "reloadable")
        with Server("--plugin-dir", d.path, "--listen", "127.0.0.1:0=reloadable",
                    "--reload-timeout", "%gs" % (0.3 * SLOW)) as srv:
            w = connect(srv.port)
            d.install("reloadable", "reloadable_hang")
            t0 = time.monotonic()
            srv.proc.send_signal(signal.SIGHUP)
            assert ask(w, b"during") == [b"reloadable 1"]  # the workers are not held up
            wait_for(lambda: outcomes(srv, "reloadable"), 5, "the reload's outcome")
            waited = time.monotonic() - t0
            assert outcomes(srv, "reloadable") == ["reload failed"]
            assert re.search(r"WARN  plugin reloadable: reload failed, generation 1 \(1\) keeps "
                             r"serving: load hook did not return within [0-9.]+ s "
                             r"\(--reload-timeout\); abandoned", srv.stderr()), srv.stderr()
            assert waited >= 0.3 * SLOW * 0.9, waited
            assert ask(w, b"after") == [b"reloadable 1"]
            with connect(srv.port) as n:
                assert ask(n, b"x") == [b"reloadable 1"]
            w.close()
            srv.stop()


def case_hanging_load_hook_leaves_the_main_loop_free_and_a_sighup_is_queued():
    """The main thread only starts a reload: while a new version's load hook hangs, new
    connections are accepted and answered as before. A SIGHUP meanwhile is queued, once, with
    a line; it runs when the hanging load is given up, and loads the file then in place."""
    timeout = 2.0 * SLOW
    with PluginDir("reloadable", "reloadable_hang", "reloadable_v2") as d:
        d.install("reloadable", "reloadable")
        with Server("--plugin-dir", d.path, "--listen", "127.0.0.1:0=reloadable",
                    "--reload-timeout", "%gs" % timeout) as srv:
            d.install("reloadable", "reloadable_hang")
            t0 = time.monotonic()
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "SIGHUP: reloading 1 plugin" in srv.stderr(), 5, "the reload")
            worst, n = 0.0, 0
            while time.monotonic() - t0 < timeout / 2:
                t = time.monotonic()
                with connect(srv.port) as c:
                    assert ask(c, b"x") == [b"reloadable 1"]
                worst, n = max(worst, time.monotonic() - t), n + 1
            assert outcomes(srv, "reloadable") == [], "the hook was meant to be still hanging"
            assert worst < 0.5 * SLOW, "a connection waited %.3f s during the hang" % worst
            print("%d connections during the hanging load, slowest %.1f ms" % (n, worst * 1e3))
            d.install("reloadable", "reloadable_v2")
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "this reload is queued and runs once they are done" in srv.stderr(),
                     5, "the queued line")
            wait_for(lambda: len(outcomes(srv, "reloadable")) == 2, 5 + timeout, "both reloads")
            assert outcomes(srv, "reloadable") == ["reload failed", "reloaded"], srv.stderr()
            assert srv.stderr().count("SIGHUP: reloading 1 plugin") == 2, srv.stderr()
            with connect(srv.port) as c:
                assert ask(c, b"y") == [b"reloadable 2"]
            srv.stop()


def case_sigterm_while_a_load_hook_hangs_exits_promptly():
    """SIGTERM during a reload whose load hook hangs: the drain goes on without it, the load is
    abandoned with a line, and the server exits 0 at once, not after --reload-timeout."""
    with PluginDir("reloadable", "reloadable_hang") as d:
        d.install("reloadable", "reloadable")
        with Server("--plugin-dir", d.path, "--listen", "127.0.0.1:0=reloadable",
                    "--reload-timeout", "60s") as srv:
            w = connect(srv.port)
            d.install("reloadable", "reloadable_hang")
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "SIGHUP: reloading 1 plugin" in srv.stderr(), 5, "the reload")
            assert ask(w, b"w") == [b"reloadable 1"]
            w.close()
            t0 = time.monotonic()
            rc, err = srv.stop()
            took = time.monotonic() - t0
            assert took < 2 * SLOW, "exit took %.2f s" % took
            assert "INFO  plugin reloadable: reload abandoned: the server is stopping; " \
                   "generation 1 (1) keeps serving" in err, err
            assert outcomes(srv, "reloadable") == [], err
            assert err.count("reloadable: version 1 unloaded after") == 1, err  # once, at exit


def case_two_sighups_in_a_burst():
    """Two SIGHUPs back to back (the kernel may merge them into one): at most two reloads, the
    second refused by --max-generations 2 while the witness holds generation 1; the witness
    and new connections are served all along, and no generation is unloaded twice."""
    with PluginDir("echo", "counter") as d:
        srv, w = witnessed(d)
        with srv:
            d.install("echo", "echo_v2")
            srv.proc.send_signal(signal.SIGHUP)
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "reloaded" in outcomes(srv, "echo"), 5, "a reload")
            assert ask(w, b"w") == [b"w"]
            assert lptest.echo_roundtrip(srv.port) == b"v2:ping"
            got = outcomes(srv, "echo")
            assert got in (["reloaded"], ["reloaded", "reload refused"]), got
            w.close()
            rc, err = srv.stop()
            assert all(n == 1 for n in unloads(err, "echo").values()), unloads(err, "echo")
            assert sorted(unloads(err, "echo")) == [1, 2]


def case_abi_1_0_plugin_reloads():
    """A plugin built against the first header (ABI 1.0, no declared arguments, no migration
    hooks) reloads like any other: pinned connections, a new version for new ones."""
    broken = os.path.join(TESTS, "broken")
    with tempfile.TemporaryDirectory(prefix="lp-reload-") as dir_:
        shutil.copyfile(os.path.join(broken, "v10.so"), os.path.join(dir_, "v10.so"))
        with Server("--plugin-dir", dir_, "--plugin-dir", PLUGINS,
                    "--listen", "127.0.0.1:0=v10,echo") as srv:
            w = connect(srv.port)
            assert ask(w, b"hi", 2) == [b"v10 hi", b"hi"]
            assert hup(srv, "v10") == "reloaded"
            assert ask(w, b"hi", 2) == [b"v10 hi", b"hi"]
            w.close()
            wait_for(lambda: unloads(srv.stderr(), "v10") == {1: 1}, 5, "v10 generation 1 gone")
            with connect(srv.port) as n:
                assert ask(n, b"ping", 2) == [b"v10 ping", b"ping"]
            srv.stop()


def case_sighup_rereads_plugin_arguments_from_config_file():
    """With --config FILE, SIGHUP reads the file again: counter's new version takes the
    marker its `plugin` line now gives, for new connections and for the witness, which moves
    to it; a file that no longer parses is reported and the plugins keep their arguments."""
    with PluginDir("echo", "counter") as d:
        conf = os.path.join(d.path, "linepool.conf")

        def write(text):
            with open(conf, "w") as f:
                f.write(text)

        write("listen 127.0.0.1:0=counter,echo\nplugin counter:marker=END\n")
        with Server("--config", conf, "--plugin-dir", d.path, expect_listeners=1) as srv:
            w = connect(srv.port)
            assert ask(w, b"a\nEND", 2) == [b"a", b"count messages=1 bytes=2"]
            write("listen 127.0.0.1:0=counter,echo\nplugin counter:marker=FIN\n")
            assert hup(srv, "counter") == "reloaded"
            assert "SIGHUP: reloading 2 plugins, arguments from %s" % conf in srv.stderr()
            # the witness moves to the new counter at its next message: FIN is the marker
            assert ask(w, b"END\nFIN", 2) == [b"END", b"count messages=2 bytes=6"]
            with connect(srv.port) as n:
                assert ask(n, b"FIN") == [b"count messages=0 bytes=0"]
            write("listen 127.0.0.1:0=counter,echo\nplugin counter:bogus=1\n")
            assert hup(srv, "counter") == "reload failed"
            assert re.search(r"WARN  plugin counter: reload failed, generation 2 \(1\.0\.0\) "
                             r"keeps serving: plugin counter: unknown argument 'bogus'",
                             srv.stderr()), srv.stderr()
            write("listen = nonsense\n")
            assert hup(srv, "counter") == "reloaded"
            assert re.search(r"WARN  SIGHUP: %s not re-read, plugins keep their arguments: "
                             % re.escape(conf), srv.stderr()), srv.stderr()
            assert ask(w, b"FIN") == [b"count messages=2 bytes=6"]
            w.close()
            srv.stop()


# --- found in review: the admin thread during reloads, a vanished config file -----------------

ADMIN_RE = re.compile(r"^admin listening on \S+:(\d+)$")


def admin_port_of(srv):
    for line in srv.stdout_lines:
        m = ADMIN_RE.match(line)
        if m:
            return int(m.group(1))
    raise AssertionError("no 'admin listening on' line in %r" % srv.stdout_lines)


def plugins_lines(port):
    """The admin 'plugins' answer: {key: (version, connections)}."""
    with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as a:
        a.sendall(b"plugins\n")
        buf = b""
        a.settimeout(5 * SLOW)
        while not buf.endswith(b"END\n"):
            chunk = a.recv(65536)
            assert chunk, "admin closed after %r" % buf
            buf += chunk
    out = {}
    for line in buf.decode().splitlines()[:-1]:
        m = re.match(r"^PLUGIN (\S+) (\S+) connections=(\d+)$", line)
        assert m, line
        out[m.group(1)] = (m.group(2), int(m.group(3)))
    return out


def case_admin_plugins_command_during_reloads():
    """The admin thread lists plugin versions while SIGHUPs retire and unload the ones it
    replaced (it once printed a version being unloaded: SIGSEGV): 'plugins' asked without
    pause through 150 reloads, echo's file alternating, gets a whole answer every time and
    the server keeps serving."""
    with PluginDir("echo", "counter") as d:
        srv, w = witnessed(d, "--admin", "127.0.0.1:0")
        with srv:
            port = admin_port_of(srv)
            w.close()  # a connection pinned on echo would hold its generation: reloads refused
            stop, asked, errors = [], [0], []

            def asker():
                try:
                    while not stop:
                        got = plugins_lines(port)
                        assert set(got) == {"echo", "counter"}, got
                        asked[0] += 1
                except Exception as e:  # reported below
                    errors.append(e)

            import threading
            threads = [threading.Thread(target=asker, daemon=True) for _ in range(2)]
            for t in threads:
                t.start()
            for i in range(150):
                d.install("echo", "echo_v2" if i % 2 == 0 else "echo")
                assert hup(srv, "echo") == "reloaded"
                if i % 30 == 0:
                    want = b"v2:ping" if i % 2 == 0 else b"ping"
                    assert lptest.echo_roundtrip(srv.port) == want
            stop.append(1)
            for t in threads:
                t.join(10 * SLOW)
            assert not errors, errors
            assert asked[0] > 0
            assert lptest.echo_roundtrip(srv.port) == b"ping"  # the last install was echo
            rc, err = srv.stop()
            assert rc == 0, err
            print("150 reloads, 'plugins' answered %d times meanwhile" % asked[0])


def case_plugins_command_counts_connections_on_every_version():
    """'plugins' counts an instance's connections on all its versions: a witness that stays
    on echo generation 1 (echo does not migrate) and one that moves to counter's new version
    are both still counted after a reload, and nothing is counted once they close (the count
    once went to 2^64-1 after a migration)."""
    with PluginDir("echo", "counter") as d:
        srv, w = witnessed(d, "--admin", "127.0.0.1:0")
        with srv:
            port = admin_port_of(srv)
            assert plugins_lines(port) == {"echo": ("1.0.0", 1), "counter": ("1.0.0", 1)}
            d.install("echo", "echo_v2")
            assert hup(srv, "echo") == "reloaded"
            assert ask(w, b"moved") == [b"moved"]  # counter migrates here, echo stays
            got = plugins_lines(port)
            assert got["echo"][1] == 1 and got["counter"][1] == 1, got
            w.close()
            wait_for(lambda: all(n == 0 for _, n in plugins_lines(port).values()), 5 * SLOW,
                     "no connection counted after the close")
            rc, err = srv.stop()
            assert rc == 0, err


def case_sighup_after_config_file_vanished_keeps_serving():
    """SIGHUP when the --config file has been removed: one line says it was not re-read, the
    plugins reload with the arguments they have, and the server keeps serving (it once freed
    an uninitialised config there and died of SIGSEGV)."""
    with PluginDir("echo", "counter") as d:
        conf = os.path.join(d.path, "linepool.conf")
        with open(conf, "w") as f:
            f.write("listen 127.0.0.1:0=counter,echo\nplugin counter:marker=END\n")
        with Server("--config", conf, "--plugin-dir", d.path, expect_listeners=1) as srv:
            w = connect(srv.port)
            assert ask(w, b"hello") == [b"hello"]
            os.unlink(conf)
            assert hup(srv, "counter") == "reloaded"
            assert re.search(r"WARN  SIGHUP: %s not re-read, plugins keep their arguments: "
                             % re.escape(conf), srv.stderr()), srv.stderr()
            assert ask(w, b"END") == [b"count messages=1 bytes=6"]
            w.close()
            rc, err = srv.stop()
            assert rc == 0, err


def case_sighup_with_config_now_a_directory_or_a_fifo():
    """The re-read is the option module's reader, bounded and non-blocking: --config FILE
    replaced by a directory is one line; by a FIFO with no writer, one line and no wait (an
    open(2) of it would block the main thread until a writer came). Each time the plugins
    reload with the arguments they have, and the server keeps serving."""
    with PluginDir("echo", "counter") as d:
        conf = os.path.join(d.path, "linepool.conf")
        with open(conf, "w") as f:
            f.write("listen 127.0.0.1:0=counter,echo\nplugin counter:marker=END\n")
        with Server("--config", conf, "--plugin-dir", d.path, expect_listeners=1) as srv:
            os.unlink(conf)
            os.mkdir(conf)
            assert hup(srv, "counter") == "reloaded"
            said = re.findall(r"WARN  SIGHUP: %s not re-read, plugins keep their arguments: "
                              r"%s: (.*)" % (re.escape(conf), re.escape(conf)), srv.stderr())
            assert said == ["Is a directory"], srv.stderr()
            with connect(srv.port) as n:
                assert ask(n, b"a\nEND", 2) == [b"a", b"count messages=1 bytes=2"]
            os.rmdir(conf)
            os.mkfifo(conf)
            t0 = time.monotonic()
            assert hup(srv, "counter") == "reloaded"
            took = time.monotonic() - t0
            said = re.findall(r"WARN  SIGHUP: %s not re-read, plugins keep their arguments: "
                              r"%s: (.*)" % (re.escape(conf), re.escape(conf)), srv.stderr())
            assert said == ["Is a directory", "not a regular file"], srv.stderr()
            assert took < 2 * SLOW, "the reload with a FIFO took %.2f s" % took
            with connect(srv.port) as n:
                assert ask(n, b"b\nEND", 2) == [b"b", b"count messages=1 bytes=2"]
            srv.stop()


if __name__ == "__main__":
    lptest.main(globals())
