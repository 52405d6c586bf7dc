"""Integration tests of the plugin SDK through the real linepool-server: loader refusals end
to end, --plugin NAME:ARGS, chains, counter and rate-meter (the tutorial's three programs
reproduced in Python), and an out-of-tree plugin built against the installed SDK."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import lptest  # noqa: E402
from lptest import Server, connect, recv_lines, recv_until_close, wait_for, SLOW  # noqa: E402
from memmodel import READ_BUFFER  # noqa: E402

BROKEN = os.path.join(lptest.BUILD, "tests", "broken")
PLUGINS = lptest.PLUGIN_DIR
DIRS = ["--plugin-dir", BROKEN, "--plugin-dir", PLUGINS]


def refused(*args):
    """Runs a server that must refuse to start; returns its one stderr line."""
    proc = lptest.run_server(*args)
    assert proc.returncode == 2, "expected exit status 2 (could not start): %r" % (proc,)
    assert proc.stdout == b"", proc.stdout
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


# --- loader refusals, end to end -------------------------------------------------------

# Each kind of broken plugin (tests/plugins/broken) -> the exact line the server prints.
REFUSALS = {
    "not_found": (["nosuch"], "plugin nosuch: not found in %s, %s" % (BROKEN, PLUGINS)),
    "not_a_shared_object": (["notelf"], "plugin %s/notelf.so: not a loadable shared object: "
                            "%s/notelf.so: invalid ELF header" % (BROKEN, BROKEN)),
    "unresolved_symbol": (["undefsym"], "plugin %s/undefsym.so: not a loadable shared object: "
                          "%s/undefsym.so: undefined symbol: lp_no_such_function"
                          % (BROKEN, BROKEN)),
    "no_descriptor_symbol": (["nosym"], "plugin %s/nosym.so: no 'lp_plugin' symbol (not a "
                             "linepool plugin?)" % BROKEN),
    "abi_mismatch": (["oldabi"], "plugin %s/oldabi.so: built for plugin ABI 0.0, this server "
                     "speaks 1.2 (rebuild it against this server's linepool.h)" % BROKEN),
    "no_message_hook": (["nomessage"], "plugin %s/nomessage.so: descriptor has no message hook"
                        % BROKEN),
    "no_name": (["noname"], "plugin %s/noname.so: descriptor name is missing or not made of "
                "[A-Za-z0-9._-]" % BROKEN),
    "load_hook_failure": (["failload:x=1"], "plugin failload: load failed: refusing on purpose "
                          "(args 'x=1')"),
    "duplicate_name": (["echo", "%s/impostor.so" % BROKEN], "plugin %s/impostor.so: a plugin "
                       "named 'echo' is already loaded from %s/echo.so" % (BROKEN, PLUGINS)),
    "bad_plugin_args": (["counter:bogus=1"], "plugin counter: unknown argument 'bogus' "
                        "(accepted: marker, reset, quiet)"),
    # ABI: another major, or a newer minor, names both versions
    "newer_minor": (["newminor"], "plugin %s/newminor.so: built for plugin ABI 1.3, this server "
                    "speaks 1.2 (it needs a newer server)" % BROKEN),
    "other_major": (["newmajor"], "plugin %s/newmajor.so: built for plugin ABI 2.0, this server "
                    "speaks 1.2 (rebuild it against this server's linepool.h)" % BROKEN),
    # declared arguments: parsed by the server before load, one line naming plugin and key
    "repeated_arg": (["counter:reset=1,reset=0"], "plugin counter: argument 'reset' given twice"),
    "bad_bool_arg": (["counter:quiet=2"], "plugin counter: quiet=2: expected a bool (1/0, "
                     "true/false, yes/no, on/off)"),
    "out_of_range_arg": (["rate-meter:interval=2h"], "plugin rate-meter: interval=2h: expected a "
                         "duration from 0 to 3600 s (e.g. 2, 0.5, 1500ms)"),
    "malformed_arg": (["rate-meter:show"], "plugin rate-meter: expected KEY=VALUE, got 'show'"),
    "args_to_echo": (["echo:x=1"], "plugin echo: unknown argument 'x' (accepted: none)"),
    # instances
    "empty_instance": (["counter@"], "plugin 'counter@': instance name must be 1-64 of "
                       "[A-Za-z0-9._-] after '@'"),
    "bad_instance": (["counter@a/b"], "plugin counter@a/b: No such file or directory"),
    "instance_twice": (["counter@a", "counter@a:reset=1"], "plugin counter: a plugin named "
                       "'counter@a' is already loaded from %s/counter.so" % PLUGINS),
}


def make_refusal_case(specs, want):
    def case():
        args = list(DIRS)
        for spec in specs:
            args += ["--plugin", spec]
        line = refused(*args + ["--listen", "127.0.0.1:0=echo"])
        assert line == "linepool-server: " + want, line
    return case


for _name, (_specs, _want) in REFUSALS.items():
    globals()["case_refuses_" + _name] = make_refusal_case(_specs, _want)


def case_refuses_world_writable_file_and_directory():
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.realpath(tmp)
        so = os.path.join(d, "echo.so")
        shutil.copy(os.path.join(PLUGINS, "echo.so"), so)
        with Server("--plugin", so, "--listen", "127.0.0.1:0=echo") as srv:
            assert srv.stop()[0] == 0  # the private copy loads
        os.chmod(so, 0o666)
        line = refused("--plugin", so, "--listen", "127.0.0.1:0=echo")
        assert line == "linepool-server: plugin %s: refusing to load: %s is world-writable" \
            % (so, so), line
        os.chmod(so, 0o644)
        os.chmod(d, 0o1777)  # the sticky bit is no excuse
        line = refused("--plugin-dir", d, "--listen", "127.0.0.1:0=echo")
        assert line == "linepool-server: --listen 127.0.0.1:0: plugin " \
            "%s: refusing to load: %s is world-writable" % (so, d), line
        os.chmod(d, 0o700)


def case_unknown_plugin_in_listen():
    line = refused("--plugin-dir", PLUGINS, "--listen", "127.0.0.1:0=echo,nosuch")
    assert line == "linepool-server: --listen 127.0.0.1:0: plugin " \
        "nosuch: not found in %s" % PLUGINS, line
    line = refused("--plugin-dir", PLUGINS, "--listen", "127.0.0.1:0=counter:reset=1")
    assert line == "linepool-server: --listen 127.0.0.1:0: " \
        "plugin counter:reset=1: arguments are given with --plugin NAME:ARGS", line


def case_refuses_bad_listener_names():
    for spec, want in [
            ("@127.0.0.1:0=echo", "--listen @127.0.0.1:0=echo: listener name must be 1-64 of "
             "[A-Za-z0-9._-] before '@'"),
            ("a b@127.0.0.1:0=echo", "--listen a b@127.0.0.1:0=echo: listener name must be 1-64 "
             "of [A-Za-z0-9._-] before '@'")]:
        line = refused("--listen", spec)
        assert line == "linepool-server: " + want, line
    line = refused("--listen", "x@127.0.0.1:0=echo", "--listen", "x@127.0.0.1:0=echo")
    assert line == ("linepool-server: --listen x@127.0.0.1:0=echo: listener name 'x' given "
                    "twice"), line


def case_abi_older_minor_loads():
    """v10.so was built against the first header, kept verbatim (.abi = 1): it loads on this
    minor-2 server and answers."""
    with Server(*DIRS, "--listen", "127.0.0.1:0=v10,echo") as srv:
        with connect(srv.port) as s:
            s.sendall(b"hi\n")
            assert recv_lines(s, 2) == [b"v10 hi", b"hi"]
        rc, err = srv.stop()
        assert rc == 0, err
        assert re.search(r"INFO  plugin v10 1\.0\.0 loaded from %s/v10\.so$" % re.escape(BROKEN),
                         err, re.M), err


def case_abi_minor_1_plugin_loads_on_minor_2():
    """v11.so was built against the minor-1 header, kept verbatim (its host table ends at
    timer_cancel): it loads on this minor-2 server, its declared argument is parsed and its
    minor-1 host calls work."""
    with Server(*DIRS, "--plugin", "v11:tag=old", "--listen", "here@127.0.0.1:0=v11") as srv:
        with connect(srv.port) as s:
            s.sendall(b"hi\nwhere\n")
            assert recv_lines(s, 2) == [b"old hi", b"listener here"]
        rc, err = srv.stop()
        assert re.search(r"INFO  plugin v11 1\.1\.0 loaded from %s/v11\.so$"
                         % re.escape(os.path.realpath(BROKEN)),
                         err, re.M), err


def case_instances_have_separate_state():
    """One file, two instances with their own arguments and totals; the listener names the
    instance."""
    with Server("--plugin", "counter@a:marker=END", "--plugin", "counter@b",
                "--listen", "127.0.0.1:0=counter@a", "--listen", "127.0.0.1:0=counter@b") as srv:
        with connect(srv.port_of("counter@a")) as s:
            s.sendall(b"x\nY\nEND\n")
            assert recv_lines(s, 1) == [b"count messages=2 bytes=4"]
        with connect(srv.port_of("counter@b")) as s:
            s.sendall(b"x\nEND\nY\n")
            assert recv_lines(s, 1) == [b"count messages=2 bytes=6"]
        wait_for(lambda: srv.stderr().count(" closed: messages=") == 2, 5 * SLOW, "close lines")
        rc, err = srv.stop()
        assert rc == 0, err
        totals = re.findall(r"counter: server totals: connections=(\d+) messages=(\d+) "
                            r"bytes=(\d+)$", err, re.M)
        assert sorted(totals) == [("1", "2", "4"), ("1", "2", "6")], err
        assert re.search(r"INFO  plugin counter@a 1\.0\.0 loaded from ", err, re.M), err


def case_listener_query_names_and_addresses():
    with Server(*DIRS, "--plugin", "where@a:tag=A", "--plugin", "where@b:tag=B",
                "--listen", "public@127.0.0.1:0=where@a", "--listen", "127.0.0.1:0=where@b",
                "--listen", "admin@127.0.0.1:0=where@a,echo") as srv:
        for (host, port, chain), want_name in zip(srv.listeners, ["public", None, "admin"]):
            with connect(port) as s:
                s.sendall(b"where\n")
                tag, name, addr = recv_lines(s, 1)[0].decode().split(" ")
            assert tag == ("B" if chain == "where@b" else "A"), (tag, chain)
            assert addr == "127.0.0.1:%d" % port, addr
            assert name == (want_name or addr), (name, want_name)
        assert srv.stop()[0] == 0


def case_not_mine_catch_all_once():
    """kv's catch-all answers only what no plugin of the chain handled, wherever kv sits."""
    with Server(*DIRS, "--listen", "127.0.0.1:0=kv,counter",
                "--listen", "127.0.0.1:0=counter,kv", "--listen", "127.0.0.1:0=rate-meter,kv",
                "--listen", "127.0.0.1:0=kv,echo") as srv:
        # kv first stops its own commands before counter counts them; counter first counts all
        for chain, count in (("kv,counter", b"messages=1 bytes=6"),
                             ("counter,kv", b"messages=3 bytes=20")):
            with connect(srv.port_of(chain)) as s:
                s.sendall(b"set a 1\nget a\nbogus\nY\nget b\n")
                assert recv_lines(s, 5) == [b"OK", b"1", b"ERR unknown command",
                                            b"count " + count, b"NOT_FOUND"], chain
        with connect(srv.port_of("rate-meter,kv")) as s:
            s.sendall(b"bogus\nget a\n")
            assert recv_lines(s, 2) == [b"ERR unknown command", b"1"]
        with connect(srv.port_of("kv,echo")) as s:  # echo handles everything: no error
            s.sendall(b"bogus\nget a\n")
            assert recv_lines(s, 2) == [b"bogus", b"1"]  # kv stopped its get
        assert srv.stop()[0] == 0


