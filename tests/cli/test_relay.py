"""test_relay.py - `sockit relay LISTEN TARGET...` between real peers:
python3 clients and servers, nc, socat, curl, and `sockit serve` as the
target. Data checked by sha256 both ways, 1000 concurrent connections
each verified, half-close passed through in each direction, resets
propagated both ways, targets down, round robin, timeouts, Unix <-> TCP,
the JSON log against docs/json.md, and no fd left behind.

Every relay listens on 127.0.0.1:0 and the port it prints is read back;
every socket and subprocess has a timeout.
"""
import errno
import hashlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from bridgetest import TIMEOUT, recv_all, tool
from clitest import SOCKIT
from json_schema import check
from servetest import Serve, connect, raise_fd_limit

LISTEN_RE = re.compile(r"^sockit: relay: listening on (\S+), to "
                       r'|"type":"listening".*"port":(\d+)')


class Relay(Serve):
    """`sockit relay ARGS LISTEN TARGETS` in the background, its log
    collected by Serve's machinery; .port is the port it printed."""

    def __init__(self, *targets, args=(), listen="127.0.0.1:0"):
        cmd = [SOCKIT, "relay", *args, listen, *targets]
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        self.lines = []
        self.cond = threading.Condition()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        line = self.wait_for(LISTEN_RE)
        m = LISTEN_RE.search(line)
        port = m.group(2) or re.search(r":(\d+)$", m.group(1) or "")
        self.port = None
        if isinstance(port, str):
            self.port = int(port)
        elif port is not None:
            self.port = int(port.group(1))

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.p.pid))


