"""notifysock - a stand-in for systemd's end of the notify protocol (sd_notify(3)): an
AF_UNIX datagram socket, abstract ('@name') or a file path, that records every message with
its arrival time and the sender's pid (SO_PASSCRED), as systemd does to check NotifyAccess."""
import os
import socket
import struct
import tempfile
import threading
import time

from lptest import SLOW

SO_PASSCRED = 16
SCM_CREDENTIALS = 2


class NotifySocket:
    """.env: the NOTIFY_SOCKET to give the server; .messages: [(t, pid, {KEY: VALUE})]."""

    def __init__(self, abstract=True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_PASSCRED, 1)
        self.path = None
        if abstract:
            name = "lptest-notify-%d-%d" % (os.getpid(), id(self))
            self.sock.bind("\0" + name)
            self.env = "@" + name
        else:
            self.dir = tempfile.mkdtemp(prefix="lp-notify-")
            self.path = os.path.join(self.dir, "notify")
            self.sock.bind(self.path)
            self.env = self.path
        self.messages = []
        self.lock = threading.Lock()
        self.halt = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.05)
        while not self.halt:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except socket.timeout:
                continue
            except OSError:
                return
            pid = None
            for level, kind, blob in anc:
                if level == socket.SOL_SOCKET and kind == SCM_CREDENTIALS:
                    pid = struct.unpack("iII", blob[:12])[0]
            fields = dict(l.split("=", 1) for l in data.decode().split("\n") if "=" in l)
            with self.lock:
                self.messages.append((time.monotonic(), pid, fields))

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def with_key(self, key, value=None):
        return [m for m in self.snapshot() if key in m[2] and (value is None or m[2][key] == value)]

    def wait(self, key, value=None, count=1, timeout=5):
        """Waits until `count` messages carry KEY (=VALUE); returns them."""
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            got = self.with_key(key, value)
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise AssertionError("no %d messages with %s%s within %.1f s; got %r"
                             % (count, key, "=" + value if value else "", timeout * SLOW,
                                self.snapshot()))

    def close(self):
        self.halt = True
        self.thread.join(2)
        self.sock.close()
        if self.path:
            os.unlink(self.path)
            os.rmdir(self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