def case_crash_names_plugin_hook_and_connection():
    """A NULL write in a plugin's hook: one line naming plugin, hook and connection, then the
    server dies by SIGSEGV as before (exit status 139 from a shell)."""
    for extra, send, hook in [([], b"ok\ncrash\n", "message"),
                              (["--plugin", "crash@o:in_open=1"], None, "open")]:
        name = "crash@o" if extra else "crash"
        srv = Server(*DIRS, *extra, "--listen", "127.0.0.1:0=echo," + name)
        try:
            with connect(srv.port) as s:
                conn_id = 1
                if send:
                    s.sendall(send)
                rc = srv.proc.wait(timeout=10 * SLOW)
        finally:
            srv.kill()
        assert rc == -signal.SIGSEGV, rc
        err = srv.stderr()
        lines = [ln for ln in err.splitlines() if "fatal" in ln]
        assert lines == ["linepool-server: fatal SIGSEGV in plugin %s, hook %s, conn %d"
                         % (name, hook, conn_id)], err


def case_list_plugins():
    proc = subprocess.run([lptest.SERVER, "--list-plugins", "--plugin-dir", PLUGINS],
                          capture_output=True, timeout=10 * SLOW)
    assert proc.returncode == 0 and proc.stderr == b"", proc
    out = proc.stdout.decode()
    assert ("counter 1.0.0 - counts messages and bytes; 'Y' answers this connection's totals\n"
            "    %s/counter.so\n"
            "    marker=Y             the message that asks for this connection's totals; 1 to "
            "127 bytes without ',' or newline\n" % os.path.realpath(PLUGINS)) in out, out
    assert re.search(r"^    reset=0 +each answer counts only since the previous one; a bool ",
                     out, re.M), out
    assert "echo 1.0.0 - answers each message verbatim plus a newline\n" in out, out
    assert re.search(r"^    interval=1 +time between progress lines .*; a duration from 0 to "
                     r"3600 s", out, re.M), out
    assert [ln.split(" ")[0] for ln in out.splitlines() if not ln.startswith(" ")] == \
        ["counter", "echo", "rate-meter"], out
    # broken files are named on stderr, the good ones still listed; v10 (ABI 1.0) is good
    proc = subprocess.run([lptest.SERVER, "--list-plugins", "--plugin-dir", BROKEN],
                          capture_output=True, timeout=10 * SLOW)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 0, proc
    assert "v10 1.0.0 - built against ABI 1.0\n    %s/v10.so\n    (arguments not declared)\n" \
        % os.path.realpath(BROKEN) in out, out
    assert "kv 1.0.0 - test plugin: set/get with a chain-wide catch-all error" in out, out
    assert ("linepool-server: skipped: plugin %s/newmajor.so: built for plugin ABI 2.0, this "
            "server speaks 1.2" % BROKEN) in err, err
    assert "linepool-server: skipped: plugin %s/notelf.so: not a loadable" % BROKEN in err, err


