"""test_bench.py - `sockit bench` as a user drives it: each mode against
sockit's own servers and against python3 servers written in the
tutorials' style; servers that corrupt, truncate, stall, answer with the
wrong status or die mid-run, each of which must show up as counted errors
and exit 1, never as a hang or a crash; the open model's rate; -n exact;
--json that parses; usage errors.

Every server listens on 127.0.0.1:0 (or [::1]:0, or a temporary Unix
path) and every run has a timeout. No timing thresholds apart from the
rate check, which compares a count with the asked rate on a light load.
"""
import json
import os
import resource
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest

from clitest import ROOT, SOCKIT, run
from servetest import Serve


def bench(*args, timeout=30):
    """sockit bench --json ARGS: (exit code, the report as a dict, stderr)."""
    rc, out, err = run("bench", "--json", "-q", *args, timeout=timeout)
    report = json.loads(out) if out.strip() else None
    return rc, report, err


class Python:
    """A python3 server in a thread: TCP (socketserver, one thread per
    client, as the tutorials' servers grow into) or UDP."""

    def __init__(self, handler, udp=False, family=socket.AF_INET,
                 unix_path=None):
        if unix_path:
            cls = socketserver.ThreadingUnixStreamServer
            self.server = cls(unix_path, handler)
        else:
            base = (socketserver.ThreadingUDPServer if udp
                    else socketserver.ThreadingTCPServer)
            cls = type("Server", (base,), {"address_family": family,
                                           "allow_reuse_address": True,
                                           "daemon_threads": True})
            host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
            self.server = cls((host, 0), handler)
            self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while True:
                data = self.request.recv(65536)
                if not data:
                    return
                self.request.sendall(data)
        except ConnectionResetError:
            pass  # the benchmark ends with requests in flight


class FlipEcho(socketserver.BaseRequestHandler):
    """Echoes, but flips one bit of the 1000th byte it sends back on its
    first connection; later connections are clean."""
    flipped = False

    def handle(self):
        sent = 0
        while True:
            data = bytearray(self.request.recv(65536))
            if not data:
                return
            if not FlipEcho.flipped and sent <= 1000 < sent + len(data):
                data[1000 - sent] ^= 0x01
                FlipEcho.flipped = True
            sent += len(data)
            self.request.sendall(data)


