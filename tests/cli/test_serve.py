"""test_serve.py - `sockit serve SERVICE` as a user drives it: python3
clients in the tutorials' style for every service over TCP and UDP, the
tutorials' echo and time clients, the C examples, nc, socat and curl as
clients; chat with three members and with a slow one; peer resets and
half-closes in every service; bad input. Limits, load and signals are in
test_serve_limits.py.

Every server listens on 127.0.0.1:0 and the port it prints is read back;
every subprocess and socket has a timeout.
"""
import os
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from bridgetest import TIMEOUT, recv_all, tool
from clitest import ROOT, SOCKIT
from servetest import (EPOCH_1900, EXAMPLES, SERVICES, LineCounter, Serve,
                       ask, chargen_line, connect, proc_stat, recv_until,
                       reset, udp_ask)


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
                            b"GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
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
        data = self.request(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" % (len(body), body))
        self.assertEqual(data.count(b"200 OK"), 2)

    def test_chunked_body_is_read_and_dropped(self):
        data = self.request(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n"
                            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 2)

    def test_expect_continue(self):
        s = connect(self.srv.port)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        self.assertEqual(recv_until(s, b"\r\n\r\n"), b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"abc")
        self.assertIn(b"Hello, world!\n", recv_until(s, b"Hello, world!\n"))
        s.close()

    def test_smuggling_shapes_are_refused_and_end_the_connection(self):
        # Each breaks a rule of RFC 9112 that two parsers could read two
        # ways; the answer is 400 and the connection ends: the request
        # pipelined after it is never answered, whatever it looks like.
        after = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
        for name, raw in [
                ("no Host", b"GET / HTTP/1.1\r\n\r\n"),
                ("two Host", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
                ("bare CR", b"GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n"),
                ("bare LF", b"GET / HTTP/1.1\nHost: x\n\n"),
                ("NUL in a value", b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n"),
                ("CL and TE", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                ("two CL", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                           b"Content-Length: 40\r\n\r\nabcd"),
                ("CL list", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nabcd"),
                ("space before colon", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 4\r\n\r\nabcd"),
                ("chunked not last", b"POST / HTTP/1.1\r\nHost: x\r\n"
                                     b"Transfer-Encoding: chunked, identity\r\n\r\n"),
                ("bad chunk size", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   b"-4\r\nabcd\r\n0\r\n\r\n")]:
            data = self.request(raw + after)
            self.assertTrue(data.startswith(b"HTTP/1.1 400 Bad Request\r\n"), (name, data))
            self.assertRegex(data, rb"\r\n\r\n400 Bad Request: [a-zA-Z].*\n$", name)
            self.assertIn(b"Connection: close\r\n", data, name)
            self.assertEqual(data.count(b"\r\nServer: sockit\r\n"), 1, (name, data))

    def test_errors(self):
        for raw, status in [(b"NONSENSE\r\n\r\n", b"400"),
                            (b"GET / HTTP/2.0\r\n\r\n", b"505"),
                            (b"GET / HTTP/1.1\r\n folded\r\n\r\n", b"400"),
                            (b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", b"501"),
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
            "hello": (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", lambda d: d.endswith(b"Hello, world!\n")),
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
        self.check("echo", "--workers", "2000", want="'2000'")
        self.check("echo", "--max-conns", "-1", want="'-1'")
        self.check("echo", "--idle-timeout", "soon", want="'soon'")
        self.check("echo", "--listen", "127.0.0.1:99999", want="99999")
        self.check("echo", "--listen", "unix-dgram:/tmp/x",
                   want="IP addresses and unix: stream sockets")
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