def case_help_and_version_print_plugin_dirs():
    for opt in ("--help", "--version"):
        out = subprocess.run([lptest.SERVER, opt], capture_output=True, timeout=10 * SLOW,
                             check=True).stdout.decode()
        assert out.splitlines()[-1] == "Plugin directories: %s" % os.path.realpath(PLUGINS), out
        out = subprocess.run([lptest.SERVER, opt, "--plugin-dir", "/a", "--plugin-dir", "/b"],
                             capture_output=True, timeout=10 * SLOW, check=True).stdout.decode()
        assert out.splitlines()[-1] == "Plugin directories: /a /b", out
    assert out.splitlines()[0] == "linepool-server 0.1.0 (plugin ABI 1.2)", out


def case_small_fixes_in_the_log():
    """The real path of a plugin named through a symlink, no double space for a plugin
    without a version, 'finishing 1 connection', no counter totals when counter served
    nobody."""
    with tempfile.TemporaryDirectory() as tmp:
        link = os.path.join(tmp, "echo.so")
        os.symlink(os.path.join(PLUGINS, "echo.so"), link)
        with Server(*DIRS, "--plugin", link, "--listen", "127.0.0.1:0=echo,crash") as srv:
            with connect(srv.port) as s:
                s.sendall(b"hello\n")
                assert recv_lines(s, 1) == [b"hello"]
                rc, err = srv.stop()
        assert rc == 0, err
        assert re.search(r"INFO  plugin echo 1\.0\.0 loaded from %s/echo\.so$" % re.escape(
            os.path.realpath(PLUGINS)), err, re.M), err
        assert re.search(r"INFO  plugin crash loaded from %s/crash\.so$" % re.escape(
            os.path.realpath(BROKEN)), err, re.M), err
        assert "finishing 1 connection (deadline" in err, err
    with Server("--listen", "127.0.0.1:0=counter") as srv:
        rc, err = srv.stop()
    assert rc == 0, err
    assert "server totals" not in err, err
    assert "finishing 0 connections (deadline" in err, err


