"""test_serve_hostile.py - `sockit serve` against clients that mean harm:
a chat member flooding a room of 1000, chat lines carrying CR and
terminal escapes, qotd given a FIFO, a directory, a device or a binary
file.

Every server listens on 127.0.0.1:0 and the port it prints is read back;
every subprocess and socket has a timeout.
"""
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from bridgetest import TIMEOUT
from clitest import SOCKIT
from servetest import Serve, ask, connect, raise_fd_limit, recv_until, udp_ask


class Room:
    """members sockets in one chat room, all read by one thread: every
    byte is read (nobody is cut off as a slow reader), and the lines of
    the observers are searched for probes "probe <monotonic ns>", whose
    delivery latencies are kept. One python thread reads 1000 sockets:
    epoll and recv_into keep its cost per wake-up small."""

    def __init__(self, port, members, observers):
        self.socks = [self._member(port) for _ in range(members)]
        self.observers = {s.fileno(): s for s in self.socks[1:1 + observers]}
        self.latencies = []  # seconds
        self.tails = {fd: b"" for fd in self.observers}
        self.text = {fd: b"" for fd in self.observers}
        self.stop = threading.Event()
        self.ep = select.epoll()
        self.by_fd = {}
        for s in self.socks:
            s.setblocking(False)
            self.by_fd[s.fileno()] = s
            self.ep.register(s.fileno(), select.EPOLLIN)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    @staticmethod
    def _member(port):
        """A member with room for a backlog of small segments: when the
        reader falls behind (1000 sockets, one python thread, a loaded
        host), a default receive buffer fills with them, the kernel drops
        the next, and each drop costs a 200 ms retransmission: latency of
        the test's own making."""
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.settimeout(TIMEOUT)
        s.connect(("127.0.0.1", port))
        return s

    def _read(self):
        sink = bytearray(1 << 16)  # what the others get: read, not kept
        while not self.stop.is_set():
            for fd, _ in self.ep.poll(0.1):
                s = self.by_fd[fd]
                try:
                    if fd in self.observers:
                        data = s.recv(1 << 16)
                        n = len(data)
                    else:
                        n = s.recv_into(sink)
                except BlockingIOError:
                    continue
                except OSError:
                    n = 0
                if n == 0:
                    self.ep.unregister(fd)
                elif fd in self.observers:
                    self._observe(fd, data)

    def _observe(self, fd, data):
        now = time.monotonic_ns()
        lines = (self.tails[fd] + data).split(b"\n")
        self.tails[fd] = lines.pop()
        for line in lines:
            i = line.find(b"> probe ")
            if i >= 0:
                self.latencies.append((now - int(line[i + 8:])) / 1e9)
            elif line.startswith(b"* "):
                self.text[fd] += line + b"\n"

    def close(self):
        self.stop.set()
        self.reader.join(TIMEOUT)
        self.ep.close()
        for s in self.socks:
            s.close()