class HalfEcho(socketserver.BaseRequestHandler):
    """Echoes the first half of the first message, then hangs up."""

    def handle(self):
        data = self.request.recv(65536)
        self.request.sendall(data[:max(1, len(data) // 2)])


class Silent(socketserver.BaseRequestHandler):
    """Accepts and reads, never answers."""

    def handle(self):
        self.request.settimeout(10)
        try:
            while self.request.recv(65536):
                pass
        except OSError:
            pass


class UdpEcho(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)


def http_handler(make_response):
    """A keep-alive HTTP/1.1 server that reads each request head and
    answers with make_response(n), n counting requests per connection."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            buf, n = b"", 0
            while True:
                while b"\r\n\r\n" not in buf:
                    data = self.request.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                n += 1
                answer = make_response(n)
                if answer is None:
                    return
                self.request.sendall(answer)
                if b"Connection: close" in head:
                    return
    return Handler


def ok_response(n):
    return (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
            b"Content-Type: text/plain\r\n\r\nhello")


def chunked_response(n):
    return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")


# nginx on a Unix socket in a temporary directory, one process, closing
# every connection after 10 requests (keepalive_requests, 1000 by default).
NGINX_CONF = """
daemon off;
master_process off;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %(dir)s;
    proxy_temp_path %(dir)s;
    fastcgi_temp_path %(dir)s;
    uwsgi_temp_path %(dir)s;
    scgi_temp_path %(dir)s;
    keepalive_requests 10;
    server {
        listen unix:%(sock)s;
        location / { return 200 "hello\\n"; }
    }
}
"""


class EchoMode(unittest.TestCase):
    def test_sockit_echo_exact_count(self):
        with Serve("echo") as srv:
            rc, r, _ = bench("-n", "2000", "-c", "4",
                             "127.0.0.1:%d" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0)
        self.assertEqual((r["requests"], r["errors"]), (2000, 0))
        self.assertEqual(r["bytes_in"], 2000 * 64)
        self.assertGreater(r["latency_s"]["p50"], 0)
        self.assertLessEqual(r["latency_s"]["p50"], r["latency_s"]["p99"])
        self.assertLessEqual(r["latency_s"]["p99"], r["latency_s"]["max"])

    def test_exact_count_with_threads_and_pipeline(self):
        with Serve("echo") as srv:
            rc, r, _ = bench("-n", "1001", "-c", "7", "-t", "2", "-p", "3",
                             "-s", "100", "127.0.0.1:%d" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0)
        self.assertEqual((r["requests"], r["errors"]), (1001, 0))
        self.assertEqual(r["threads"], 2)

    def test_both_closed_model_disciplines(self):
        with Serve("echo") as srv:
            for nxt in ("now", "poll"):
                rc, r, _ = bench("-n", "3000", "-c", "5", "-p", "2",
                                 "--next", nxt, "127.0.0.1:%d" % srv.port)
                self.assertEqual((rc, r["requests"], r["errors"]),
                                 (0, 3000, 0), nxt)
            srv.stop()

    def test_python_echo_4k_pipelined(self):
        with Python(Echo) as py:
            rc, r, _ = bench("-n", "500", "-c", "3", "-p", "4", "-s", "4096",
                             "127.0.0.1:%d" % py.port)
        self.assertEqual(rc, 0)
        self.assertEqual((r["requests"], r["errors"]), (500, 0))
        self.assertEqual(r["bytes_in"], 500 * 4096)

    def test_ipv6_by_duration(self):
        with Python(Echo, family=socket.AF_INET6) as py:
            rc, r, _ = bench("-d", "0.5", "-c", "2", "[::1]:%d" % py.port)
        self.assertEqual(rc, 0)
        self.assertGreater(r["requests"], 0)
        self.assertEqual((r["address"], r["port"]), ("::1", py.port))
        self.assertAlmostEqual(r["duration_s"], 0.5, delta=0.2)

    def test_unix_socket(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "echo.sock")
            with Python(Echo, unix_path=path):
                rc, r, _ = bench("-n", "300", "-c", "2", "unix:" + path)
        self.assertEqual(rc, 0)
        self.assertEqual((r["requests"], r["transport"]), (300, "unix"))

    def test_flipped_byte_is_a_mismatch(self):
        with Python(FlipEcho) as py:
            rc, r, _ = bench("-n", "200", "-c", "1", "-s", "64",
                             "127.0.0.1:%d" % py.port)
        self.assertEqual(rc, 1)
        self.assertEqual(r["errors_by_kind"]["mismatch"], 1)
        # The request with the bad byte failed; the connection was made
        # again and the rest went through.
        self.assertEqual(r["requests"] + r["errors"], 200)

    def test_truncated_echo_is_short(self):
        with Python(HalfEcho) as py:
            rc, r, _ = bench("-n", "20", "-c", "2",
                             "127.0.0.1:%d" % py.port)
        self.assertEqual(rc, 1)
        self.assertEqual(r["requests"], 0)
        self.assertEqual(r["errors_by_kind"]["short"], 20)

    def test_silent_server_times_out(self):
        with Python(Silent) as py:
            t0 = time.monotonic()
            rc, r, _ = bench("-n", "3", "-c", "1", "--timeout", "200",
                             "127.0.0.1:%d" % py.port)
            elapsed = time.monotonic() - t0
        self.assertEqual(rc, 1)
        self.assertEqual(r["errors_by_kind"]["timeout"], 3)
        self.assertLess(elapsed, 10)

    def test_refused_ends_with_n(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        rc, r, _ = bench("-n", "5", "-c", "2", "127.0.0.1:%d" % port)
        self.assertEqual(rc, 1)
        self.assertEqual(r["errors_by_kind"]["refused"], 5)

    def test_server_dies_mid_run(self):
        srv = Serve("echo")
        try:
            port = srv.port
            killer = threading.Timer(0.7, srv.p.kill)
            killer.start()
            t0 = time.monotonic()
            rc, r, _ = bench("-d", "2", "-c", "8", "127.0.0.1:%d" % port)
            killer.join()
        finally:
            srv.p.kill()
            srv.p.wait()
        self.assertEqual(rc, 1)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertGreater(r["requests"], 0)
        kinds = r["errors_by_kind"]
        self.assertGreater(kinds["reset"] + kinds["refused"] + kinds["short"], 0)

    def test_all_connections_open_before_the_window(self):
        # The ramp outlasts 200 requests by far: every connection must
        # still be up before the first counted request, not only those
        # the ramp had reached.
        with Serve("echo") as srv:
            # One thread: the ramp spreads each thread's connections.
            rc, r, _ = bench("-n", "200", "-c", "50", "-t", "1",
                             "--ramp", "500", "127.0.0.1:%d" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0)
        self.assertEqual((r["requests"], r["connects"]), (200, 50))
        self.assertEqual(r["connections_used"], 50)
        self.assertGreaterEqual(r["setup_s"], 0.45)

    def test_latencies_lie_within_the_window(self):
        # The server holds every answer until 0.7 s after its first
        # connection; the window opens once the ramp is over (0.4 s). The
        # requests that fell due before the window, sent when the server
        # let go, waited longer than the whole 0.5 s window: they must not
        # be in it, and the setup is reported beside it.
        first = []

        class Held(Echo):
            def handle(self):
                if not first:
                    first.append(time.monotonic())
                time.sleep(max(0, first[0] + 0.7 - time.monotonic()))
                super().handle()
        with Python(Held) as py:
            t0 = time.monotonic()
            rc, r, _ = bench("-r", "200", "-c", "5", "-t", "1",
                             "--ramp", "500", "-d", "0.5",
                             "127.0.0.1:%d" % py.port)
            wall = time.monotonic() - t0
        self.assertGreater(r["requests"], 0)
        self.assertAlmostEqual(r["duration_s"], 0.5, delta=0.05)
        self.assertGreaterEqual(r["setup_s"], 0.35)
        self.assertLessEqual(r["latency_s"]["max"],
                             r["duration_s"] * 1.01)
        self.assertGreaterEqual(wall, r["setup_s"] + r["duration_s"])

    def test_sources_rotate_under_a_per_ip_cap(self):
        # Two connections per client address: 8 from 127.0.0.1 alone
        # would be refused; over 127.0.0.1..64 each has its own.
        with Serve("echo", "--max-per-ip", "2") as srv:
            rc, r, _ = bench("-n", "400", "-c", "8",
                             "127.0.0.1:%d" % srv.port)
            srv.stop()
        self.assertEqual((rc, r["requests"], r["errors"]), (0, 400, 0))
        with Serve("hello", "--max-per-ip", "2") as srv:
            rc, r, _ = bench("-n", "400", "-c", "8",
                             "http://127.0.0.1:%d/" % srv.port)
            srv.stop()
        self.assertEqual((rc, r["requests"], r["errors"]), (0, 400, 0))

    def test_resets_after_connect_name_the_cap(self):
        with Serve("echo", "--max-per-ip", "2") as srv:
            port = srv.port
            rc, r, _ = bench("-n", "400", "-c", "8", "--sources", "1",
                             "127.0.0.1:%d" % port)
            rc2, out, _ = run("bench", "-q", "-n", "400", "-c", "8",
                              "--sources", "1", "127.0.0.1:%d" % port,
                              timeout=30)
            srv.stop()
        self.assertEqual((rc, rc2), (1, 1))
        # Every connection over the cap is reset before its first answer,
        # some while their connect's completion is still unread.
        self.assertGreater(r["errors_by_kind"]["reset"], 0)
        self.assertEqual(r["resets_after_connect"],
                         r["errors_by_kind"]["reset"])
        self.assertIn("hint        most errors are connections the server "
                      "closed right after accepting them", out)
        self.assertIn("--max-per-ip", out)
        with Serve("hello", "--max-per-ip", "2") as srv:
            rc, r, _ = bench("-n", "2000", "-c", "50", "--sources", "1",
                             "http://127.0.0.1:%d/" % srv.port)
            srv.stop()
        self.assertEqual(rc, 1)
        self.assertGreater(r["errors_by_kind"]["reset"], 0)
        self.assertEqual(r["resets_after_connect"],
                         r["errors_by_kind"]["reset"])

    def test_open_model_keeps_the_rate(self):
        with Serve("echo") as srv:
            rc, r, _ = bench("-r", "2000", "-d", "2", "-c", "4",
                             "127.0.0.1:%d" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0)
        self.assertEqual(r["model"], "open")
        self.assertAlmostEqual(r["requests_per_s"], 2000, delta=100)

    def test_open_model_exact_count(self):
        with Serve("echo") as srv:
            rc, r, _ = bench("-r", "5000", "-n", "1000", "-c", "3",
                             "127.0.0.1:%d" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0)
        self.assertEqual(r["requests"], 1000)


class Udp(unittest.TestCase):
    def test_python_udp_echo(self):
        with Python(UdpEcho, udp=True) as py:
            rc, r, _ = bench("-u", "-n", "300", "-c", "2", "-p", "2",
                             "127.0.0.1:%d" % py.port)
        self.assertEqual(rc, 0)
        self.assertEqual((r["requests"], r["transport"]), (300, "udp"))

    def test_sockit_udp_echo(self):
        # --udp-rate 0: 2000 answers plus bench's setup probes are past
        # the default burst of 2000 for one address
        with Serve("echo", "--udp", "--udp-rate", "0") as srv:
            rc, r, _ = bench("-u", "-n", "2000", "-c", "4", "-s", "512",
                             "127.0.0.1:%d" % srv.udp)
            srv.stop()
        self.assertEqual(rc, 0)
        self.assertEqual(r["requests"], 2000)

    def test_no_server_counts_losses_not_hangs(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never read: datagrams vanish
        try:
            rc, r, _ = bench("-u", "-n", "4", "-c", "2", "--timeout", "100",
                             "127.0.0.1:%d" % port)
        finally:
            s.close()
        self.assertEqual(rc, 1)
        self.assertEqual(r["errors_by_kind"]["lost"], 4)


class ConnectMode(unittest.TestCase):
    def test_connects_counted(self):
        with Serve("discard") as srv:
            rc, r, _ = bench("-m", "connect", "-n", "300", "-c", "4",
                             "127.0.0.1:%d" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0)
        self.assertEqual((r["requests"], r["connects"]), (300, 300))
        self.assertGreater(r["latency_s"]["p50"], 0)

    def test_with_one_exchange_against_python(self):
        with Python(Echo) as py:
            rc, r, _ = bench("-m", "connect", "-s", "10", "-n", "100",
                             "-c", "2", "127.0.0.1:%d" % py.port)
        self.assertEqual(rc, 0)
        self.assertEqual((r["requests"], r["bytes_in"]), (100, 1000))


class HttpMode(unittest.TestCase):
    def test_sockit_hello_keepalive(self):
        with Serve("hello") as srv:
            # --ramp 0: all five open before the first answer.
            rc, r, _ = bench("-n", "1000", "-c", "5", "--ramp", "0",
                             "http://127.0.0.1:%d/" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0)
        self.assertEqual((r["requests"], r["connects"]), (1000, 5))
        self.assertGreater(r["bytes_in"], 1000 * len("Hello, world!\n"))

    def test_no_keepalive_is_a_connection_per_request(self):
        with Serve("hello") as srv:
            rc, r, _ = bench("-n", "200", "-c", "2", "--no-keepalive",
                             "http://127.0.0.1:%d/" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0)
        self.assertEqual(r["requests"], 200)
        self.assertGreaterEqual(r["connects"], 200)

    def test_pipelined(self):
        with Serve("hello") as srv:
            rc, r, _ = bench("-n", "999", "-c", "3", "-p", "8",
                             "--mode", "http", "127.0.0.1:%d" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0)
        self.assertEqual(r["requests"], 999)

    def test_python_chunked(self):
        with Python(http_handler(chunked_response)) as py:
            rc, r, _ = bench("-n", "200", "-c", "2",
                             "http://127.0.0.1:%d/" % py.port)
        self.assertEqual(rc, 0)
        # Whole responses: head, chunk framing and body, as wrk counts.
        self.assertEqual((r["requests"], r["bytes_in"]),
                         (200, 200 * len(chunked_response(1))))

    def test_wrong_status_counted(self):
        def every_third_404(n):
            if n % 3 == 0:
                return (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return ok_response(n)
        with Python(http_handler(every_third_404)) as py:
            rc, r, _ = bench("-n", "90", "-c", "1",
                             "http://127.0.0.1:%d/" % py.port)
            rc2, r2, _ = bench("-n", "30", "-c", "1", "--status", "404",
                               "http://127.0.0.1:%d/" % py.port)
        self.assertEqual(rc, 1)
        self.assertEqual((r["requests"], r["errors_by_kind"]["bad_status"]),
                         (60, 30))
        self.assertEqual(r2["errors_by_kind"]["bad_status"], 20)
        self.assertEqual(r["statuses"], {"200": 60, "404": 30})
        self.assertEqual(r2["statuses"], {"200": 20, "404": 10})

    def test_nothing_completed_has_no_latency(self):
        not_found = (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        with Python(http_handler(lambda n: not_found)) as py:
            url = "http://127.0.0.1:%d/" % py.port
            rc, r, _ = bench("-n", "10", "-c", "1", url)
            rc2, out, _ = run("bench", "-q", "-n", "10", "-c", "1", url)
        self.assertEqual((rc, rc2), (1, 1))
        self.assertEqual(r["statuses"], {"404": 10})
        self.assertEqual(set(r["latency_s"].values()), {None})
        self.assertIn("latency us  n/a", out)
        self.assertIn("bad_status: HTTP status other than expected "
                      "(404: 10)", out)
        self.assertRegex(out, r"statuses +404: 10\n")

    def test_pipelined_behind_a_close_are_retried(self):
        # As nginx does after keepalive_requests: the 3rd response of each
        # connection says Connection: close, then the server shuts its
        # side and drains what was pipelined behind it (a lingering
        # close, so that the client reads the answer before any reset).
        class CloseAfter3(socketserver.BaseRequestHandler):
            def handle(self):
                buf, n = b"", 0
                while n < 3:
                    while b"\r\n\r\n" not in buf:
                        data = self.request.recv(65536)
                        if not data:
                            return
                        buf += data
                    _, buf = buf.split(b"\r\n\r\n", 1)
                    n += 1
                    close = b"Connection: close\r\n" if n == 3 else b""
                    self.request.sendall(b"HTTP/1.1 200 OK\r\n" + close +
                                         b"Content-Length: 2\r\n\r\nok")
                self.request.shutdown(socket.SHUT_WR)
                self.request.settimeout(5)
                try:
                    while self.request.recv(65536):
                        pass
                except OSError:
                    pass
        with Python(CloseAfter3) as py:
            rc, r, _ = bench("-n", "300", "-c", "2", "-p", "8",
                             "http://127.0.0.1:%d/" % py.port)
        self.assertEqual((rc, r["requests"], r["errors"]), (0, 300, 0))
        self.assertGreater(r["retried"], 0)
        self.assertEqual(r["statuses"], {"200": 300})

    @unittest.skipUnless(shutil.which("nginx"), "nginx is not installed")
    def test_nginx_keepalive_requests(self):
        with tempfile.TemporaryDirectory() as d:
            sock = os.path.join(d, "nginx.sock")
            conf = os.path.join(d, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF % {"dir": d, "sock": sock})
            p = subprocess.Popen(["nginx", "-p", d, "-c", conf],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + 10
                while not os.path.exists(sock):
                    self.assertIsNone(p.poll(), p.stderr.read())
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.02)
                rc, r, _ = bench("-n", "2000", "-c", "4", "-p", "8",
                                 "--mode", "http", "unix:" + sock)
            finally:
                p.terminate()
                p.wait(timeout=10)
                p.stderr.close()
        self.assertEqual((rc, r["requests"], r["errors"]), (0, 2000, 0))
        self.assertGreater(r["retried"], 0)

    def test_method_body_and_content_type(self):
        seen = []

        class Recorder(socketserver.BaseRequestHandler):
            def handle(self):
                buf = b""
                while True:
                    while b"\r\n\r\n" not in buf:
                        data = self.request.recv(65536)
                        if not data:
                            return
                        buf += data
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    lines = head.decode().split("\r\n")
                    fields = dict(l.split(": ", 1) for l in lines[1:])
                    n = int(fields.get("Content-Length", "0"))
                    while len(buf) < n:
                        buf += self.request.recv(65536)
                    seen.append((lines[0], fields.get("Content-Type"),
                                 buf[:n]))
                    buf = buf[n:]
                    self.request.sendall(b"HTTP/1.1 201 Created\r\n"
                                         b"Content-Length: 0\r\n\r\n")
        body = bytes(range(256)) * 40  # 10 KiB, any bytes
        with tempfile.NamedTemporaryFile() as f, Python(Recorder) as py:
            f.write(body)
            f.flush()
            rc, r, _ = bench("-n", "20", "-c", "2", "-p", "2", "-X", "PUT",
                             "--body", f.name, "--content-type",
                             "application/x-test",
                             "http://127.0.0.1:%d/up" % py.port)
        self.assertEqual((rc, r["requests"], r["errors"]), (0, 20, 0))
        self.assertEqual(r["statuses"], {"201": 20})
        self.assertGreaterEqual(len(seen), 20)
        self.assertEqual(set(seen),
                         {("PUT /up HTTP/1.1", "application/x-test", body)})

    def test_head_responses_have_no_body(self):
        # hello announces the length of the body it does not send.
        with Serve("hello") as srv:
            rc, r, _ = bench("-n", "200", "-c", "2", "-X", "HEAD",
                             "http://127.0.0.1:%d/" % srv.port)
            srv.stop()
        self.assertEqual((rc, r["requests"], r["errors"]), (0, 200, 0))

    def test_body_shorter_than_content_length(self):
        class Short(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.recv(65536)
                self.request.sendall(b"HTTP/1.1 200 OK\r\n"
                                     b"Content-Length: 10\r\n\r\nhello")
        with Python(Short) as py:
            rc, r, _ = bench("-n", "5", "-c", "1",
                             "http://127.0.0.1:%d/" % py.port)
        self.assertEqual(rc, 1)
        self.assertEqual(r["errors_by_kind"]["short"], 5)

    def test_garbage_is_a_bad_response(self):
        with Python(http_handler(lambda n: b"SSH-2.0-OpenSSH\r\n\r\n")) as py:
            rc, r, _ = bench("-n", "5", "-c", "1",
                             "http://127.0.0.1:%d/" % py.port)
        self.assertEqual(rc, 1)
        self.assertEqual(r["errors_by_kind"]["bad_response"], 5)

    def test_text_report(self):
        with Serve("hello") as srv:
            rc, out, err = run("bench", "-n", "100", "-c", "1",
                               "http://127.0.0.1:%d/" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0, err)
        self.assertIn("100 requests, 0 errors", out)
        self.assertRegex(out, r"latency us +min [0-9.]+ +p50 [0-9.]+")


class Names(unittest.TestCase):
    """A name with several addresses, as on a normal Debian host: the
    hosts file of a mount namespace made for the test says both
    `::1 localhost` and `127.0.0.1 localhost` (no DNS is asked: the name
    is in the file), and the server listens on 127.0.0.1 only."""

    def bench_localhost(self, url_or_target, *args):
        with tempfile.NamedTemporaryFile("w", suffix=".hosts") as hosts:
            hosts.write("::1 localhost\n127.0.0.1 localhost\n")
            hosts.flush()
            script = ('mount --bind "$1" /etc/hosts && shift && '
                      'exec "$@"')
            p = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh",
                                hosts.name, SOCKIT, "bench", "-q",
                                *args, url_or_target],
                               capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    @unittest.skipUnless(ROOT, "not root: cannot make a mount namespace "
                         "with its own hosts file")
    def test_localhost_uses_the_address_that_answers(self):
        with Serve("hello") as srv:
            rc, out, err = self.bench_localhost(
                "http://localhost:%d/" % srv.port, "--json", "-n", "100")
            rc2, text, _ = self.bench_localhost(
                "localhost:%d" % srv.port, "-m", "http", "-n", "10")
            srv.stop()
        self.assertEqual(rc, 0, err)
        r = json.loads(out)
        self.assertEqual((r["requests"], r["errors"]), (100, 0))
        self.assertEqual((r["address"], r["port"], r["host"]),
                         ("127.0.0.1", srv.port, "localhost"))
        self.assertEqual([o["address"] for o in r["other_addresses"]],
                         ["[::1]:%d" % srv.port])
        self.assertEqual(rc2, 0)
        self.assertIn("  address     127.0.0.1:%d of localhost; not used: "
                      "[::1]:%d (" % (srv.port, srv.port), text)


class Interrupt(unittest.TestCase):
    def interrupted(self, *args):
        """bench ARGS -d 60 against a python3 echo server, SIGINT once the
        server has echoed 200 messages: (exit code, stdout)."""
        echoed = threading.Event()

        class Counting(socketserver.BaseRequestHandler):
            def handle(self):
                total = 0
                try:
                    while True:
                        data = self.request.recv(65536)
                        if not data:
                            return
                        self.request.sendall(data)
                        total += len(data)
                        if total >= 200 * 64:
                            echoed.set()
                except OSError:
                    pass
        with Python(Counting) as py:
            p = subprocess.Popen([SOCKIT, "bench", "-q", *args, "-d", "60",
                                  "-c", "1", "127.0.0.1:%d" % py.port],
                                 stdout=subprocess.PIPE, text=True)
            try:
                self.assertTrue(echoed.wait(30))
                p.send_signal(signal.SIGINT)
                out, _ = p.communicate(timeout=30)
            finally:
                p.kill()
                p.wait()
        return p.returncode, out

    def test_sigint_reports_what_was_measured(self):
        rc, out = self.interrupted("--json")
        r = json.loads(out)
        self.assertEqual((rc, r["interrupted"]), (130, True))
        self.assertGreater(r["requests"], 0)
        self.assertLess(r["duration_s"], 60)
        self.assertEqual(r["errors"], 0)

    def test_sigint_text_report_is_marked(self):
        rc, out = self.interrupted()
        self.assertEqual(rc, 130)
        self.assertRegex(out, r"\n  [0-9.]+ s \(interrupted\), [1-9][0-9]* "
                         r"requests, 0 errors\n")


class Limits(unittest.TestCase):
    def test_connections_over_the_fd_limit_are_refused_up_front(self):
        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        with Serve("echo") as srv:
            p = subprocess.run([SOCKIT, "bench", "-q", "-n", "100", "-c",
                                "100", "127.0.0.1:%d" % srv.port],
                               capture_output=True, text=True, timeout=30,
                               preexec_fn=limit)
            srv.stop()
        self.assertEqual((p.returncode, p.stdout), (1, ""))
        self.assertRegex(p.stderr, r"^sockit: bench: -c 100 needs about "
                         r"\d+ file descriptors, over this process's limit "
                         r"of 64 \(ulimit -n")
        self.assertEqual(len(p.stderr.splitlines()), 1)

    def test_emfile_is_an_error_kind(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        rc, r, _ = bench("-n", "1", "-c", "1", "127.0.0.1:%d" % port)
        self.assertIn("emfile", r["errors_by_kind"])


class Usage(unittest.TestCase):
    def test_bad_input_is_one_line_and_exit_2(self):
        cases = [
            ["-u", "--mode", "http", "127.0.0.1:80"],
            ["-u", "-s", "4", "127.0.0.1:7"],
            ["-m", "connect", "-p", "2", "127.0.0.1:7"],
            ["--path", "/x", "127.0.0.1:7"],
            ["-c", "0", "127.0.0.1:7"],
            ["-d", "-1", "127.0.0.1:7"],
            ["--mode", "ftp", "127.0.0.1:7"],
            ["--next", "later", "127.0.0.1:7"],
            ["-H", "no colon", "http://127.0.0.1:80/"],
            ["--no-keepalive", "-p", "4", "http://127.0.0.1:80/"],
            ["--bogus", "127.0.0.1:7"],
            ["-X", "GET /", "http://127.0.0.1:80/"],
            ["-X", "POST", "127.0.0.1:7"],
            ["--content-type", "text/plain", "http://127.0.0.1:80/"],
            ["--body", "/dev/null", "-H", "Content-Length: 1",
             "http://127.0.0.1:80/"],
            [],
        ]
        for args in cases:
            rc, out, err = run("bench", *args)
            self.assertEqual(rc, 2, args)
            self.assertEqual(out, "", args)
            self.assertEqual(len(err.strip().splitlines()), 1, (args, err))


if __name__ == "__main__":
    unittest.main()