# --- arguments and chains ---------------------------------------------------------------

def case_plugin_args_reach_the_plugin():
    with Server("--plugin", "counter:marker=END,reset=1",
                "--listen", "127.0.0.1:0=counter") as srv:
        with connect(srv.port) as s:
            s.sendall(b"a\nY\nEND\nbb\nEND\n")
            assert recv_lines(s, 2) == [b"count messages=2 bytes=4", b"count messages=1 bytes=3"]
        assert srv.stop()[0] == 0


def case_plugin_by_path():
    path = os.path.join(PLUGINS, "echo.so")
    with Server("--plugin-dir", "/nonexistent", "--plugin", path,
                "--listen", "127.0.0.1:0=echo") as srv:
        with connect(srv.port) as s:
            s.sendall(b"by path\n")
            assert recv_lines(s, 1) == [b"by path"]
        assert srv.stop()[0] == 0


def case_chain_counter_then_echo():
    """counter counts and passes each message on to echo; Y is counter's command: it answers
    and stops it, so echo never sees it."""
    with Server("--listen", "127.0.0.1:0=counter,echo",
                "--listen", "127.0.0.1:0=echo,counter") as srv:
        with connect(srv.port_of("counter,echo")) as s:
            s.sendall(b"a\nbb\r\n\nY\n")
            assert recv_lines(s, 4) == [b"a", b"bb\r", b"", b"count messages=3 bytes=7"]
        with connect(srv.port_of("echo,counter")) as s:
            s.sendall(b"a\nY\n")
            assert recv_lines(s, 3) == [b"a", b"Y", b"count messages=1 bytes=2"]
        assert srv.stop()[0] == 0


