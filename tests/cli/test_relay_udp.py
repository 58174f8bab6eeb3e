"""test_relay_udp.py - `sockit relay udp:LISTEN udp:TARGET` between python
UDP sockets: sessions of several clients kept apart, the session table
full, the idle timeout closing a session's upstream socket, the UDP
toxics measured (loss rate and its reproducibility from --seed,
toxicity 0, duplicate, truncate, delay), usage errors, and no fd left
behind.

Every relay listens on 127.0.0.1:0 and the port it prints is read back;
every socket has a timeout.
"""
import json
import os
import re
import signal
import socket
import threading
import time
import unittest

from clitest import SOCKIT, run
from json_schema import check
from test_relay import Relay

LISTEN = "udp:127.0.0.1:0"


class Echo(threading.Thread):
    """A UDP server on loopback: answers each datagram with b"echo:" and
    the datagram (or not, with echo False); records what it got, with
    the time and the sender's address."""

    def __init__(self, echo=True):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.echo = echo
        self.got = []  # (monotonic time, data, source address)
        self.running = True
        self.start()

    def run(self):
        while self.running:
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            self.got.append((time.monotonic(), data, addr))
            if self.echo:
                self.sock.sendto(b"echo:" + data, addr)

    def wait_count(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(self.got)

    def settle(self, quiet=0.3, timeout=20):
        """Wait until nothing has arrived for quiet seconds."""
        deadline = time.monotonic() + timeout
        last = -1
        while time.monotonic() < deadline:
            n = len(self.got)
            if n == last:
                return n
            last = n
            time.sleep(quiet)
        return len(self.got)

    def close(self):
        self.running = False
        self.join(5)
        self.sock.close()


def client():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2)
    return s


def recv_or_none(s, timeout=0.5):
    s.settimeout(timeout)
    try:
        return s.recv(65536)
    except socket.timeout:
        return None


