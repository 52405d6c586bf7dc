#!/usr/bin/env python3
"""PROXY protocol listeners (--listen HOST:PORT+proxy=...) through the real server: v1 and
v2 headers name the client that plugins see as `peer` (the proxy is `via`), with the first
data in the same segment or the header cut into single bytes; LOCAL keeps the socket's
addresses; an untrusted peer, a malformed or absurdly long header, or one that does not come
within --proxy-timeout is closed with no reply, logged and never reaches a plugin; a PROXY
header sent to a listener without +proxy is just a message."""
import os
import re
import socket
import struct
import time

import lptest
from lptest import SLOW, Server, connect, read_to_end, recv_lines

WHOAMI = os.path.join(lptest.BUILD, "tests", "broken", "whoami.so")
SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy_server(*extra):
    return Server("--listen", "127.0.0.1:0+proxy=whoami,echo", "--plugin", WHOAMI, "-v", *extra)


def v2(cmd=0x21, fam=0x11, block=b"", tlvs=b"", length=None):
    body = block + tlvs
    return SIG + bytes([cmd, fam]) + struct.pack("!H", len(body) if length is None
                                                 else length) + body


def inet_block(src, dst, sport, dport):
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)


def assert_closed_unanswered(sock):
    data, how = read_to_end(sock)
    assert data == b"", "the server answered %r" % data
    return how


def wait_log(srv, pattern, what):
    lptest.wait_for(lambda: re.search(pattern, srv.stderr()), 5, what)