def case_chain_rate_meter_passes_everything_on():
    with Server("--listen", "127.0.0.1:0=rate-meter,counter") as srv:
        with connect(srv.port) as s:
            s.sendall(b"x\nY\n")
            lines = recv_lines(s, 5)
            assert lines[0] == b"Processed 4 bytes in 1 chunk.", lines  # one read: singular
            assert lines[4] == b"count messages=1 bytes=2", lines
        assert srv.stop()[0] == 0


# --- counter ----------------------------------------------------------------------------

def case_counter_exact_under_threads_and_logs_totals():
    """20 clients stream to counter on 4 workers at once; each answer and the server totals
    logged at shutdown are exact."""
    clients, per = 20, 20000
    answers, ports = {}, {}

    def client(i):
        with connect(srv.port) as s:
            ports[i] = s.getsockname()[1]
            body = b"".join(b"m%d\n" % (k % 1000) for k in range(per))
            s.sendall(body + b"Y\n")
            answers[i] = (recv_lines(s, 1, timeout=30 * SLOW)[0], len(body))

    with Server("--threads", "4", "--listen", "127.0.0.1:0=counter") as srv:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60 * SLOW)
        assert len(answers) == clients, answers
        for line, nbytes in answers.values():
            assert line == b"count messages=%d bytes=%d" % (per, nbytes), line
        wait_for(lambda: srv.stderr().count(" closed: messages=") == clients, 10,
                 "close log lines")
        rc, err = srv.stop()
        assert rc == 0, err
        total = sum(n for _, n in answers.values())
        assert re.search(r" INFO  counter: server totals: connections=%d messages=%d bytes=%d$"
                         % (clients, clients * per, total), err, re.M), err
        for i, (_, nbytes) in answers.items():
            assert re.search(r" INFO  counter: conn \d+ 127\.0\.0\.1:%d closed: messages=%d "
                             r"bytes=%d$" % (ports[i], per, nbytes), err, re.M), err


