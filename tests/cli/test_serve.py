"""test_serve.py - `sockit serve SERVICE` as a user drives it: python3
clients in the tutorials' style for every service over TCP and UDP, the
tutorials' echo and time clients, the C examples, nc, socat and curl as
clients; chat with three members and with a slow one; limits (idle
timeout, --max-conns, --max-per-ip, --allow/--deny) and their log lines;
1000 concurrent clients; out of fds; a stalled chargen reader; SIGTERM
with 1000 connections open; peer resets and half-closes in every service.

Every server listens on 127.0.0.1:0 and the port it prints is read back;
every subprocess and socket has a timeout.
"""
import asyncio
import json
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from bridgetest import TIMEOUT, recv_all, tool
from clitest import BUILD, ROOT, SOCKIT

EXAMPLES = os.path.join(BUILD, "examples")
EPOCH_1900 = 2208988800
SERVICES = ["echo", "discard", "chargen", "qotd", "daytime", "time",
            "upper", "chat", "hello"]
UDP_SERVICES = ["echo", "discard", "chargen", "qotd", "daytime", "time",
                "upper"]
LISTEN_RE = re.compile(r'^sockit: serve: \w+ listening on \S+:(\d+)/(tcp|udp)$'
                       r'|"event":"listening".*"address":"\S+:(\d+)","transport":"(tcp|udp)"')


def raise_fd_limit():
    """Many clients in this process, and the servers inherit the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Serve:
    """`sockit serve ARGS --listen 127.0.0.1:0` in the background. Its
    stderr is collected line by line in a thread; .tcp and .udp are the
    ports it printed."""

    def __init__(self, *args, listen="127.0.0.1:0", fd_limit=None, env=None):
        cmd = [SOCKIT, "serve", *args]
        if listen:
            cmd += ["--listen", listen]
        pre = None
        if fd_limit:
            def pre():
                resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, preexec_fn=pre,
                                  env=dict(os.environ, **(env or {})))
        self.lines = []
        self.cond = threading.Condition()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        self.tcp = self.udp = None
        udp = "--udp" in args or "-u" in args
        want = (1 if not udp or "--tcp" in args else 0) + (1 if udp else 0)
        for i in range(want):
            line = self.wait_for(LISTEN_RE, start=i)
            m = LISTEN_RE.search(line)
            port, transport = m.group(1, 2) if m.group(1) else m.group(3, 4)
            setattr(self, transport, int(port))
        self.port = self.tcp or self.udp

    def _pump(self):
        for raw in self.p.stderr:
            with self.cond:
                self.lines.append(raw.decode().rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # the end
            self.cond.notify_all()

    def wait_for(self, pattern, timeout=TIMEOUT, start=0):
        """The first line from index start on that matches pattern."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    if line is None:
                        raise AssertionError("server ended without %r: %s"
                                             % (rx.pattern, self.text()))
                    if rx.search(line):
                        return line
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no line matching %r in %ss: %s"
                                         % (rx.pattern, timeout, self.text()))
                self.cond.wait(left)

    def text(self):
        return "\n".join(l for l in self.lines if l is not None)

    def kill(self, sig):
        self.p.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=TIMEOUT):
        """Signal, wait; (exit code, all of stderr)."""
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(TIMEOUT)
            raise
        with self.cond:  # every line read
            self.cond.wait_for(lambda: self.lines and self.lines[-1] is None,
                               TIMEOUT)
        return rc, self.text()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(TIMEOUT)
        self.pump.join(TIMEOUT)
        self.p.stderr.close()


