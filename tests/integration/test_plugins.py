"""Integration tests of the plugin SDK through the real linepool-server: loader refusals end
to end, --plugin NAME:ARGS, chains, counter and rate-meter (the tutorial's three programs
reproduced in Python), and an out-of-tree plugin built against the installed SDK."""
import os
import re
import shutil
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
    assert proc.returncode > 0, "expected a non-zero exit, not a signal: %r" % (proc,)
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
    "abi_mismatch": (["oldabi"], "plugin %s/oldabi.so: ABI version 0, this server speaks 1 "
                     "(rebuild it against linepool.h)" % BROKEN),
    "no_message_hook": (["nomessage"], "plugin %s/nomessage.so: descriptor has no message hook"
                        % BROKEN),
    "no_name": (["noname"], "plugin %s/noname.so: descriptor name is missing or not made of "
                "[A-Za-z0-9._-]" % BROKEN),
    "load_hook_failure": (["failload:x=1"], "plugin failload: load failed: refusing on purpose "
                          "(args 'x=1')"),
    "duplicate_name": (["echo", "%s/impostor.so" % BROKEN], "plugin %s/impostor.so: a plugin "
                       "named 'echo' is already loaded from %s/echo.so" % (BROKEN, PLUGINS)),
    "bad_plugin_args": (["counter:bogus=1"], "plugin counter: load failed: unknown key 'bogus' "
                        "(known: marker, reset, quiet)"),
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
        assert line == "linepool-server: --listen 127.0.0.1:0: unknown plugin 'echo': plugin " \
            "%s: refusing to load: %s is world-writable" % (so, d), line
        os.chmod(d, 0o700)


def case_unknown_plugin_in_listen():
    line = refused("--plugin-dir", PLUGINS, "--listen", "127.0.0.1:0=echo,nosuch")
    assert line == "linepool-server: --listen 127.0.0.1:0: unknown plugin 'nosuch': plugin " \
        "nosuch: not found in %s" % PLUGINS, line
    line = refused("--plugin-dir", PLUGINS, "--listen", "127.0.0.1:0=counter:reset=1")
    assert line == "linepool-server: --listen 127.0.0.1:0: unknown plugin 'counter:reset=1': " \
        "plugin counter:reset=1: arguments are given with --plugin NAME:ARGS", line


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
            assert lines[0] == b"Processed 4 bytes in 1 chunks." or \
                lines[0].startswith(b"Processed 4 bytes in "), lines
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

FIGURES = re.compile(rb"^Processed ([\d,]+) bytes in ([\d,]+) chunks\.\n"
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
                         r"chunks\. Total time: \d+\.\d{3} seconds\. Data rate: [\d,]+ "
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
        assert ticks[0][0] == "0.00" and 1.0 <= float(ticks[0][1]) < 1.5, ticks
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


def case_sdk_out_of_tree_plugin():
    """cmake --install into a temporary prefix; build tests/plugins/sample with
    find_package(linepool) and, separately, with pkg-config; load both into the installed
    server next to the installed counter."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "prefix")
        run(["cmake", "--install", lptest.BUILD, "--prefix", prefix])
        server = os.path.join(prefix, "bin", "linepool-server")
        pcs = [os.path.join(r, f) for r, _, fs in os.walk(prefix) for f in fs
               if f == "linepool.pc"]
        assert len(pcs) == 1, pcs
        assert os.path.isfile(os.path.join(prefix, "include", "linepool.h"))

        build = os.path.join(tmp, "build")
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        run(["cmake", "-S", os.path.join(lptest.SOURCE, "tests", "plugins", "sample"), "-B",
             build, "-DCMAKE_PREFIX_PATH=" + prefix] + gen)
        run(["cmake", "--build", build])

        env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]))
        cflags = run(["pkg-config", "--cflags", "linepool"], env=env).split()
        plugindir = run(["pkg-config", "--variable=plugindir", "linepool"], env=env).strip()
        assert cflags == ["-I" + os.path.join(prefix, "include")], cflags
        assert os.path.isfile(os.path.join(plugindir, "counter.so")), plugindir
        pc_build = os.path.join(tmp, "pc")
        os.mkdir(pc_build)
        run([os.environ.get("CC", "cc")] + cflags + [
            "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror", "-o",
            os.path.join(pc_build, "greet.so"),
            os.path.join(lptest.SOURCE, "tests", "plugins", "sample", "greet.c")])

        greet_roundtrip(server, [build, plugindir])
        greet_roundtrip(server, [pc_build, plugindir])


if __name__ == "__main__":
    lptest.main(globals())