# --- rate-meter: the tutorial's three programs -------------------------------------------

FIGURES = re.compile(rb"^Processed ([\d,]+) bytes in ([\d,]+) chunks?\.\n"
                     rb"Total time: (\d+\.\d{3}) seconds\.\n"
                     rb"Data rate: ([\d,]+) bytes/second\.\n"
                     rb"Message rate: ([\d,]+) messages/second\.\n$")


def figures(text):
    m = FIGURES.match(text)
    assert m, text
    num = [int(g.replace(b",", b"")) for g in (m.group(1), m.group(2), m.group(4), m.group(5))]
    nbytes, chunks, rate, mrate = num
    secs = float(m.group(3))
    assert re.match(rb"^\d{1,3}(,\d{3})*$", m.group(1)), m.group(1)  # thousands separators
    assert_rate(rate, nbytes, secs)
    return nbytes, chunks, secs, rate, mrate


def assert_rate(rate, count, secs):
    """rate = count / the exact time, which `secs` shows rounded to 3 decimals: the rate lies
    in what that interval allows (2% for the rate's own rounding). Short runs have a wide
    interval, not a skipped check."""
    shortest, longest = max(secs - 0.0005, 1e-9), secs + 0.0005
    assert count / longest * 0.98 - 1 <= rate <= count / shortest * 1.02 + 1, (rate, count, secs)


def case_tutorial_send_one_message():
    """The tutorial's first sender: 'Hello, World!' without a newline, then close."""
    with Server("--listen", "127.0.0.1:0=rate-meter") as srv:
        s = connect(srv.port)
        port = s.getsockname()[1]
        s.sendall(b"Hello, World!")
        s.close()
        wait_for(lambda: "Processed 13 bytes" in srv.stderr(), 5, "the close report")
        rc, err = srv.stop()
        assert rc == 0, err
        assert re.search(r' INFO  rate-meter: Data from 127\.0\.0\.1:%d "Hello, World!"$' % port,
                         err, re.M), err
        assert re.search(r" INFO  rate-meter: conn \d+ 127\.0\.0\.1:%d: Processed 13 bytes in 1 "
                         r"chunk\. Total time: \d+\.\d{3} seconds\. Data rate: [\d,]+ "
                         r"bytes/second\. Message rate: [\d,]+ messages/second\.$" % port,
                         err, re.M), err


def case_tutorial_large_message():
    """299,999 x 'X' + '\\n' in one send; the client half-closes and reads the figures."""
    with Server("--listen", "127.0.0.1:0=rate-meter") as srv:
        with connect(srv.port) as s:
            s.sendall(b"X" * 299999 + b"\n")
            s.shutdown(socket.SHUT_WR)
            nbytes, chunks, _, _, mrate = figures(recv_until_close(s))
        assert nbytes == 300000 and chunks >= 1 and mrate >= 1, (nbytes, chunks)
        rc, err = srv.stop()
        assert rc == 0, err
        assert re.search(r'Data from 127\.0\.0\.1:\d+ "X{60}\.\.\." \(299,999 bytes\)$', err,
                         re.M), err


def send_tutorial_stream(s, n=1000000):
    msg = b"X" * 49 + b"\n"
    s.sendall(msg * n + b"Y\n")