class Backend(threading.Thread):
    """A TCP (or Unix) server on loopback running handler(conn) in a
    thread per connection until close(); .port, .conns (accepted)."""

    def __init__(self, handler, family=socket.AF_INET, address=None):
        super().__init__(daemon=True)
        self.handler = handler
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if family != socket.AF_UNIX:
            address = ("127.0.0.1", 0)
        self.sock.bind(address)
        self.sock.listen(1024)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1] if family != socket.AF_UNIX else None
        self.conns = 0
        self.errors = []
        self.running = True
        self.start()

    def run(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.conns += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        try:
            with conn:
                conn.settimeout(TIMEOUT)
                self.handler(conn)
        except Exception as e:  # reported by the test that asks
            self.errors.append(e)

    def close(self):
        self.running = False
        self.join(TIMEOUT)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def echo(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def target(port):
    return "127.0.0.1:%d" % port


def sha(b):
    return hashlib.sha256(b).hexdigest()


def wait_until(cond, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


class Data(unittest.TestCase):
    def test_megabyte_each_way_sha256(self):
        up, down = os.urandom(1 << 20), os.urandom(1 << 20)
        got_up = []

        def handler(conn):
            t = threading.Thread(target=lambda: (conn.sendall(down),
                                                 conn.shutdown(socket.SHUT_WR)))
            t.start()
            got_up.append(recv_all(conn))
            t.join(TIMEOUT)

        with Backend(handler) as b, Relay(target(b.port), args=["-v"]) as r:
            s = connect(r.port)
            t = threading.Thread(target=lambda: (s.sendall(up),
                                                 s.shutdown(socket.SHUT_WR)))
            t.start()
            got = recv_all(s)
            t.join(TIMEOUT)
            s.close()
            self.assertEqual(sha(got), sha(down))
            self.assertTrue(wait_until(lambda: got_up))
            self.assertEqual(sha(got_up[0]), sha(up))
            line = r.wait_for(r"#1 .* closed")
            self.assertIn("(%d bytes up, %d down," % (len(up), len(down)),
                          line)
            rc, _ = r.stop()
            self.assertEqual(rc, 0)

    def test_nc_socat_and_curl_clients(self):
        with Backend(echo) as b, Relay(target(b.port)) as r:
            rc, out, _ = tool("nc", "-N", "127.0.0.1", str(r.port),
                              input=b"via nc\n")
            self.assertEqual((rc, out), (0, b"via nc\n"))
            rc, out, _ = tool("socat", "-", "TCP:127.0.0.1:%d" % r.port,
                              input=b"via socat\n")
            self.assertEqual((rc, out), (0, b"via socat\n"))
            r.stop()
        with Serve("hello") as web, Relay(target(web.port)) as r:
            p = subprocess.run(["curl", "-sS", "--max-time", str(TIMEOUT),
                                "http://127.0.0.1:%d/" % r.port],
                               capture_output=True, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"hello", p.stdout.lower())
            web.stop()
            r.stop()

    def test_socat_as_target(self):
        with tempfile.TemporaryDirectory() as d:
            sock = os.path.join(d, "t.sock")
            p = subprocess.Popen(["socat", "UNIX-LISTEN:%s,fork" % sock,
                                  "EXEC:tr a-z A-Z"],
                                 stderr=subprocess.DEVNULL)
            try:
                self.assertTrue(wait_until(lambda: os.path.exists(sock)))
                with Relay("unix:" + sock) as r:
                    s = connect(r.port)
                    s.sendall(b"shout\n")
                    s.shutdown(socket.SHUT_WR)
                    self.assertEqual(recv_all(s), b"SHOUT\n")
                    s.close()
                    r.stop()
            finally:
                p.kill()
                p.wait(TIMEOUT)

    def test_thousand_concurrent_connections_each_verified(self):
        raise_fd_limit()
        import resource
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        # The relay holds 3 fds a connection (2 sockets, a duplicate;
        # pipes only while bytes are in flight), this process 1 and the
        # echo server 1.
        n = min(1000, (soft - 200) // 4)
        self.assertGreaterEqual(n, 100, "fd limit %d too low" % soft)
        with Serve("echo", "--max-per-ip", "0", "--max-conns", "0") as e, \
                Relay(target(e.port), args=["--max-per-ip", "0",
                                            "--max-conns", "0",
                                            "--workers", "2"]) as r:
            socks = []
            for i in range(n):
                s = connect(r.port)
                socks.append(s)
            for i, s in enumerate(socks):
                s.sendall(b"conn %06d\n" % i)
            for i, s in enumerate(socks):
                want = b"conn %06d\n" % i
                got = b""
                while len(got) < len(want):
                    chunk = s.recv(64)
                    self.assertTrue(chunk, "connection %d ended" % i)
                    got += chunk
                self.assertEqual(got, want)
            for s in socks:
                s.close()
            r.stop()
            e.stop()


class HalfClose(unittest.TestCase):
    def test_answer_two_seconds_after_client_eof(self):
        """The client half-closes; the target answers 2 s later: no 0.5 s
        cut as socat makes."""
        def handler(conn):
            self.assertEqual(recv_all(conn), b"question")
            time.sleep(2)
            conn.sendall(b"late answer")

        with Backend(handler) as b, Relay(target(b.port)) as r:
            s = connect(r.port)
            s.sendall(b"question")
            s.shutdown(socket.SHUT_WR)
            t0 = time.monotonic()
            self.assertEqual(recv_all(s), b"late answer")
            self.assertGreaterEqual(time.monotonic() - t0, 1.9)
            s.close()
            self.assertEqual(b.errors, [])
            r.stop()

    def test_client_sends_after_target_eof(self):
        got = []

        def handler(conn):
            conn.sendall(b"greeting")
            conn.shutdown(socket.SHUT_WR)
            got.append(recv_all(conn))

        with Backend(handler) as b, Relay(target(b.port)) as r:
            s = connect(r.port)
            self.assertEqual(recv_all(s), b"greeting")  # the target's EOF
            time.sleep(2)
            s.sendall(b"still talking")
            s.shutdown(socket.SHUT_WR)
            self.assertTrue(wait_until(lambda: got))
            self.assertEqual(got[0], b"still talking")
            s.close()
            r.stop()


def reset_seen(port):
    """Connect and read: True when a reset came (at the connect, or at
    the read), False for an end of stream or data."""
    try:
        with connect_or_reset(port) as s:
            s.recv(100)
            return False
    except ConnectionResetError:
        return True


def reset_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


class Resets(unittest.TestCase):
    def test_target_reset_reaches_client(self):
        def handler(conn):
            conn.recv(100)
            reset_close(conn)

        with Backend(handler) as b, Relay(target(b.port), args=["-v"]) as r:
            s = connect(r.port)
            s.sendall(b"x")
            with self.assertRaises(ConnectionResetError):
                while s.recv(100):
                    pass
            s.close()
            r.wait_for("target failed .*: client reset")
            r.stop()

    def test_client_reset_reaches_target(self):
        seen = []

        def handler(conn):
            try:
                while conn.recv(100):
                    pass
                seen.append("eof")
            except ConnectionResetError:
                seen.append("reset")

        with Backend(handler) as b, Relay(target(b.port), args=["-v"]) as r:
            s = connect(r.port)
            s.sendall(b"x")
            self.assertTrue(wait_until(lambda: b.conns == 1))
            time.sleep(0.2)
            reset_close(s)
            self.assertTrue(wait_until(lambda: seen))
            self.assertEqual(seen, ["reset"])
            r.wait_for("client failed .*: target reset")
            r.stop()

    def test_writing_to_a_closed_target_survives_epipe(self):
        """The target closes at once while the client streams: the
        relay's splice into the dead socket fails with EPIPE (splice has
        no MSG_NOSIGNAL: a SIGPIPE the command must not die of), the
        client is reset, and the relay goes on serving."""
        with Backend(lambda c: None) as b, Relay(target(b.port), args=["-v"]) as r:
            s = connect(r.port)
            with self.assertRaises((ConnectionResetError, BrokenPipeError)):
                for _ in range(200):
                    s.sendall(b"x" * 65536)
                    time.sleep(0.005)
            s.close()
            r.wait_for("target failed")
            self.assertIsNone(r.p.poll())
            rc, _ = r.stop()
            self.assertEqual(rc, 0)

    def test_target_down_resets_client(self):
        with socket.socket() as hole:  # a port nobody listens on
            hole.bind(("127.0.0.1", 0))
            port = hole.getsockname()[1]
            with Relay(target(port)) as r:
                self.assertTrue(reset_seen(r.port))
                line = r.wait_for("no target reachable")
                self.assertIn("connection refused", line)
                rc, _ = r.stop()
                self.assertEqual(rc, 0)


class Targets(unittest.TestCase):
    def test_round_robin_skipping_a_refusing_target(self):
        def named(name):
            return lambda conn: conn.sendall(name)

        with socket.socket() as hole:
            hole.bind(("127.0.0.1", 0))
            down = hole.getsockname()[1]
            with Backend(named(b"A")) as a, Backend(named(b"B")) as b, \
                    Relay(target(a.port), target(down), target(b.port)) as r:
                got = b""
                for _ in range(6):
                    with connect(r.port) as s:
                        got += recv_all(s)
                # Starts at A, at the dead one (skipped to B), at B...
                self.assertEqual(got, b"ABBABB")
                r.stop()

    def test_round_robin_alternates(self):
        with Backend(lambda c: c.sendall(b"A")) as a, \
                Backend(lambda c: c.sendall(b"B")) as b, \
                Relay(target(a.port), target(b.port)) as r:
            got = b""
            for _ in range(6):
                with connect(r.port) as s:
                    got += recv_all(s)
            self.assertIn(got, (b"ABABAB", b"BABABA"))
            r.stop()

    def test_connect_timeout_moves_on(self):
        """A target whose accept queue is full drops the SYN: the connect
        times out after --connect-timeout and the next target serves."""
        full = socket.socket()
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        filler = [socket.create_connection(full.getsockname(), timeout=1)]
        try:  # fill the queue until a connect hangs
            for _ in range(4):
                c = socket.socket()
                c.settimeout(0.3)
                try:
                    c.connect(full.getsockname())
                    filler.append(c)
                except socket.timeout:
                    c.close()
                    break
            with Backend(lambda c: c.sendall(b"B")) as b, \
                    Relay(target(full.getsockname()[1]), target(b.port),
                          args=["--connect-timeout", "1", "--workers",
                                "1"]) as r:
                t0 = time.monotonic()
                with connect(r.port) as s:
                    self.assertEqual(recv_all(s), b"B")
                self.assertGreaterEqual(time.monotonic() - t0, 0.9)
                r.stop()
        finally:
            for c in filler:
                c.close()
            full.close()


class Timeouts(unittest.TestCase):
    def test_idle_timeout_resets_both(self):
        with Backend(echo) as b, Relay(target(b.port),
                                       args=["-v", "--idle-timeout",
                                             "500ms"]) as r:
            s = connect(r.port)
            s.sendall(b"ping")
            self.assertEqual(s.recv(10), b"ping")
            t0 = time.monotonic()
            with self.assertRaises(ConnectionResetError):
                s.recv(10)
            self.assertGreaterEqual(time.monotonic() - t0, 0.4)
            s.close()
            r.wait_for("idle timeout: both reset")
            r.stop()

    def test_busy_connection_outlives_idle_timeout(self):
        with Backend(echo) as b, Relay(target(b.port),
                                       args=["--idle-timeout", "1"]) as r:
            s = connect(r.port)
            for _ in range(8):  # 2 s of traffic every 0.25 s
                s.sendall(b"tick")
                self.assertEqual(s.recv(10), b"tick")
                time.sleep(0.25)
            s.close()
            r.stop()

    def test_max_time(self):
        with Backend(echo) as b, Relay(target(b.port),
                                       args=["-v", "--max-time", "1"]) as r:
            s = connect(r.port)
            t0 = time.monotonic()
            with self.assertRaises(ConnectionResetError):
                while True:
                    s.sendall(b"tick")
                    s.recv(10)
                    time.sleep(0.1)
            self.assertGreaterEqual(time.monotonic() - t0, 0.9)
            s.close()
            r.wait_for("--max-time reached")
            r.stop()


class Unix(unittest.TestCase):
    def test_unix_listen_to_tcp_target(self):
        with tempfile.TemporaryDirectory() as d, Backend(echo) as b:
            path = os.path.join(d, "r.sock")
            with Relay(target(b.port), listen="unix:" + path) as r:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(TIMEOUT)
                    s.connect(path)
                    data = os.urandom(300000)
                    t = threading.Thread(target=lambda: (s.sendall(data),
                                                         s.shutdown(socket.SHUT_WR)))
                    t.start()
                    self.assertEqual(sha(recv_all(s)), sha(data))
                    t.join(TIMEOUT)
                rc, _ = r.stop()
                self.assertEqual(rc, 0)
            self.assertFalse(os.path.exists(path))  # removed at the end

    def test_stale_socket_file_is_replaced(self):
        with tempfile.TemporaryDirectory() as d, Backend(echo) as b:
            path = os.path.join(d, "r.sock")
            dead = socket.socket(socket.AF_UNIX)
            dead.bind(path)  # a relay that died: the file, nobody behind it
            dead.close()
            with Relay(target(b.port), listen="unix:" + path) as r:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(TIMEOUT)
                    s.connect(path)
                    s.sendall(b"hi")
                    s.shutdown(socket.SHUT_WR)
                    self.assertEqual(recv_all(s), b"hi")
                r.stop()
            # A live one is kept, and the second relay says why.
            with Relay(target(b.port), listen="unix:" + path) as r:
                p = subprocess.run([SOCKIT, "relay", "unix:" + path,
                                    target(b.port)], capture_output=True,
                                   text=True, timeout=TIMEOUT)
                self.assertEqual(p.returncode, 1)
                self.assertIn("address already in use", p.stderr)
                r.stop()

    def test_tcp_listen_to_unix_and_abstract_targets(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.sock")
            name = "sockit-relay-test-%d" % os.getpid()
            with Backend(echo, socket.AF_UNIX, path), \
                    Backend(echo, socket.AF_UNIX, "\0" + name), \
                    Relay("unix:" + path, "unix:@" + name) as r:
                for i in range(4):
                    with connect(r.port) as s:
                        s.sendall(b"via unix %d" % i)
                        s.shutdown(socket.SHUT_WR)
                        self.assertEqual(recv_all(s), b"via unix %d" % i)
                r.stop()


class Admission(unittest.TestCase):
    def test_deny_refuses(self):
        with Backend(echo) as b, Relay(target(b.port),
                                       args=["-v", "--deny",
                                             "127.0.0.0/8"]) as r:
            self.assertFalse(exchange(r.port))  # refused: never relayed
            r.wait_for("refused: denied")
            self.assertEqual(b.conns, 0)
            r.stop()

    def test_max_conns(self):
        with Backend(echo) as b, Relay(target(b.port),
                                       args=["--max-conns", "1"]) as r:
            s1 = connect(r.port)
            s1.sendall(b"one")
            self.assertEqual(s1.recv(10), b"one")
            self.assertFalse(exchange(r.port))
            s1.close()
            r.wait_for("refused: max-conns 1 reached")
            r.stop()

    def test_stop_deadline_resets_what_is_left(self):
        with Backend(lambda c: c.recv(10) and time.sleep(5)) as b, \
                Relay(target(b.port), args=["-v"]) as r:
            s = connect(r.port)
            s.sendall(b"x")
            self.assertTrue(wait_until(lambda: b.conns == 1))
            t0 = time.monotonic()
            r.kill(signal.SIGTERM)
            with self.assertRaises(ConnectionResetError):
                s.recv(10)
            self.assertGreaterEqual(time.monotonic() - t0, 1.5)
            s.close()
            r.p.wait(TIMEOUT)  # exits by itself: no second signal
            rc, err = r.stop()
            self.assertEqual(rc, 0)
            self.assertIn("still open at the stop's deadline", err)
            self.assertIn("1 reset at the deadline", err)

    def test_out_of_fds_fails_cleanly_and_recovers(self):
        """Under a limit of 64 fds most of 30 connections cannot get
        their pipes: those are reset with a line each, the rest relay,
        and once all are gone the relay serves as before."""
        with Backend(echo) as b:
            cmd = ["prlimit", "--nofile=64:64", SOCKIT, "relay",
                   "--workers", "1", "127.0.0.1:0", target(b.port)]
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            r = Relay.__new__(Relay)
            r.p, r.lines, r.cond = p, [], threading.Condition()
            r.pump = threading.Thread(target=r._pump, daemon=True)
            r.pump.start()
            with r:
                r.port = int(re.search(r":(\d+),", r.wait_for(LISTEN_RE)).group(1))
                socks, ok = [], 0
                for i in range(30):
                    try:
                        s = connect_or_reset(r.port)
                        socks.append(s)
                    except OSError:
                        pass
                for s in socks:
                    try:
                        s.sendall(b"x")
                        ok += s.recv(1) == b"x"
                    except OSError:
                        pass
                for s in socks:
                    s.close()
                self.assertGreater(ok, 0)
                self.assertLess(ok, 30)
                time.sleep(0.5)
                for _ in range(3):
                    self.assertTrue(exchange(r.port))
                rc, err = r.stop()
                self.assertEqual(rc, 0)
                self.assertRegex(err, r"failed \(too many open files\): "
                                 r"both reset|accept: too many open files")

    def test_sigterm_lets_a_transfer_finish(self):
        def handler(conn):
            time.sleep(1)
            conn.sendall(b"finished")

        with Backend(handler) as b, Relay(target(b.port)) as r:
            s = connect(r.port)
            self.assertTrue(wait_until(lambda: b.conns == 1))
            r.kill(signal.SIGTERM)
            self.assertEqual(recv_all(s), b"finished")
            s.close()
            rc, err = r.stop()
            self.assertEqual(rc, 0)
            self.assertIn("SIGTERM: stopping", err)


class Log(unittest.TestCase):
    def test_json_lines_match_the_schema(self):
        with Backend(echo) as b, Relay(target(b.port),
                                       args=["--json", "-v", "--stats",
                                             "1"]) as r:
            with connect(r.port) as s:
                s.sendall(b"hello")
                s.shutdown(socket.SHUT_WR)
                self.assertEqual(recv_all(s), b"hello")
            r.wait_for('"type":"close"')
            r.wait_for('"type":"stats"')
            rc, err = r.stop()
        self.assertEqual(rc, 0)
        kinds = []
        for line in err.splitlines():
            obj = json.loads(line)
            self.assertEqual(check("relay", obj), [], line)
            kinds.append(obj["type"])
            if obj["type"] == "close":
                self.assertEqual((obj["bytes_up"], obj["bytes_down"],
                                  obj["reason"]), (5, 5, "closed"))
        for k in ("listening", "close", "stats", "stopping", "stopped"):
            self.assertIn(k, kinds)


class Leaks(unittest.TestCase):
    def test_no_fd_left_after_every_kind_of_end(self):
        def handler(conn):
            cmd = conn.recv(10)
            if cmd == b"reset":
                reset_close(conn)
            else:
                conn.sendall(cmd)

        with socket.socket() as hole:
            hole.bind(("127.0.0.1", 0))
            with Backend(handler) as b, Relay(target(b.port),
                                              target(hole.getsockname()[1]),
                                              args=["--workers", "1"]) as r:
                with connect(r.port) as s:  # settle the lazy fds
                    s.sendall(b"ok")
                    recv_all(s)
                time.sleep(0.2)
                base = r.fds()
                for i in range(30):
                    s = connect(r.port)
                    try:
                        s.sendall(b"reset" if i % 3 == 0 else b"ok")
                        recv_all(s)
                    except ConnectionResetError:
                        pass
                    if i % 5 == 0:
                        reset_close(s)
                    else:
                        s.close()
                self.assertTrue(wait_until(lambda: r.fds() == base),
                                "%d fds, %d before" % (r.fds(), base))
                r.stop()


def median(v):
    v = sorted(v)
    return v[len(v) // 2]


def ping_pong_ms(port, n=21, size=64):
    """The round trips of n 64-byte messages through an echo, in ms."""
    with connect(port) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        out = []
        for _ in range(n):
            t0 = time.monotonic()
            s.sendall(b"p" * size)
            got = b""
            while len(got) < size:
                chunk = s.recv(size - len(got))
                if not chunk:
                    raise AssertionError("echo ended")
                got += chunk
            out.append((time.monotonic() - t0) * 1000)
        return out


def source(nbytes):
    """A target that sends nbytes of zeros, then closes."""
    def handler(conn):
        block = b"\0" * 65536
        left = nbytes
        while left > 0:
            n = min(left, len(block))
            conn.sendall(block[:n])
            left -= n
    return handler


def connect_or_reset(port):
    """connect(), closing the socket when the connect itself fails (a
    reset can come before the handshake is seen to finish)."""
    s = socket.socket()
    s.settimeout(TIMEOUT)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


def exchange(port):
    """One message through an echo: True when it came back, False when
    the connection was reset (at the connect too)."""
    try:
        with connect_or_reset(port) as s:
            s.sendall(b"x")
            s.shutdown(socket.SHUT_WR)
            return recv_all(s) == b"x"
    except (ConnectionResetError, BrokenPipeError):
        return False
    except OSError as e:  # ENOTCONN: the reset came before shutdown()
        if e.errno == errno.ENOTCONN:
            return False
        raise


def report(what):
    """A measured figure on stderr, for the reader of the test log."""
    sys.stderr.write("  %s " % what)
    sys.stderr.flush()


class Toxics(unittest.TestCase):
    def test_latency_p50_within_ten_percent(self):
        with Backend(echo) as b:
            with Relay(target(b.port)) as r:
                base = median(ping_pong_ms(r.port))
                r.stop()
            with Relay(target(b.port), args=[
                    "--toxic", "latency:ms=100,dir=down"]) as r:
                p50 = median(ping_pong_ms(r.port))
                r.stop()
        added = p50 - base
        report("latency ms=100 dir=down: p50 +%.1f ms" % added)
        self.assertLess(abs(added - 100), 10, "p50 %.1f ms, base %.1f ms"
                        % (p50, base))

    def test_latency_both_ways_adds_twice(self):
        with Backend(echo) as b, Relay(target(b.port), args=[
                "--toxic", "latency:ms=40,jitter=5"]) as r:
            p50 = median(ping_pong_ms(r.port, n=15))
            report("latency ms=40 jitter=5 both: p50 %.1f ms" % p50)
            self.assertLess(abs(p50 - 80), 8, "p50 %.1f ms" % p50)
            r.stop()

    def test_bandwidth_within_ten_percent_over_two_seconds(self):
        rate = 500  # KB/s
        with Backend(source(1 << 30)) as b, Relay(target(b.port), args=[
                "--toxic", "bandwidth:rate=%d,dir=down" % rate]) as r:
            with connect(r.port) as s:
                got = len(s.recv(65536))
                t0 = time.monotonic()
                n = 0
                while time.monotonic() - t0 < 2.0:
                    n += len(s.recv(65536))
                elapsed = time.monotonic() - t0
            measured = n / elapsed / 1024
            report("bandwidth rate=%d: %.1f KB/s over %.1f s" % (rate, measured, elapsed))
            self.assertLess(abs(measured - rate) / rate, 0.10,
                            "%.1f KB/s asked %d" % (measured, rate))
            self.assertGreater(got, 0)
            r.stop()

    def test_limit_data_cuts_at_exactly_n_bytes(self):
        for limit in (1, 1000, 100000):
            with Backend(source(1 << 20)) as b, Relay(target(b.port), args=[
                    "-v", "--toxic", "limit_data:bytes=%d,dir=down" % limit]) as r:
                with connect(r.port) as s:
                    self.assertEqual(len(recv_all(s)), limit)
                r.wait_for("closed by toxic limit_data")
                r.stop()

    def test_limit_data_up_counts_the_client_bytes(self):
        got = []

        def handler(conn):
            got.append(recv_all(conn))

        with Backend(handler) as b, Relay(target(b.port), args=[
                "--toxic", "limit_data:bytes=5000,dir=up"]) as r:
            with connect(r.port) as s:
                try:
                    s.sendall(os.urandom(20000))
                    recv_all(s)
                except ConnectionResetError:
                    pass
            self.assertTrue(wait_until(lambda: got))
            self.assertEqual(len(got[0]), 5000)
            r.stop()

    def test_reset_peer_gives_econnreset(self):
        with Backend(echo) as b, Relay(target(b.port), args=[
                "-v", "--toxic", "reset_peer:ms=300"]) as r:
            with connect(r.port) as s:
                s.sendall(b"hi")
                self.assertEqual(s.recv(10), b"hi")
                t0 = time.monotonic()
                with self.assertRaises(ConnectionResetError):
                    s.recv(10)
                self.assertGreaterEqual(time.monotonic() - t0, 0.2)
            r.wait_for("reset by toxic reset_peer")
            r.stop()

    def test_toxicity_zero_never_fires(self):
        with Backend(echo) as b, Relay(target(b.port), args=[
                "--toxic", "reset_peer:ms=0,toxicity=0",
                "--toxic", "down:toxicity=0",
                "--toxic", "limit_data:bytes=1,toxicity=0.0"]) as r:
            for i in range(50):
                with connect(r.port) as s:
                    s.sendall(b"message %d" % i)
                    s.shutdown(socket.SHUT_WR)
                    self.assertEqual(recv_all(s), b"message %d" % i)
            r.stop()

    def test_toxicity_half_is_reproducible_from_the_seed(self):
        def outcomes(seed):
            res = ""
            with Backend(echo) as b, Relay(target(b.port), args=[
                    "--workers", "1", "--seed", str(seed),
                    "--toxic", "down:toxicity=0.5"]) as r:
                for _ in range(40):
                    res += "+" if exchange(r.port) else "-"
                r.stop()
            return res
        a, b = outcomes(7), outcomes(7)
        self.assertEqual(a, b)
        self.assertTrue(8 <= a.count("-") <= 32, a)
        self.assertNotEqual(a, outcomes(8))

    def test_down_resets_every_connection(self):
        with Backend(echo) as b, Relay(target(b.port), args=[
                "--toxic", "down"]) as r:
            for _ in range(3):
                self.assertFalse(exchange(r.port))
            self.assertEqual(b.conns, 0)  # the target never called
            r.stop()

    def test_fail_first_then_behaves(self):
        with Backend(echo) as b, Relay(target(b.port), args=[
                "--toxic", "fail_first:n=3"]) as r:
            res = []
            for i in range(6):
                res.append(exchange(r.port))
            self.assertEqual(res, [False] * 3 + [True] * 3)
            r.stop()

    def test_slicer_cuts_into_small_writes(self):
        with Backend(source(1000)) as b, Relay(target(b.port), args=[
                "--toxic", "slicer:bytes=100,ms=50,dir=down"]) as r:
            with connect(r.port) as s:
                t0 = time.monotonic()
                sizes = []
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    sizes.append(len(chunk))
                elapsed = time.monotonic() - t0
            report("slicer bytes=100 ms=50: %d pieces, largest %d, %.2f s"
                   % (len(sizes), max(sizes), elapsed))
            self.assertEqual(sum(sizes), 1000)
            self.assertLessEqual(max(sizes), 100)
            self.assertGreaterEqual(len(sizes), 10)
            self.assertGreaterEqual(elapsed, 0.4)  # 9 gaps of 50 ms
            r.stop()

    def test_slow_close_delays_the_eof(self):
        with Backend(lambda c: c.sendall(b"bye")) as b, Relay(
                target(b.port), args=["--toxic",
                                      "slow_close:ms=500,dir=down"]) as r:
            with connect(r.port) as s:
                self.assertEqual(s.recv(10), b"bye")
                t0 = time.monotonic()
                self.assertEqual(s.recv(10), b"")
                waited = time.monotonic() - t0
            report("slow_close ms=500: EOF after %.0f ms" % (waited * 1000))
            self.assertGreaterEqual(waited, 0.4)
            self.assertLess(waited, 2)
            r.stop()

    def test_timeout_stops_data_then_closes(self):
        with Backend(echo) as b, Relay(target(b.port), args=[
                "-v", "--toxic", "timeout:ms=500"]) as r:
            with connect(r.port) as s:
                s.sendall(b"lost")
                t0 = time.monotonic()
                self.assertEqual(s.recv(10), b"")  # nothing, then the end
                self.assertGreaterEqual(time.monotonic() - t0, 0.4)
            r.wait_for("closed by toxic timeout")
            r.stop()

    def test_no_toxic_direction_still_splices(self):
        """A toxic on one direction leaves the other on the fast path:
        a megabyte up passes untouched while down is delayed."""
        data = os.urandom(1 << 20)
        with Backend(echo) as b, Relay(target(b.port), args=[
                "--toxic", "latency:ms=20,dir=down"]) as r:
            s = connect(r.port)
            t = threading.Thread(target=lambda: (s.sendall(data),
                                                 s.shutdown(socket.SHUT_WR)))
            t.start()
            self.assertEqual(sha(recv_all(s)), sha(data))
            t.join(TIMEOUT)
            s.close()
            r.stop()

    def test_bad_toxics_are_usage_errors(self):
        for spec, msg in [("nope", "unknown toxic 'nope'"),
                          ("latency", "latency: needs ms="),
                          ("latency:ms=10,jitter=20", "jitter above ms"),
                          ("latency:ms=x", "latency: ms"),
                          ("bandwidth:rate=0", "bandwidth: rate"),
                          ("down:toxicity=1.5", "toxicity"),
                          ("limit_data:bytes=1,bytes=2", "given twice"),
                          ("slicer:ms=1,", "',' at the end"),
                          ("reset_peer:dir=sideways", "dir: up, down")]:
            p = subprocess.run([SOCKIT, "relay", "--toxic", spec,
                                "127.0.0.1:0", "127.0.0.1:1"],
                               capture_output=True, text=True, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 2, (spec, p.stderr))
            self.assertIn(msg, p.stderr, spec)


class Usage(unittest.TestCase):
    def test_bad_arguments(self):
        for args, msg in [
                ([], "expected LISTEN and at least one TARGET"),
                (["127.0.0.1:0"], "expected LISTEN"),
                (["127.0.0.1:0", "nowhere"], "TARGET 'nowhere'"),
                (["127.0.0.1:0", "unix-dgram:/tmp/x"], "a stream address"),
                (["127.0.0.1:0", "127.0.0.1:0"], "TARGET '127.0.0.1:0'"),
                (["unix:/tmp/x.sock", "127.0.0.1:1", "--allow", "1.2.3.4"],
                 "--allow/--deny"),
                (["--idle-timeout", "x", "127.0.0.1:0", "127.0.0.1:1"],
                 "--idle-timeout")]:
            p = subprocess.run([SOCKIT, "relay", *args], capture_output=True,
                               text=True, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(msg, p.stderr, args)
            self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)


if __name__ == "__main__":
    unittest.main()