def connect(port, family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect((host, port))
    return s


def ask(port, data=b""):
    """Connect, send data, half-close, read to the end."""
    with connect(port) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return recv_all(s)


def recv_until(s, marker):
    data = b""
    while marker not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def udp_ask(port, data=b""):
    """The tutorials' UDP client: sendto, recvfrom."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(data, ("127.0.0.1", port))
        reply, addr = s.recvfrom(65536)
        return reply


def reset(s):
    """Close with a reset (RST) instead of a FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def proc_stat(pid):
    """(CPU seconds used, resident KiB) of pid."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    with open("/proc/%d/status" % pid) as f:
        rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return ticks / os.sysconf("SC_CLK_TCK"), rss


def chargen_line(i):
    return bytes(32 + (i + j) % 95 for j in range(72)) + b"\r\n"


class Tcp(unittest.TestCase):
    def test_echo_tutorial_client_and_c_example(self):
        with Serve("echo") as srv:
            # echo_client.py, as the tutorial writes it.
            s = connect(srv.port)
            s.sendall(b"hello there")
            self.assertEqual(str(s.recv(4096), "utf-8"), "hello there")
            s.close()
            p = subprocess.run([os.path.join(EXAMPLES, "echo_client"),
                                "127.0.0.1", str(srv.port), "from", "C"],
                               capture_output=True, timeout=TIMEOUT)
            self.assertEqual((p.returncode, p.stdout), (0, b"from C\n"))
            self.assertEqual(srv.stop()[0], 0)

    def test_echo_megabyte_with_half_close(self):
        data = os.urandom(1 << 20)
        with Serve("echo") as srv:
            s = connect(srv.port)
            t = threading.Thread(target=lambda: (s.sendall(data),
                                                 s.shutdown(socket.SHUT_WR)))
            t.start()
            got = recv_all(s)
            t.join(TIMEOUT)
            s.close()
            self.assertEqual(got, data)
            rc, err = srv.stop()
            self.assertEqual(rc, 0)
            self.assertIn("%d bytes in, %d out" % (len(data), len(data)), err)

    def test_echo_with_nc_and_socat(self):
        with Serve("echo") as srv:
            rc, out, _ = tool("nc", "-N", "127.0.0.1", str(srv.port),
                              input=b"via nc\n")
            self.assertEqual((rc, out), (0, b"via nc\n"))
            rc, out, _ = tool("socat", "-", "TCP:127.0.0.1:%d" % srv.port,
                              input=b"via socat\n")
            self.assertEqual((rc, out), (0, b"via socat\n"))
            srv.stop()

    def test_upper_tutorial_client(self):
        with Serve("upper") as srv:
            client_socket = connect(srv.port)
            client_socket.send("Hello, server!".encode("utf-8"))
            response = client_socket.recv(1024).decode("utf-8")
            client_socket.close()
            self.assertEqual(response, "HELLO, SERVER!")
            srv.stop()

    def test_discard_reads_everything(self):
        with Serve("discard") as srv:
            s = connect(srv.port)
            s.sendall(b"x" * 300000)
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(recv_all(s), b"")
            s.close()
            rc, err = srv.stop()
            self.assertIn("300000 bytes in, 0 out", err)

    def test_chargen_lines_are_rfc864(self):
        with Serve("chargen") as srv:
            s = connect(srv.port)
            data = b""
            while len(data) < 100 * 74:
                data += s.recv(65536)
            s.close()
            for i in range(100):
                self.assertEqual(data[i * 74:(i + 1) * 74], chargen_line(i % 95))
            srv.stop()

    def test_qotd_builtin_quotes_in_turn(self):
        with Serve("qotd", "--workers", "1") as srv:
            quotes = [ask(srv.port) for _ in range(9)]
            srv.stop()
        for q in quotes:
            self.assertTrue(q.endswith(b"\r\n") and 0 < len(q) <= 512, q)
        self.assertEqual(quotes[0], quotes[8])  # eight built in
        self.assertEqual(len(set(quotes)), 8)

    def test_qotd_file_fortune_format(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write("first line\nsecond line\n%\n\nanother\n%\n")
            f.flush()
            with Serve("qotd", "--workers", "1", "--file", f.name) as srv:
                a, b = ask(srv.port), ask(srv.port)
                srv.stop()
        self.assertEqual(a, b"first line\r\nsecond line\r\n")
        self.assertEqual(b, b"another\r\n")

    def test_daytime_tutorial_client_and_c_example(self):
        with Serve("daytime") as srv:
            s = connect(srv.port)
            s.sendall(b"")
            text = recv_all(s).decode()
            s.close()
            self.assertRegex(text, r"^\w+day, \w+ \d\d, \d{4} \d\d:\d\d:\d\d-UTC\r\n$")
            p = subprocess.run([os.path.join(EXAMPLES, "daytime_client"),
                                "127.0.0.1", str(srv.port)],
                               capture_output=True, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertRegex(p.stdout.decode(), r"-UTC")
            srv.stop()

    def test_time_tutorial_client(self):
        with Serve("time") as srv:
            # The tutorial's time client: 4 bytes, seconds since 1900.
            s = connect(srv.port)
            data = s.recv(4)
            s.close()
            t = struct.unpack("!I", data)[0] - EPOCH_1900
            self.assertLess(abs(t - time.time()), 3)
            srv.stop()


class Hello(unittest.TestCase):
    def setUp(self):
        self.srv = Serve("hello")

    def tearDown(self):
        self.assertEqual(self.srv.stop()[0], 0)
        self.srv.__exit__()

    def request(self, raw, close=True):
        s = connect(self.srv.port)
        s.sendall(raw)
        if close:
            s.shutdown(socket.SHUT_WR)
        data = recv_all(s)
        s.close()
        return data

    def test_keep_alive_http11_with_http_client(self):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=TIMEOUT)
        for path in ("/", "/again"):
            c.request("GET", path)
            r = c.getresponse()
            self.assertEqual((r.status, r.read()), (200, b"Hello, world!\n"))
            self.assertEqual(r.getheader("Content-Length"), "14")
            self.assertFalse(r.will_close)
        c.close()
        self.srv.kill(signal.SIGUSR1)
        self.srv.wait_for(r"stats: .* 1 accepted")

    def test_curl(self):
        rc, out, _ = tool("curl", "-sS", "http://127.0.0.1:%d/x" % self.srv.port)
        self.assertEqual((rc, out), (0, b"Hello, world!\n"))

    def test_http10_closes_unless_keep_alive(self):
        data = self.request(b"GET / HTTP/1.0\r\n\r\n", close=False)
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertIn(b"Connection: close\r\n", data)
        s = connect(self.srv.port)
        for _ in range(2):  # as ab -k asks
            s.sendall(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            head = recv_until(s, b"Hello, world!\n")
            self.assertIn(b"Connection: keep-alive\r\n", head)
        s.close()

    def test_connection_close_and_pipelining(self):
        data = self.request(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
                            b"HEAD /2 HTTP/1.1\r\nHost: x\r\n\r\n"
                            b"GET /3 HTTP/1.1\r\nConnection: close\r\n\r\n"
                            b"GET /4 HTTP/1.1\r\n\r\n", close=False)
        self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 3)
        self.assertEqual(data.count(b"Hello, world!\n"), 2)  # not for HEAD
        self.assertTrue(data.endswith(b"Connection: close\r\n\r\nHello, world!\n"))

    def test_pipelining_client_that_reads_late(self):
        # 100000 requests sent at once, the answers (13 MB, more than the
        # kernel buffers hold) read only after a second: the server stops
        # reading while its answers wait, then goes on, and its memory
        # stays flat meanwhile.
        s = connect(self.srv.port)
        n = 100000
        t = threading.Thread(target=s.sendall, daemon=True,
                             args=(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * n,))
        t.start()
        time.sleep(1)
        _, rss = proc_stat(self.srv.p.pid)
        got, tail, t0 = 0, b"", time.monotonic()
        while got < n:
            chunk = s.recv(1 << 20)
            self.assertTrue(chunk, "closed after %d answers" % got)
            got += (tail + chunk).count(b"Hello, world!\n")
            tail = chunk[-13:]
        self.assertLess(time.monotonic() - t0, 8)
        self.assertLess(rss, 16 << 10, "RSS %d KiB while stalled" % rss)
        t.join(TIMEOUT)
        s.close()

    def test_body_is_read_and_dropped(self):
        body = b"b" * 100000
        data = self.request(b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s"
                            b"GET / HTTP/1.1\r\n\r\n" % (len(body), body))
        self.assertEqual(data.count(b"200 OK"), 2)

    def test_errors(self):
        for raw, status in [(b"NONSENSE\r\n\r\n", b"400"),
                            (b"GET / HTTP/2.0\r\n\r\n", b"505"),
                            (b"GET / HTTP/1.1\r\n folded\r\n\r\n", b"400"),
                            (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b"501"),
                            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", b"414"),
                            (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", b"431")]:
            data = self.request(raw)
            self.assertTrue(data.startswith(b"HTTP/1.1 " + status), (raw[:40], data))
            self.assertIn(b"Connection: close", data)
        self.srv.wait_for(r"cut off: a line or request over 8192 bytes")


class Udp(unittest.TestCase):
    def test_every_udp_service_with_tutorial_client(self):
        with Serve("echo", "--udp") as srv:
            self.assertEqual(udp_ask(srv.udp, b"Hello, UDP!"), b"Hello, UDP!")
            srv.stop()
        with Serve("upper", "--udp") as srv:
            self.assertEqual(udp_ask(srv.udp, b"Hello, UDP!"), b"HELLO, UDP!")
            # The tutorials' UDP client, in C, against the upper server.
            p = subprocess.run([os.path.join(EXAMPLES, "udp_echo_client"),
                                "127.0.0.1", str(srv.udp)],
                               capture_output=True, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"HELLO, UDP!", p.stdout)
            srv.stop()
        with Serve("chargen", "--udp") as srv:
            d = udp_ask(srv.udp)
            self.assertEqual(d, b"".join(chargen_line(i) for i in range(6)))
            srv.stop()
        with Serve("qotd", "--udp") as srv:
            self.assertTrue(udp_ask(srv.udp).endswith(b"\r\n"))
            p = subprocess.run([os.path.join(EXAMPLES, "qotd_client"),
                                "127.0.0.1", str(srv.udp)],
                               capture_output=True, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 0, p.stderr)
            srv.stop()
        with Serve("daytime", "--udp") as srv:
            self.assertRegex(udp_ask(srv.udp).decode(), r"\d\d:\d\d:\d\d-UTC\r\n$")
            srv.stop()
        with Serve("time", "--udp") as srv:
            t = struct.unpack("!I", udp_ask(srv.udp))[0] - EPOCH_1900
            self.assertLess(abs(t - time.time()), 3)
            srv.stop()

    def test_discard_udp_answers_nothing(self):
        with Serve("discard", "--udp", "-v") as srv:
            with self.assertRaises(socket.timeout):
                udp_ask(srv.udp, b"gone")
            srv.wait_for(r"datagram: 4 bytes in, no answer")
            srv.stop()

    def test_tcp_and_udp_on_one_port(self):
        with Serve("echo", "--tcp", "--udp") as srv:
            self.assertEqual(srv.tcp, srv.udp)
            self.assertEqual(udp_ask(srv.udp, b"u"), b"u")
            s = connect(srv.tcp)
            s.sendall(b"t")
            self.assertEqual(s.recv(10), b"t")
            s.close()
            srv.stop()


class Chat(unittest.TestCase):
    def test_three_members_talk(self):
        with Serve("chat") as srv:
            a, b, c = connect(srv.port), connect(srv.port), connect(srv.port)
            for m in (a, b, c):
                recv_until(m, b"/quit\n")
            a.sendall(b"/nick alice\n")
            for m in (a, b, c):
                self.assertIn(b"is now alice\n", recv_until(m, b"alice\n"))
            a.sendall(b"hello all\r\n")
            for m in (b, c):
                self.assertIn(b"<alice> hello all\n", recv_until(m, b"all\n"))
            b.sendall(b"/who\n")
            self.assertRegex(recv_until(b, b"\n"), rb"^\* here \(3\): alice user\d+ user\d+\n$")
            b.close()
            for m in (a, c):
                self.assertRegex(recv_until(m, b"left\n"), rb"\* user\d+ left\n")
            c.sendall(b"bye\n")
            self.assertRegex(recv_until(a, b"bye\n"), rb"<user\d+> bye\n")
            a.close()
            c.close()
            self.assertEqual(srv.stop()[0], 0)

    def test_slow_reader_cut_off_while_others_flow(self):
        with Serve("chat", "--max-queue", "65536") as srv:
            slow = socket.socket()
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.settimeout(TIMEOUT)
            slow.connect(("127.0.0.1", srv.port))  # user1, never reads
            sender, reader = connect(srv.port), connect(srv.port)
            recv_until(reader, b"/quit\n")
            lines = LineCounter(reader)
            n, line = 3000, b"x" * 1000 + b"\n"
            for i in range(0, n, 50):
                sender.sendall(line * 50)
                # The reader keeps up (the sender waits for it, so that
                # it is never the slow one); user1 falls behind.
                lines.wait_for(i + 50)
            sender.sendall(b"END\n")
            data = lines.until(b"<user2> END\n")
            self.assertEqual(data.count(b"x" * 1000), n)
            self.assertIn(b"* user1 left (cut off: too slow)\n",
                          data.replace(b"x" * 1000, b"."))
            srv.wait_for(r"#1 127\.0\.0\.1:\d+ \(user1\) cut off: output cap "
                         r"of 65536 bytes reached by a slow reader")
            for s in (slow, sender, reader):
                s.close()
            rc, err = srv.stop()
            self.assertIn("1 cut off", err)


class LineCounter(threading.Thread):
    """Reads a socket in the background, counting lines."""

    def __init__(self, s):
        super().__init__(daemon=True)
        self.s, self.chunks, self.lines = s, [], 0
        self.cond = threading.Condition()
        self.start()

    def run(self):
        while True:
            try:
                chunk = self.s.recv(1 << 16)
            except OSError:
                chunk = b""
            with self.cond:
                self.chunks.append(chunk)
                self.lines += chunk.count(b"\n")
                self.cond.notify_all()
            if not chunk:
                return

    def wait_for(self, lines):
        with self.cond:
            ok = self.cond.wait_for(lambda: self.lines >= lines or
                                    (self.chunks and not self.chunks[-1]), TIMEOUT)
        assert ok and self.lines >= lines, "%d lines of %d" % (self.lines, lines)

    def until(self, marker):
        with self.cond:
            self.cond.wait_for(lambda: marker in b"".join(self.chunks[-3:]) or
                               (self.chunks and not self.chunks[-1]), TIMEOUT)
            return b"".join(self.chunks)


class Limits(unittest.TestCase):
    def test_idle_timeout_closes_with_a_log_line(self):
        with Serve("echo", "--idle-timeout", "0.3") as srv:
            s = connect(srv.port)
            t0 = time.monotonic()
            self.assertEqual(recv_all(s), b"")
            self.assertLess(time.monotonic() - t0, 3)
            s.close()
            srv.wait_for(r"echo: #1 127\.0\.0\.1:\d+ idle timeout: no traffic "
                         r"for 0\.3 s, closed")
            self.assertIn("1 timed out", srv.stop()[1])

    def refused(self, port):
        """Connect and read: turned away (reset, maybe even before connect
        returns, or an end of stream) rather than served?"""
        try:
            with connect(port) as s:
                s.sendall(b"?")
                return s.recv(10) == b""
        except ConnectionResetError:
            return True

    def test_max_conns(self):
        with Serve("echo", "--max-conns", "2", "--workers", "1") as srv:
            a, b = connect(srv.port), connect(srv.port)
            for s in (a, b):
                s.sendall(b"x")
                self.assertEqual(s.recv(1), b"x")
            self.assertTrue(self.refused(srv.port))
            srv.wait_for(r"127\.0\.0\.1:\d+ refused: --max-conns 2 reached")
            a.close()
            time.sleep(0.2)
            d = connect(srv.port)  # room again
            d.sendall(b"y")
            self.assertEqual(d.recv(1), b"y")
            for s in (b, d):
                s.close()
            srv.stop()

    def test_max_per_ip(self):
        with Serve("echo", "--max-per-ip", "1") as srv:
            a = connect(srv.port)
            a.sendall(b"x")
            self.assertEqual(a.recv(1), b"x")
            self.assertTrue(self.refused(srv.port))
            srv.wait_for(r"refused: --max-per-ip 1 reached")
            a.close()
            self.assertIn("1 refused", srv.stop()[1])

    def test_allow_and_deny(self):
        with Serve("echo", "-v", "--deny", "127.0.0.0/8") as srv:
            self.assertTrue(self.refused(srv.port))
            srv.wait_for(r"refused: by --allow/--deny")
            srv.stop()
        with Serve("echo", "--allow", "127.0.0.1") as srv:
            s = connect(srv.port)
            s.sendall(b"in")
            self.assertEqual(s.recv(2), b"in")
            s.close()
            srv.stop()

    def test_out_of_fds_survives_without_spinning(self):
        with Serve("echo", "--workers", "1", fd_limit=64) as srv:
            clients = []
            for _ in range(200):
                s = socket.socket()
                s.settimeout(TIMEOUT)
                s.connect(("127.0.0.1", srv.port))  # the backlog takes it
                clients.append(s)
            srv.wait_for(r"accept: too many open files \(accepting paused")
            cpu0, _ = proc_stat(srv.p.pid)
            time.sleep(1)
            cpu1, _ = proc_stat(srv.p.pid)
            self.assertLess(cpu1 - cpu0, 0.2, "server spins while out of fds")
            for s in clients:
                s.close()
            deadline = time.monotonic() + 5
            while True:  # served again once the fds are back
                try:
                    s = connect(srv.port)
                    s.settimeout(1)
                    s.sendall(b"again")
                    if s.recv(5) == b"again":
                        s.close()
                        break
                except OSError:
                    pass
                s.close()
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)
            self.assertIsNone(srv.p.poll())
            self.assertEqual(srv.stop()[0], 0)

    def test_echo_client_that_does_not_read_bounds_memory(self):
        data = os.urandom(16 << 20)
        with Serve("echo", "--workers", "1") as srv:
            s = connect(srv.port)
            t = threading.Thread(target=s.sendall, args=(data,), daemon=True)
            _, rss0 = proc_stat(srv.p.pid)
            t.start()
            time.sleep(1)  # the server stops reading; TCP holds us back
            _, rss1 = proc_stat(srv.p.pid)
            self.assertTrue(t.is_alive(), "16 MiB went into the server")
            self.assertLess(rss1 - rss0, 2048, "RSS grew %d KiB" % (rss1 - rss0))
            got = bytearray()
            while len(got) < len(data):  # reading lets it go on
                got += s.recv(1 << 20)
            t.join(TIMEOUT)
            s.close()
            self.assertTrue(got == data)
            srv.stop()

    def test_chargen_reader_that_stops_reading_bounds_memory(self):
        with Serve("chargen", "--workers", "1") as srv:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
            s.settimeout(TIMEOUT)
            s.connect(("127.0.0.1", srv.port))
            s.recv(1000)  # then never again
            time.sleep(0.3)
            _, rss0 = proc_stat(srv.p.pid)
            time.sleep(2)
            _, rss1 = proc_stat(srv.p.pid)
            self.assertLess(rss1 - rss0, 1024, "RSS grew %d KiB" % (rss1 - rss0))
            srv.kill(signal.SIGUSR1)
            line = srv.wait_for(r"stats: 1 open")
            out = int(re.search(r"(\d+) bytes in, (\d+) out", line).group(2))
            self.assertLess(out, 8 << 20)  # flow control held it back
            s.close()
            srv.stop()


class Scale(unittest.TestCase):
    def setUp(self):
        raise_fd_limit()

    def test_1000_concurrent_echo_clients(self):
        with Serve("echo", "--max-per-ip", "0") as srv:
            async def one(i):
                r, w = await asyncio.open_connection("127.0.0.1", srv.port)
                msg = b"client %d says hello\n" % i * 20
                w.write(msg)
                await w.drain()
                got = await r.readexactly(len(msg))
                w.close()
                await w.wait_closed()
                return got == msg

            async def main():
                return await asyncio.wait_for(
                    asyncio.gather(*(one(i) for i in range(1000))), TIMEOUT)
            results = asyncio.run(main())
            self.assertEqual(results.count(True), 1000)
            rc, err = srv.stop()
            self.assertEqual(rc, 0)
            self.assertRegex(err, r"stopped after .*: 0 open, 1000 accepted, 0 refused")

    def test_sigterm_with_1000_open_connections(self):
        with Serve("echo", "--max-per-ip", "0") as srv:
            clients = []
            for _ in range(1000):
                s = connect(srv.port)
                s.sendall(b"?")
                clients.append(s)
            for s in clients:
                self.assertEqual(s.recv(1), b"?")
            t0 = time.monotonic()
            rc, err = srv.stop(signal.SIGTERM)
            self.assertEqual(rc, 0)
            self.assertLess(time.monotonic() - t0, 4)
            self.assertIn("SIGTERM: stopping; 1000 connections open", err)
            self.assertRegex(err, r"stopped after [\d.]+ s: 0 open, 1000 accepted")
            for s in clients[::100]:
                self.assertEqual(s.recv(1), b"")
                s.close()
            for s in clients:
                s.close()

    def test_poll_backend(self):
        """The loop's portable backend serves as the default one does."""
        data = os.urandom(1 << 20)
        with Serve("echo", env={"SKT_LOOP_BACKEND": "poll"}) as srv:
            self.assertEqual(ask(srv.port, data), data)
            socks = [connect(srv.port) for _ in range(200)]
            for i, s in enumerate(socks):
                s.sendall(b"%d" % i)
            for i, s in enumerate(socks):
                self.assertEqual(s.recv(10), b"%d" % i)
                s.close()
            self.assertEqual(srv.stop()[0], 0)

    def test_sigterm_resets_a_stalled_reader_at_the_deadline(self):
        with Serve("chargen") as srv:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(TIMEOUT)
            s.connect(("127.0.0.1", srv.port))
            s.recv(100)  # then stalls: its queue can never drain
            time.sleep(0.2)
            t0 = time.monotonic()
            rc, err = srv.stop(signal.SIGTERM)
            took = time.monotonic() - t0
            s.close()
        self.assertEqual(rc, 0)
        self.assertTrue(1.5 < took < 4, took)
        self.assertRegex(err, r"#1 127\.0\.0\.1:\d+ reset: still open at the "
                         r"shutdown deadline")
        self.assertIn("1 reset at the shutdown deadline", err)

    def test_stats_and_json(self):
        with Serve("echo", "--json", "-v", "--stats", "0.2") as srv:
            s = connect(srv.port)
            s.sendall(b"json")
            s.recv(4)
            s.close()
            srv.wait_for(r'"event":"close".*"bytes_in":4')
            srv.wait_for(r'"event":"stats"')
            rc, err = srv.stop(signal.SIGINT)
        self.assertEqual(rc, 0)
        events = [json.loads(l) for l in err.splitlines()]
        kinds = [e["event"] for e in events]
        for k in ("listening", "open", "close", "stats", "stopping", "stopped"):
            self.assertIn(k, kinds)
        self.assertEqual(events[-1]["accepted"], 1)
        self.assertEqual(events[kinds.index("stopping")]["signal"], "SIGINT")


class Peers(unittest.TestCase):
    """Every service meets a client that resets and one that half-closes."""

    def test_peer_reset_in_every_service(self):
        for name in SERVICES:
            with Serve(name) as srv:
                s = connect(srv.port)
                s.sendall(b"GET / HTTP/1.1\r\n")  # something to read
                time.sleep(0.05)
                reset(s)
                s = connect(srv.port)  # still serving
                s.sendall(b"x\n")
                s.shutdown(socket.SHUT_WR)
                if name != "chargen":
                    recv_all(s)
                s.close()
                rc, err = srv.stop()
                self.assertEqual(rc, 0, name)
                self.assertRegex(err, r"stopped after .*2 accepted", name)

    def test_half_close_in_every_service(self):
        expect = {
            "echo": (b"ping\n", lambda d: d == b"ping\n"),
            "upper": (b"ping\n", lambda d: d == b"PING\n"),
            "discard": (b"ping\n", lambda d: d == b""),
            "qotd": (b"\r\n", lambda d: d.endswith(b"\r\n")),
            "daytime": (b"\r\n", lambda d: d.endswith(b"-UTC\r\n")),
            "time": (b"", lambda d: len(d) == 4),
            "chat": (b"hi\n", lambda d: d.startswith(b"* you are user1")),
            "hello": (b"GET / HTTP/1.1\r\n\r\n", lambda d: d.endswith(b"Hello, world!\n")),
        }
        for name, (send, ok) in expect.items():
            with Serve(name) as srv:
                s = connect(srv.port)
                s.sendall(send)
                s.shutdown(socket.SHUT_WR)
                data = recv_all(s)
                s.close()
                self.assertTrue(ok(data), (name, data[:80]))
                srv.stop()
        with Serve("chargen") as srv:  # RFC 864: goes on after our FIN
            s = connect(srv.port)
            s.shutdown(socket.SHUT_WR)
            time.sleep(0.1)
            data = b""
            while len(data) < 200000:
                data += s.recv(65536)
            s.close()
            srv.stop()


class Usage(unittest.TestCase):
    def check(self, *args, want=None):
        p = subprocess.run([SOCKIT, "serve", *args], capture_output=True,
                           timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        err = p.stderr.decode()
        self.assertEqual((p.returncode, p.stdout), (2, b""), args)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertTrue(err.startswith("sockit: serve: "), err)
        if want:
            self.assertIn(want, err)

    def test_bad_input(self):
        self.check(want="expected one SERVICE")
        self.check("gopher", want="unknown service 'gopher'")
        self.check("chat", "--udp", want="chat has no UDP form")
        self.check("hello", "-u", want="hello has no UDP form")
        self.check("chat", "--workers", "2", want="one loop")
        self.check("echo", "--file", "/dev/null", want="--file is for qotd")
        self.check("echo", "--max-queue", "4096", want="--max-queue is for chat")
        self.check("echo", "--workers", "0", want="--workers: at least 1")
        self.check("echo", "--max-conns", "-1", want="'-1'")
        self.check("echo", "--idle-timeout", "soon", want="'soon'")
        self.check("echo", "--listen", "127.0.0.1:99999", want="99999")
        self.check("echo", "--listen", "unix:/tmp/x", want="IP addresses only")
        self.check("echo", "--allow", "10.0.0.0/33", want="10.0.0.0/33")
        self.check("echo", "--bogus", want="'--bogus'")
        self.check("echo", "--listen", want="needs a value")

    def test_qotd_file_problems(self):
        p = subprocess.run([SOCKIT, "serve", "qotd", "--file", "/nonexistent/q"],
                           capture_output=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"/nonexistent/q: no such file", p.stderr)
        with tempfile.NamedTemporaryFile("w") as f:
            f.write("short\n" + "y" * 600 + "\n")
            f.flush()
            p = subprocess.run([SOCKIT, "serve", "qotd", "--file", f.name],
                               capture_output=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"line 2: a quote over 512 characters (RFC 865)", p.stderr)

    def test_port_in_use(self):
        with Serve("echo", "--workers", "2") as srv:
            p = subprocess.run([SOCKIT, "serve", "echo", "--workers", "2",
                                "--listen", "127.0.0.1:%d" % srv.port],
                               capture_output=True, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(p.stderr.decode(), "sockit: serve: 127.0.0.1:%d/tcp: "
                             "address already in use\n" % srv.port)
            srv.stop()

    @unittest.skipUnless(ROOT, "needs root for a network namespace")
    def test_zero_flags_default_port(self):
        # In a namespace of its own, so the fixed port cannot collide.
        p = subprocess.Popen(["unshare", "-n", "sh", "-c",
                              "ip link set lo up && exec %s serve echo" % SOCKIT],
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            line = p.stderr.readline().decode()
            self.assertEqual(line, "sockit: serve: echo listening on 127.0.0.1:7007/tcp\n")
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(TIMEOUT), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(TIMEOUT)
            p.stderr.close()


if __name__ == "__main__":
    unittest.main()