def case_tutorial_stream_with_Y():
    """1,000,000 messages of 50 bytes with TCP_NODELAY, then Y: the figures come back; a
    second stream on the same connection is measured afresh."""
    with Server("--listen", "127.0.0.1:0=rate-meter") as srv:
        with connect(srv.port, timeout=30 * SLOW) as s:
            send_tutorial_stream(s)
            answer = b"\n".join(recv_lines(s, 4, timeout=30 * SLOW)) + b"\n"
            nbytes, chunks, secs, rate, mrate = figures(answer)
            assert nbytes == 50000002, answer
            # a chunk is one read of at most the server's read buffer; the client's one big
            # sendall reaches the server in segments of tens of KiB, so reads average far
            # more than 1 KiB
            assert -(-nbytes // READ_BUFFER) <= chunks <= nbytes // 1024, answer
            assert_rate(mrate, 1000001, secs)
            send_tutorial_stream(s, 1000)
            second = b"\n".join(recv_lines(s, 4)) + b"\n"
            assert figures(second)[0] == 50002, second
        rc, err = srv.stop()
        assert rc == 0, err
        assert "Processed 50,000,002 bytes in %s chunks." % f"{chunks:,}" in err, err
        print("rate-meter: %s" % answer.decode().replace("\n", " "))


def case_rate_meter_progress_lines_every_second():
    with Server("--listen", "127.0.0.1:0=rate-meter") as srv:
        with connect(srv.port) as s:
            end = time.monotonic() + 2.3
            while time.monotonic() < end:
                s.sendall(b"x" * 9999 + b"\n")
                time.sleep(0.01)
            s.sendall(b"Y\n")
            recv_lines(s, 4)
        rc, err = srv.stop()
        assert rc == 0, err
        ticks = re.findall(r" INFO  rate-meter: conn \d+ \[ *(\d+\.\d\d)- *(\d+\.\d\d) s\] "
                           r"([\d,]+) bytes ([\d,]+) bytes/s$", err, re.M)
        assert len(ticks) == 2, err
        # the first tick is due at 1 s; a slow build (valgrind) may run its timer late
        assert ticks[0][0] == "0.00" and 1.0 <= float(ticks[0][1]) < 1.0 + 0.5 * SLOW, ticks
        assert ticks[1][0] == ticks[0][1], ticks


# --- the SDK: an out-of-tree plugin against the installed SDK ----------------------------

def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, timeout=120 * SLOW, **kw)
    assert proc.returncode == 0, "%s failed:\n%s\n%s" % (cmd, proc.stdout.decode(),
                                                         proc.stderr.decode())
    return proc.stdout.decode()


def greet_roundtrip(server, plugin_dirs):
    args = []
    for d in plugin_dirs:
        args += ["--plugin-dir", d]
    saved, lptest.SERVER = lptest.SERVER, server
    try:
        with Server(*args, "--plugin", "greet:hi", "--listen", "127.0.0.1:0=greet,counter") as srv:
            with connect(srv.port) as s:
                port = s.getsockname()[1]
                s.sendall(b"world\nY\n")
                assert recv_lines(s, 3) == [b"hi #1: world", b"hi #2: Y",
                                            b"count messages=1 bytes=6"]
            rc, err = srv.stop()
            assert rc == 0, err
            assert "greet: 127.0.0.1:%d greeted 2 times" % port in err, err
    finally:
        lptest.SERVER = saved