def case_v1_header_with_data_in_the_same_segment():
    with proxy_server() as srv:
        with connect(srv.port) as s:
            s.sendall(b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nwhoami\nhello\n")
            local = "127.0.0.1:%d" % s.getsockname()[1]
            assert recv_lines(s, 2) == [("192.0.2.1:56324 via %s" % local).encode(), b"hello"]
        wait_log(srv, r"whoami open 192\.0\.2\.1:56324", "the open hook's line")
        _, err = srv.stop()
    assert re.search(r"conn \d+ 192\.0\.2\.1:56324 via 127\.0\.0\.1:\d+: PROXY v1", err), err


def case_v2_header_with_tlvs_split_byte_by_byte():
    tlvs = b"\x01\x00\x02h2" + b"\x04\x00\x03\x00\x00\x00" + b"\x05\x00\x04abcd"
    header = v2(block=inet_block("203.0.113.9", "198.51.100.2", 5123, 7001), tlvs=tlvs)
    with proxy_server() as srv:
        with connect(srv.port) as s:
            for b in header:  # one segment per byte (TCP_NODELAY): the server reads pieces
                s.send(bytes([b]))
            s.sendall(b"whoami\r\n")
            line = recv_lines(s, 1)[0]
            assert line == ("203.0.113.9:5123 via 127.0.0.1:%d" % s.getsockname()[1]).encode()
        srv.stop()


def case_v2_inet6_and_v1_tcp6():
    block = socket.inet_pton(socket.AF_INET6, "2001:db8::1") + \
        socket.inet_pton(socket.AF_INET6, "2001:db8::2") + struct.pack("!HH", 5000, 7001)
    with proxy_server() as srv:
        with connect(srv.port) as s:
            s.sendall(v2(fam=0x21, block=block) + b"whoami\n")
            assert recv_lines(s, 1)[0].startswith(b"[2001:db8::1]:5000 via 127.0.0.1:")
        with connect(srv.port) as s:
            s.sendall(b"PROXY TCP6 2001:db8::7 2001:db8::2 6000 7001\r\nwhoami\n")
            assert recv_lines(s, 1)[0].startswith(b"[2001:db8::7]:6000 via 127.0.0.1:")
        srv.stop()


def case_local_and_unknown_keep_the_socket_address():
    """HAProxy's own checks come as v2 LOCAL; v1 UNKNOWN means the same."""
    with proxy_server() as srv:
        for header in (v2(cmd=0x20, fam=0x00), b"PROXY UNKNOWN\r\n"):
            with connect(srv.port) as s:
                s.sendall(header + b"whoami\n")
                me = "127.0.0.1:%d" % s.getsockname()[1]
                assert recv_lines(s, 1)[0] == ("%s via %s" % (me, me)).encode()
        srv.stop()


def case_no_proxy_listener_treats_a_header_as_a_message():
    with Server("--listen", "127.0.0.1:0=whoami,echo", "--plugin", WHOAMI) as srv:
        with connect(srv.port) as s:
            s.sendall(b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nwhoami\n")
            me = "127.0.0.1:%d" % s.getsockname()[1]
            assert recv_lines(s, 2) == [b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r",
                                        ("%s via -" % me).encode()]
        srv.stop()


def case_untrusted_peer_is_closed_unanswered():
    with proxy_server("--proxy-trusted", "10.0.0.0/8,fd00::/8") as srv:
        with connect(srv.port) as s:
            s.sendall(b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nwhoami\n")
            assert_closed_unanswered(s)
        wait_log(srv, r"peer 127\.0\.0\.1:\d+ is not in --proxy-trusted; closing unanswered",
                 "the refusal's log line")
        _, err = srv.stop()
    assert "whoami open" not in err, err
    with proxy_server("--proxy-trusted", "127.0.0.1") as srv:
        with connect(srv.port) as s:
            s.sendall(b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nwhoami\n")
            assert recv_lines(s, 1)[0].startswith(b"192.0.2.1:56324 via ")
        srv.stop()


def refused(header, why, *extra):
    """header is refused with no reply, the log names why, no plugin saw the connection."""
    with proxy_server(*extra) as srv:
        with connect(srv.port) as s:
            s.sendall(header)
            assert_closed_unanswered(s)
        wait_log(srv, r"PROXY header refused \(%s\)" % re.escape(why), "the log line")
        echo_ok = None
        with connect(srv.port) as s:  # the listener still serves
            s.sendall(b"PROXY UNKNOWN\r\nstill here\n")
            echo_ok = recv_lines(s, 1)[0]
        _, err = srv.stop()
    assert echo_ok == b"still here"
    assert len(re.findall(r"whoami open", err)) == 1, err  # only the good connection
    return err


def case_v2_absurd_length_is_refused():
    err = refused(v2(length=0xFFFF) + b"x" * 64, "v2 length over 2048 bytes")
    assert re.search(r'after \d+ bytes "\\x0d\\x0a\\x0d\\x0a\\x00', err), err


def case_malformed_headers_are_refused():
    refused(b"PROXY TCP4 192.0.2.1 198.51.100.2 1 2\nwhoami\n", "v1 line ended by a lone LF")
    refused(b"hello\n", "not a PROXY header")
    refused(b"PROXY UNKNOWN " + b"x" * 100 + b"\r\n", "v1 line without CRLF in 107 bytes")


def case_header_cut_short_is_refused():
    with proxy_server() as srv:
        with connect(srv.port) as s:
            s.sendall(b"PROXY TCP4 192.0")
            s.shutdown(socket.SHUT_WR)
            assert_closed_unanswered(s)
        wait_log(srv, r"PROXY header refused \(stream ended inside it\) after 16 bytes",
                 "the log line")
        srv.stop()


def case_header_not_in_time_is_closed():
    with proxy_server("--proxy-timeout", "300ms") as srv:
        with connect(srv.port) as s:
            start = time.monotonic()
            s.sendall(b"PROXY TCP4")
            assert_closed_unanswered(s)
            took = time.monotonic() - start
        assert 0.25 < took < 2 * SLOW, took
        wait_log(srv, r"PROXY header refused \(not complete within --proxy-timeout\) after 10 "
                 r'bytes "PROXY TCP4"', "the log line")
        _, err = srv.stop()
    assert "whoami open" not in err, err


def case_older_abi_plugins_load_beside_via():
    """The PROXY functions came with ABI 1.2: plugins built for 1.0 (where) and 1.1 (v11, built
    against the minor-1 header) still load and answer on a +proxy listener, in one chain with
    a 1.2 plugin (whoami)."""
    broken = os.path.dirname(WHOAMI)
    with Server("--plugin-dir", broken, "--plugin-dir", lptest.PLUGIN_DIR,
                "--listen", "lb@127.0.0.1:0+proxy=where,v11,whoami", "-v") as srv:
        with connect(srv.port) as s:
            s.sendall(b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nwhere\nwhoami\nx\n")
            lines = recv_lines(s, 4)
            me = s.getsockname()[1]
        assert lines == [b"- lb 127.0.0.1:%d" % srv.port, b"v11 whoami",
                         b"192.0.2.1:56324 via 127.0.0.1:%d" % me, b"v11 x"], lines
        _, err = srv.stop()
    for name, version in (("where", "1.0.0"), ("v11", "1.1.0"), ("whoami", "1.0.0")):
        assert re.search(r"plugin %s %s loaded from " % (name, version), err), err


def case_refusals_are_counted_by_reason_in_metrics():
    """One refusal of each kind; /metrics on the admin port counts each under its reason."""
    from test_admin import admin_port, scrape  # the admin tests' scraper and parser
    with proxy_server("--proxy-trusted", "127.0.0.1", "--proxy-timeout", "300ms",
                      "--admin", "127.0.0.1:0") as srv:
        with socket.socket() as s:  # untrusted: from 127.0.0.2
            s.bind(("127.0.0.2", 0))
            s.connect(("127.0.0.1", srv.port))
            s.sendall(b"PROXY UNKNOWN\r\nwhoami\n")
            assert_closed_unanswered(s)
        with connect(srv.port) as s:  # malformed
            s.sendall(v2(length=0xFFFF))
            assert_closed_unanswered(s)
        with connect(srv.port) as s:  # cut short
            s.sendall(b"PROXY TCP4 ")
            s.shutdown(socket.SHUT_WR)
            assert_closed_unanswered(s)
        with connect(srv.port) as s:  # late
            s.sendall(b"PROXY")
            assert_closed_unanswered(s)
        with connect(srv.port) as s:  # and one good one
            s.sendall(b"PROXY UNKNOWN\r\nok\n")
            assert recv_lines(s, 1) == [b"ok"]
        lptest.wait_for(lambda: scrape(admin_port(srv)).get(
            ("linepool_connections_closed_total", (("reason", "peer"),))) == 1, 5,
            "the good connection's close counted")
        m = scrape(admin_port(srv))
        srv.stop()
    def counted(family, reason):
        return m.get(("linepool_connections_%s_total" % family, (("reason", reason),)))
    assert counted("rejected", "proxy_untrusted") == 1, m
    assert counted("closed", "proxy_header") == 2, m
    assert counted("closed", "proxy_timeout") == 1, m


if __name__ == "__main__":
    lptest.main(globals())
