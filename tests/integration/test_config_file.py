"""Integration tests of --config FILE and --check-config through the real linepool-server:
directives named like the long options, the command line over the file (a list given there
replaces the file's), and one line naming FILE:LINE with exit status 2 for each bad file."""
import atexit
import os
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import lptest  # noqa: E402
from lptest import Server, connect, recv_lines, recv_until_close  # noqa: E402


def config_file(text):
    """A config file holding text; removed at exit."""
    f = tempfile.NamedTemporaryFile("w", prefix="lp-config-", suffix=".conf", delete=False)
    f.write(text)
    f.close()
    atexit.register(os.unlink, f.name)
    return f.name


def refused(*args):
    """Runs a server that must refuse to start; returns its one stderr line."""
    proc = lptest.run_server(*args)
    assert proc.returncode == 2, "expected exit status 2: %r" % (proc,)
    assert proc.stdout == b"", proc.stdout
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def case_directives_configure_the_server():
    """listen, plugin with arguments and max-line from the file; comments, blank lines,
    indentation and CRLF line ends are fine."""
    path = config_file("# linepool test\n"
                       "\n"
                       "  listen 127.0.0.1:0=counter\r\n"
                       "plugin counter:marker=END\n"
                       "\t# an indented comment\n"
                       "max-line 1K\n"
                       "quiet")
    with Server("--config", path, expect_listeners=1) as srv:
        with connect(srv.port) as s:
            s.sendall(b"a\nbb\nEND\n")
            assert recv_lines(s, 1) == [b"count messages=2 bytes=5"]
            s.sendall(b"x" * 1025 + b"\n")
            assert recv_until_close(s) == b"ERR line too long (max 1024 bytes)\n"
        rc, err = srv.stop()
        assert err.strip() == "", err  # quiet: no info lines


def case_command_line_overrides_the_file():
    """A value on the command line wins over the file's; a --listen list on the command
    line replaces the file's listeners instead of adding to them."""
    path = config_file("listen 127.0.0.1:0=echo\n"
                       "listen 127.0.0.1:0=echo,echo\n"
                       "max-line 16\n")
    with Server("--config", path, "--listen", "127.0.0.1:0=counter", "--max-line", "1K") as srv:
        assert [p for _, _, p in srv.listeners] == ["counter"], srv.listeners
        with connect(srv.port) as s:
            s.sendall(b"y" * 100 + b"\nY\n")
            assert recv_lines(s, 1) == [b"count messages=1 bytes=101"]
        srv.stop()
    with Server("--max-line", "1K", "--config", path, expect_listeners=2) as srv:
        assert [p for _, _, p in srv.listeners] == ["echo", "echo,echo"], srv.listeners
        with connect(srv.port) as s:
            s.sendall(b"z" * 100 + b"\n")
            assert recv_lines(s, 1) == [b"z" * 100]
        srv.stop()


def case_unknown_directive_names_file_and_line():
    path = config_file("# ok\nlisten 127.0.0.1:0=echo\nmax-lines 1M\n")
    assert refused("--config", path) == \
        "linepool-server: %s:3: unknown directive 'max-lines'" % path
    path = config_file("help\n")
    assert refused("--config", path) == \
        "linepool-server: %s:1: unknown directive 'help' (command line only)" % path


def case_bad_value_names_file_and_line():
    path = config_file("listen 127.0.0.1:0=echo\n\nmax-line 0\n")
    assert refused("--config", path) == ("linepool-server: %s:3: max-line 0: expected a size "
                                         "of at least 1 bytes (suffixes K, M, G, T)" % path)
    path = config_file("listen\n")
    assert refused("--config", path) == "linepool-server: %s:1: 'listen' needs a value" % path


def case_duplicate_listener_names_file_and_line():
    path = config_file("listen 127.0.0.1:7070=echo\nlisten a@127.0.0.1:0=echo\n"
                       "listen 127.0.0.1:7070=counter\n")
    assert refused("--config", path) == ("linepool-server: %s:3: listen 127.0.0.1:7070=counter: "
                                         "listener 127.0.0.1:7070 given twice" % path)
    path = config_file("listen a@127.0.0.1:0=echo\nlisten a@127.0.0.1:0=counter\n")
    assert refused("--config", path) == ("linepool-server: %s:2: listen a@127.0.0.1:0=counter: "
                                         "listener name 'a' given twice" % path)


def case_missing_file_is_one_line():
    path = os.path.join(tempfile.gettempdir(), "lp-no-such-config-%d.conf" % os.getpid())
    assert refused("--config", path) == \
        "linepool-server: %s: No such file or directory" % path


def case_directory_is_one_line():
    with tempfile.TemporaryDirectory(prefix="lp-config-dir-") as d:
        assert refused("--config", d) == "linepool-server: %s: Is a directory" % d


def case_check_config_validates_without_binding():
    """--check-config loads the plugins and checks their arguments but binds nothing: a
    port this test holds does not stop it; a refused plugin argument is exit 2."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        path = config_file("listen 127.0.0.1:%d=counter,echo\nplugin counter:marker=END\n" % port)
        proc = lptest.run_server("--config", path, "--check-config")
        assert proc.returncode == 0, proc
        assert proc.stdout.decode() == "linepool-server: configuration ok: %s\n" % path, proc
    path = config_file("listen 127.0.0.1:0=counter\nplugin counter:marker=END,bogus=1\n")
    line = refused("--config", path, "--check-config")
    assert line.startswith("linepool-server: plugin counter: unknown argument 'bogus'"), line
    path = config_file("listen 127.0.0.1:0=nosuchplugin\n")
    line = refused("--config", path, "--check-config")
    assert "nosuchplugin" in line, line


if __name__ == "__main__":
    lptest.main(globals())