class UdpRelayTest(unittest.TestCase):
    def setUp(self):
        self.echo = Echo()
        self.addCleanup(self.echo.close)

    def relay(self, *args, target=None):
        r = Relay(target or "udp:127.0.0.1:%d" % self.echo.port,
                  args=args, listen=LISTEN)
        self.addCleanup(lambda: r.p.poll() is None and r.stop())
        return r

    def test_three_clients_kept_apart(self):
        r = self.relay("-v")
        base = r.fds()
        cs = [client() for _ in range(3)]
        for round_ in range(5):
            for i, c in enumerate(cs):
                c.sendto(b"c%d-%d" % (i, round_), ("127.0.0.1", r.port))
            for i, c in enumerate(cs):
                self.assertEqual(c.recv(100), b"echo:c%d-%d" % (i, round_))
        for c in cs:
            self.assertIsNone(recv_or_none(c, 0.2))
        # one upstream socket per client: three source ports at the target
        self.assertEqual(len({a for _, _, a in self.echo.got}), 3)
        self.assertEqual(r.fds(), base + 3)
        rc, err = r.stop()
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(re.findall(r"session open", err)), 3, err)
        self.assertEqual(len(re.findall(
            r"session closed \(stopped\): 5 datagrams up \(\d+ bytes\), "
            r"5 down", err)), 3, err)
        for c in cs:
            c.close()

    def test_table_full_refused_cleanly(self):
        r = self.relay("-v", "--max-sessions", "2")
        a, b, c = client(), client(), client()
        for s in (a, b):
            s.sendto(b"hi", ("127.0.0.1", r.port))
            self.assertEqual(s.recv(100), b"echo:hi")
        for _ in range(3):
            c.sendto(b"refused", ("127.0.0.1", r.port))
        self.assertIsNone(recv_or_none(c))
        r.wait_for(r"3 datagrams from new clients dropped: "
                   r"--max-sessions 2 reached")
        for s in (a, b):  # the existing sessions go on
            s.sendto(b"again", ("127.0.0.1", r.port))
            self.assertEqual(s.recv(100), b"echo:again")
        self.assertNotIn(b"refused", [d for _, d, _ in self.echo.got])
        rc, err = r.stop()
        self.assertEqual(rc, 0, err)
        self.assertIn("2 sessions, 3 datagrams dropped", err)
        for s in (a, b, c):
            s.close()

    def test_idle_timeout_closes_session(self):
        r = self.relay("-v", "--idle-timeout", "0.5")
        base = r.fds()
        c = client()
        c.sendto(b"x", ("127.0.0.1", r.port))
        self.assertEqual(c.recv(100), b"echo:x")
        self.assertEqual(r.fds(), base + 1)
        r.wait_for(r"session closed \(idle\)", timeout=5)
        self.assertEqual(r.fds(), base)
        c.sendto(b"y", ("127.0.0.1", r.port))  # a new session
        self.assertEqual(c.recv(100), b"echo:y")
        r.wait_for(r"#2 .*session open")
        rc, err = r.stop()
        self.assertEqual(rc, 0, err)
        c.close()

    def test_json_log(self):
        r = self.relay("-v", "--json")
        c = client()
        c.sendto(b"abc", ("127.0.0.1", r.port))
        self.assertEqual(c.recv(100), b"echo:abc")
        rc, err = r.stop()
        self.assertEqual(rc, 0, err)
        events = [json.loads(line) for line in err.splitlines() if line]
        for e in events:
            self.assertEqual(check("relay-udp", e), [], e)
        self.assertEqual([e["type"] for e in events],
                         ["listening", "stopping", "stopped"][:1] +
                         ["open", "stopping", "close", "stopped"])
        close = [e for e in events if e["type"] == "close"]
        self.assertEqual(len(close), 1, err)
        self.assertEqual(close[0]["dgrams_up"], 1)
        self.assertEqual(close[0]["bytes_up"], 3)
        self.assertEqual(close[0]["bytes_down"], 8)
        self.assertEqual(close[0]["reason"], "stopped")
        c.close()

    def send_numbered(self, port, n=10000):
        """n numbered datagrams from one client, paced so the kernel's
        buffers lose none; the numbers the target got, once quiet."""
        c = client()
        for i in range(n):
            c.sendto(b"%05d" % i, ("127.0.0.1", port))
            if i % 50 == 49:
                time.sleep(0.002)
        self.echo.settle()
        c.close()
        return [int(d) for _, d, _ in self.echo.got]

    def test_loss_rate_and_seed(self):
        self.echo.echo = False
        runs = []
        for _ in range(2):
            self.echo.got = []
            r = self.relay("--toxic", "loss:p=0.2,dir=up", "--seed", "7")
            got = self.send_numbered(r.port)
            r.stop()
            runs.append(got)
        lost = 1 - len(runs[0]) / 10000
        self.assertLess(abs(lost - 0.2), 0.03, lost)
        self.assertEqual(runs[0], runs[1])  # the same drops twice
        self.echo.got = []
        r = self.relay("--toxic", "loss:p=0.2,dir=up", "--seed", "8")
        self.assertNotEqual(self.send_numbered(r.port), runs[0])
        r.stop()

    def test_loss_burst_keeps_rate(self):
        self.echo.echo = False
        r = self.relay("--toxic", "loss:p=0.1,burst=0.7,dir=up",
                       "--seed", "3")
        got = set(self.send_numbered(r.port))
        r.stop()
        lost = [i for i in range(10000) if i not in got]
        self.assertLess(abs(len(lost) / 10000 - 0.1), 0.03)
        # bursts: a loss follows a loss far more often than 10%
        runs = sum(1 for i in lost if i - 1 in set(lost))
        self.assertGreater(runs / len(lost), 0.5)

    def test_toxicity_zero_never_fires(self):
        self.echo.echo = False
        r = self.relay("--toxic", "loss:toxicity=0", "--toxic",
                       "truncate:bytes=1,toxicity=0")
        got = self.send_numbered(r.port, 2000)
        r.stop()
        self.assertEqual(got, list(range(2000)))

    def test_duplicate(self):
        r = self.relay("--toxic", "duplicate:n=2,dir=up")
        c = client()
        c.sendto(b"d", ("127.0.0.1", r.port))
        self.assertEqual(self.echo.wait_count(3), 3)
        self.assertEqual([d for _, d, _ in self.echo.got], [b"d"] * 3)
        for _ in range(3):  # down not duplicated: three echoes only
            self.assertEqual(c.recv(100), b"echo:d")
        self.assertIsNone(recv_or_none(c, 0.3))
        r.stop()
        c.close()

    def test_truncate(self):
        r = self.relay("--toxic", "truncate:bytes=4,dir=down")
        c = client()
        c.sendto(b"0123456789", ("127.0.0.1", r.port))
        self.assertEqual(c.recv(100), b"echo")
        self.assertEqual(self.echo.got[0][1], b"0123456789")
        r.stop()
        c.close()

    def test_delay(self):
        r = self.relay("--toxic", "delay:ms=200,dir=up")
        c = client()
        times = []
        for i in range(5):
            t0 = time.monotonic()
            c.sendto(b"%d" % i, ("127.0.0.1", r.port))
            self.assertEqual(c.recv(100), b"echo:%d" % i)
            times.append(time.monotonic() - t0)
        times.sort()
        self.assertGreater(times[2], 0.18)
        self.assertLess(times[2], 1.0)  # a sanity bound: a busy machine
        r.stop()
        c.close()

    def test_reorder(self):
        self.echo.echo = False
        r = self.relay("--toxic", "reorder:n=2,toxicity=0.5,dir=up",
                       "--seed", "1")
        self.send_numbered(r.port, 200)
        self.echo.wait_count(200, 5)  # the last ones held 1 s at most
        got = [int(d) for _, d, _ in self.echo.got]
        r.stop()
        self.assertEqual(sorted(got), list(range(200)))
        self.assertNotEqual(got, list(range(200)))

    def test_sigterm_and_no_fd_left(self):
        r = self.relay()
        base = r.fds()
        cs = [client() for _ in range(20)]
        for c in cs:
            c.sendto(b"x", ("127.0.0.1", r.port))
            self.assertEqual(c.recv(100), b"echo:x")
        self.assertEqual(r.fds(), base + 20)
        r.p.send_signal(signal.SIGTERM)
        rc = r.p.wait(5)
        self.assertEqual(rc, 0)
        for c in cs:
            c.close()

    def test_ipv6(self):
        b = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        b.bind(("::1", 0))
        b.settimeout(2)
        r = Relay("udp:[::1]:%d" % b.getsockname()[1], listen="udp:[::1]:0")
        self.addCleanup(lambda: r.p.poll() is None and r.stop())
        c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        c.settimeout(2)
        c.sendto(b"six", ("::1", r.port))
        data, addr = b.recvfrom(100)
        self.assertEqual(data, b"six")
        b.sendto(b"back", addr)
        self.assertEqual(c.recv(100), b"back")
        r.stop()
        b.close()
        c.close()

    def test_deny(self):
        r = self.relay("-v", "--deny", "127.0.0.1/32")
        c = client()
        c.sendto(b"no", ("127.0.0.1", r.port))
        self.assertIsNone(recv_or_none(c))
        self.assertEqual(self.echo.got, [])
        rc, err = r.stop()
        self.assertNotIn("session open", err)
        self.assertIn("0 sessions", err)
        c.close()

    def test_usage_errors(self):
        cases = [
            (["udp:127.0.0.1:0", "127.0.0.1:9"], "both udp: or neither"),
            (["127.0.0.1:0", "udp:127.0.0.1:9"], "both udp: or neither"),
            (["--toxic", "latency:ms=5", LISTEN, "udp:127.0.0.1:9"],
             "a TCP toxic, on a udp: relay"),
            (["--toxic", "loss:p=0.1", "127.0.0.1:0", "127.0.0.1:9"],
             "a UDP toxic, on a TCP relay"),
            (["--max-sessions", "3", "127.0.0.1:0", "127.0.0.1:9"],
             "--max-sessions: only for a udp: relay"),
            (["--max-conns", "3", LISTEN, "udp:127.0.0.1:9"],
             "--max-conns: not for a udp: relay"),
            (["--toxic", "loss:p=2", LISTEN, "udp:127.0.0.1:9"],
             "loss: p:"),
            (["--toxic", "loss:burst=1", LISTEN, "udp:127.0.0.1:9"],
             "burst"),
            (["--toxic", "reorder:n=1,ms=5", LISTEN, "udp:127.0.0.1:9"],
             "not both"),
            ([LISTEN, "udp:127.0.0.1:9", "udp:127.0.0.1:10"],
             "one TARGET"),
        ]
        for args, msg in cases:
            rc, _, err = run("relay", *args)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn(msg, err, args)
            self.assertEqual(len(err.strip().splitlines()), 1, err)


if __name__ == "__main__":
    unittest.main()
