#!/usr/bin/env python3
"""The Debian package: `cpack -G DEB` in the build folder makes a .deb with the server, the
client, the bundled plugins, the SDK, the systemd units of server/packaging (the service's
ExecStart naming /usr/bin/linepool-server) and both man pages; unpacked into a fresh root
(dpkg-deb -x), its server runs with its own plugins (found relative to itself), and the
sample plugin builds against its SDK both with find_package and with pkg-config, passes its
unit test through the installed fake host, and loads."""
import glob
import os
import re
import subprocess
import tempfile

import lptest
from lptest import Server, connect, recv_lines

SAMPLE = os.path.join(lptest.SOURCE, "tests", "plugins", "sample")


def run(cmd, timeout=120, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                       **kw)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, "%s failed (%d):\n%s" % (" ".join(cmd), p.returncode, out[-4000:])
    return out


def build_package(tmp):
    out = run(["cpack", "-G", "DEB", "-B", os.path.join(tmp, "deb")], cwd=lptest.BUILD)
    debs = glob.glob(os.path.join(tmp, "deb", "linepool_*.deb"))
    assert len(debs) == 1, out
    return debs[0]


def expected_files():
    files = ["usr/bin/linepool-server", "usr/bin/linepool-client",
             "usr/lib/linepool/plugins/echo.so", "usr/lib/linepool/plugins/counter.so",
             "usr/lib/linepool/plugins/rate-meter.so", "usr/include/linepool.h",
             "usr/include/linepool/args.h", "usr/include/linepool/fake_host.h",
             "usr/lib/liblinepool_fake_host.a", "usr/lib/pkgconfig/linepool.pc",
             "usr/lib/pkgconfig/linepool-fake-host.pc", "usr/lib/cmake/linepool/linepoolConfig.cmake",
             "usr/share/man/man1/linepool-server.1", "usr/share/man/man1/linepool-client.1"]
    units = glob.glob(os.path.join(lptest.SOURCE, "server", "packaging", "*.service")) + \
        glob.glob(os.path.join(lptest.SOURCE, "server", "packaging", "*.socket"))
    return files + ["usr/lib/systemd/system/" + os.path.basename(u) for u in units]


def roundtrip(server, args, lines, want):
    saved, lptest.SERVER = lptest.SERVER, server
    try:
        with Server(*args) as srv:
            with connect(srv.port) as s:
                s.sendall(lines)
                assert recv_lines(s, len(want)) == want
            _, err = srv.stop()
        return err
    finally:
        lptest.SERVER = saved


def build_with_cmake(tmp, usr):
    build = os.path.join(tmp, "greet-cmake")
    run(["cmake", "-S", SAMPLE, "-B", build, "-DCMAKE_PREFIX_PATH=" + usr])
    run(["cmake", "--build", build])
    assert "100% tests passed" in run(["ctest", "--test-dir", build])
    run(["cmake", "--install", build])  # into the unpacked root's plugin folder


def build_with_pkg_config(tmp, root):
    env = dict(os.environ, PKG_CONFIG_SYSROOT_DIR=root,
               PKG_CONFIG_LIBDIR=os.path.join(root, "usr", "lib", "pkgconfig"))
    plugindir = run(["pkg-config", "--variable=plugindir", "linepool"], env=env).strip()
    assert plugindir == os.path.join(root, "usr", "lib", "linepool", "plugins"), plugindir
    cflags = run(["pkg-config", "--cflags", "linepool"], env=env).split()
    assert cflags == ["-I" + os.path.join(root, "usr", "include")], cflags
    out = os.path.join(tmp, "pc")
    os.mkdir(out)
    so = os.path.join(out, "greet.so")
    cc = os.environ.get("CC", "cc")
    run([cc] + cflags + ["-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror",
                         "-o", so, os.path.join(SAMPLE, "greet.c")])
    return so


def case_deb_installs_and_runs():
    with tempfile.TemporaryDirectory() as tmp:
        deb = build_package(tmp)
        info = run(["dpkg-deb", "-I", deb])
        assert re.search(r"^ Package: linepool$", info, re.M), info
        assert re.search(r"^ Depends: .*libc6", info, re.M), info
        listing = run(["dpkg-deb", "-c", deb])
        for f in expected_files():
            assert " ./%s\n" % f in listing, "%s missing from the package:\n%s" % (f, listing)

        root = os.path.join(tmp, "root")
        run(["dpkg-deb", "-x", deb, root])
        usr = os.path.join(root, "usr")
        for prog, word in (("linepool-server", "--listen"), ("linepool-client", "bench")):
            page = open(os.path.join(usr, "share", "man", "man1", prog + ".1")).read()
            assert page.startswith(".TH %s 1" % prog.upper()) and word in page, page[:300]
            assert lptest.BUILD not in page and os.path.abspath(lptest.BUILD) not in page

        for unit in glob.glob(os.path.join(usr, "lib", "systemd", "system", "*")):
            text = open(unit).read()
            assert "@CMAKE" not in text and lptest.BUILD not in text, (unit, text)
            execs = re.findall(r"^ExecStart=(\S+)", text, re.M)
            assert all(e == "/usr/bin/linepool-server" for e in execs), (unit, execs)

        server = os.path.join(usr, "bin", "linepool-server")
        plugins = os.path.join(usr, "lib", "linepool", "plugins")
        err = roundtrip(server, ["--listen", "127.0.0.1:0=echo,counter"], b"hello\nY\n",
                        [b"hello", b"Y", b"count messages=1 bytes=6"])
        assert "plugin echo 1.0.0 loaded from %s/echo.so" % plugins in err, err

        build_with_cmake(tmp, usr)  # greet.so now in the package's plugin folder
        err = roundtrip(server, ["--plugin", "greet:hi", "--listen", "127.0.0.1:0=greet"],
                        b"world\n", [b"hi #1: world"])
        assert "plugin greet 1.0.0 loaded from %s/greet.so" % plugins in err, err

        so = build_with_pkg_config(tmp, root)
        err = roundtrip(server, ["--plugin", so + ":yo", "--listen", "127.0.0.1:0=greet"],
                        b"there\n", [b"yo #1: there"])
        assert "loaded from %s" % so in err, err


if __name__ == "__main__":
    lptest.main(globals())