def walkthrough_commands():
    """The sh blocks of plugins/README.md's "Out of tree, step by step", in order."""
    with open(os.path.join(lptest.SOURCE, "plugins", "README.md")) as f:
        text = f.read()
    section = text.split("\n## Out of tree, step by step\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, re.M | re.S)
    assert len(blocks) >= 5, blocks
    return "\n".join(blocks)


def cmake_package_plugin_dir(tmp, prefix):
    """LINEPOOL_PLUGIN_DIR as find_package(linepool) reports it."""
    proj = os.path.join(tmp, "probe")
    os.mkdir(proj)
    with open(os.path.join(proj, "CMakeLists.txt"), "w") as f:
        f.write("cmake_minimum_required(VERSION 3.18)\nproject(p LANGUAGES C)\n"
                "find_package(linepool REQUIRED)\nmessage(STATUS \"DIR=${LINEPOOL_PLUGIN_DIR}\")\n")
    out = run(["cmake", "-S", proj, "-B", os.path.join(proj, "b"), "-DCMAKE_PREFIX_PATH=" + prefix])
    return re.search(r"^-- DIR=(.*)$", out, re.M).group(1)


def case_sdk_out_of_tree_plugin():
    """Runs the README's walkthrough exactly (install the SDK, copy the sample, build it with
    find_package(linepool), unit-test it through the fake host, install it, list it), then:
    the installed server finds P/lib/linepool/plugins by itself, never the build tree, and so
    does a moved copy; --version, pkg-config and the CMake package name the same folder; the
    same plugin and its unit test build with pkg-config alone."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "prefix")
        env = dict(os.environ, LINEPOOL_SRC=lptest.SOURCE, LINEPOOL_BUILD=lptest.BUILD,
                   PREFIX=prefix)
        out = run(["bash", "-euo", "pipefail", "-c", walkthrough_commands()], cwd=tmp, env=env)
        assert "100% tests passed" in out, out
        plugindir = os.path.join(prefix, "lib", "linepool", "plugins")
        assert "greet 1.0.0 - answers each message with a numbered greeting\n    %s/greet.so" \
            % plugindir in out, out

        server = os.path.join(prefix, "bin", "linepool-server")
        version = run([server, "--version"])
        assert version.splitlines()[-1] == "Plugin directories: " + plugindir, version
        assert lptest.BUILD not in run([server, "--help"]), "installed server mentions the build"
        pcdir = os.path.join(prefix, "lib", "pkgconfig")
        penv = dict(os.environ, PKG_CONFIG_PATH=pcdir)
        assert run(["pkg-config", "--variable=plugindir", "linepool"], env=penv).strip() == \
            plugindir
        assert cmake_package_plugin_dir(tmp, prefix) == plugindir
        greet_roundtrip(server, [])  # no --plugin-dir: its own folder

        # pkg-config alone: the plugin, and its unit test against the fake host
        pc_build = os.path.join(tmp, "pc")
        os.mkdir(pc_build)
        sample = os.path.join(lptest.SOURCE, "tests", "plugins", "sample")
        cc = os.environ.get("CC", "cc")
        cflags = run(["pkg-config", "--cflags", "linepool"], env=penv).split()
        assert cflags == ["-I" + os.path.join(prefix, "include")], cflags
        run([cc] + cflags + ["-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra",
                             "-Werror", "-o", os.path.join(pc_build, "greet.so"),
                             os.path.join(sample, "greet.c")])
        fake = run(["pkg-config", "--cflags", "--libs", "linepool-fake-host"], env=penv).split()
        test = os.path.join(pc_build, "test_greet")
        run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", test,
             os.path.join(sample, "test_greet.c"), os.path.join(sample, "greet.c")] + fake)
        assert run([test]).strip() == "test_greet: ok"
        # the installed args helper: strict C11, no feature macros, refuses a repeated key
        probe = os.path.join(pc_build, "args_probe.c")
        with open(probe, "w") as f:
            f.write('#include <linepool/args.h>\n#include <stdio.h>\n'
                    'struct o { uint64_t n; };\n'
                    'static const struct args_key keys[] = {{"n", args_set_uint, 0, 9}};\n'
                    'int main(void) { struct o o = {0}; char err[128];\n'
                    '  int a = args_parse("n=3", keys, 1, &o, err, sizeof err);\n'
                    '  unsigned long long n = o.n;\n'
                    '  int b = args_parse("n=1,n=2", keys, 1, &o, err, sizeof err);\n'
                    '  printf("%d %llu %d %s\\n", a, n, b, err);\n'
                    '  return 0; }\n')
        run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", probe[:-2], probe] + cflags)
        assert run([probe[:-2]]).strip() == "0 3 -22 n: given twice"
        greet_roundtrip(server, [pc_build, plugindir])

        # the tree moves: the server still finds its own plugins, greet included
        moved = os.path.join(tmp, "moved")
        os.rename(prefix, moved)
        server = os.path.join(moved, "bin", "linepool-server")
        assert run([server, "--version"]).splitlines()[-1] == "Plugin directories: " + \
            os.path.join(moved, "lib", "linepool", "plugins")
        greet_roundtrip(server, [])


if __name__ == "__main__":
    lptest.main(globals())