def p99(values):
    v = sorted(values)
    return v[min(len(v) - 1, (99 * len(v) + 99) // 100 - 1)]


# The flooder: its own process (a thread would share the test's GIL with
# the reader), the room's first member; it floods from "go" on, as fast
# as TCP lets it, for at most argv[2] seconds, and never reads.
FLOODER = r"""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.2)
print("in", flush=True)
sys.stdin.readline()
chunk, sent = b"flood flood flood\n" * 4096, 0
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    try:
        sent += s.send(chunk)
    except socket.timeout:
        pass  # held back by TCP: the point
    except OSError:
        break  # cut off: it never reads what the room says
print(sent, flush=True)
"""


class ChatFlood(unittest.TestCase):
    MEMBERS, OBSERVERS, PROBES = 1000, 100, 30

    def test_flooder_slows_only_itself(self):
        """One member of 1000 sends as fast as TCP lets it; the others'
        lines still reach the room at once. Before per-member pacing the
        broker read the flood 64 KiB at a time and wrote each of its
        lines to all 999 others before reading anyone else: no probe got
        through for many seconds."""
        raise_fd_limit()
        with Serve("chat", "--max-per-ip", "2000") as srv:
            fl = subprocess.Popen([sys.executable, "-c", FLOODER,
                                   str(srv.port), "30"],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
            try:
                self.assertEqual(fl.stdout.readline(), b"in\n")
                self.flood(srv, fl)
            finally:
                fl.kill()
                fl.wait(TIMEOUT)
                fl.stdin.close()
                fl.stdout.close()

    def flood(self, srv, fl):
        room = Room(srv.port, self.MEMBERS - 1, self.OBSERVERS)
        try:
            # Everyone is in once every observer has seen the last join.
            t0 = time.monotonic()
            last = b"* user%d joined\n" % self.MEMBERS
            while not all(last in t for t in list(room.text.values())):
                self.assertLess(time.monotonic() - t0, 120, "joins")
                time.sleep(0.05)
            joined = time.monotonic() - t0
            fl.stdin.write(b"go\n")
            fl.stdin.flush()
            time.sleep(0.5)  # the flood is on
            talkers = room.socks[-10:]
            for i in range(self.PROBES):
                s = talkers[i % len(talkers)]
                s.setblocking(True)
                s.sendall(b"probe %d\n" % time.monotonic_ns())
                time.sleep(0.2)
            want = self.PROBES * self.OBSERVERS
            deadline = time.monotonic() + TIMEOUT
            while len(room.latencies) < want and time.monotonic() < deadline:
                time.sleep(0.05)
            lat = sorted(room.latencies)
        finally:
            room.close()
        srv.stop()
        got = len(lat)
        print("\nchat flood: %d members (all in after %.1f s); %d of %d probe "
              "deliveries, p50 %s ms, p99 %s ms"
              % (self.MEMBERS, joined, got, want,
                 "%.1f" % (lat[got // 2] * 1e3) if lat else "-",
                 "%.1f" % (p99(lat) * 1e3) if lat else "-"))
        self.assertEqual(got, want, "probes lost or late")
        # The target is 50 ms; the bound is generous (one python thread
        # reads 1000 sockets, hosts are loaded, builds sanitized) and
        # still far under the seconds a flood cost before.
        self.assertLess(p99(lat), 1.0, "p99 delivery %.3f s" % p99(lat))


class ChatControlBytes(unittest.TestCase):
    def test_cr_and_escapes_arrive_neutralised(self):
        with Serve("chat") as srv:
            a, b = connect(srv.port), connect(srv.port)
            recv_until(a, b"joined\n")
            recv_until(b, b"/quit\n")
            # A forged server line after a CR, an OSC retitling the
            # terminal, a CSI in its C1 form (UTF-8), a byte that is not
            # UTF-8; a tab and UTF-8 text pass as they are.
            a.sendall(b"hi\r* admin: you are banned\x1b]0;owned\x07 "
                      b"\xc2\x9b2J \xff tab\there caf\xc3\xa9\x7f\r\n")
            got = recv_until(b, b"\n")
            self.assertEqual(
                got, b"<user1> hi^M* admin: you are banned^[]0;owned^G "
                b"M-^[2J M-^? tab\there caf\xc3\xa9^?\n")
            a.close()
            b.close()
            srv.stop()


class QotdFiles(unittest.TestCase):
    def serve(self, path, timeout=TIMEOUT):
        p = subprocess.run([SOCKIT, "serve", "qotd", "--file", path,
                            "--listen", "127.0.0.1:0"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
        return p.returncode, p.stderr.decode()

    def test_fifo_is_refused_without_blocking(self):
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "quotes")
            os.mkfifo(fifo)
            t0 = time.monotonic()
            rc, err = self.serve(fifo)
            self.assertLess(time.monotonic() - t0, TIMEOUT)
            self.assertEqual(rc, 1, err)
            self.assertEqual(err, "sockit: serve: %s: not a regular file "
                             "(a FIFO)\n" % fifo)

    def test_directory_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            rc, err = self.serve(d)
            self.assertEqual(rc, 1, err)
            self.assertEqual(err, "sockit: serve: %s: not a regular file "
                             "(a directory)\n" % d)

    def test_device_is_refused(self):
        rc, err = self.serve("/dev/zero")
        self.assertEqual(rc, 1, err)
        self.assertEqual(err, "sockit: serve: /dev/zero: not a regular file "
                         "(a character device)\n")

    def test_binary_file_is_refused_naming_the_line(self):
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(b"a fine quote\n%\nline two\n\x7fELF\x02\x01\x00\n%\n")
            f.flush()
            rc, err = self.serve(f.name)
            self.assertEqual(rc, 1, err)
            self.assertEqual(err, "sockit: serve: %s: line 4: not printable "
                             "ASCII text (RFC 865)\n" % f.name)

    def test_escape_sequence_or_bare_cr_in_a_quote_is_refused(self):
        for bad in (b"not \x1b[2J fine", b"forged\rline", b"caf\xc3\xa9"):
            with self.subTest(bad=bad), \
                 tempfile.NamedTemporaryFile(suffix=".txt") as f:
                f.write(b"fine\r\n" + bad + b"\n")
                f.flush()
                rc, err = self.serve(f.name)
                self.assertEqual(rc, 1, err)
                self.assertIn(": line 2: not printable ASCII text", err)

    def test_missing_file_is_a_clear_error(self):
        rc, err = self.serve("/nonexistent/quotes")
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"^sockit: serve: /nonexistent/quotes: "
                         r"no such file or directory\n$")

    def test_printable_file_with_tabs_and_crlf_is_served(self):
        with tempfile.NamedTemporaryFile(suffix=".txt") as f:
            f.write(b"one\ttab\r\n%\r\ntwo ~ quote\r\n")
            f.flush()
            with Serve("qotd", "--udp", "--tcp", "--workers", "1",
                       "--file", f.name) as srv:
                got = {ask(srv.tcp), ask(srv.tcp)}
                # The tab is served as spaces, to the next multiple of 8.
                want = {b"one     tab\r\n", b"two ~ quote\r\n"}
                self.assertEqual(got, want)
                self.assertIn(udp_ask(srv.udp, b"?"), want)
                self.assertEqual(srv.stop()[0], 0)


if __name__ == "__main__":
    unittest.main()
