"""test_bench_tls.py - `sockit bench` over TLS (https:// and --tls echo)
against real peers on loopback: openssl s_server -www and python3's
http.server wrapped in ssl for HTTPS; a python3 ssl echo server, socat
OPENSSL-LISTEN and ncat --ssl for echo; sockit serve --tls. Certificates
come from tests/lib/mkcerts.sh. Handshakes are counted apart from
requests: one per request with --no-keepalive, resumed by default and
never with --no-resume; a server the options do not trust fails before
the run with exit 1 and the reason in one line.

Every server listens on 127.0.0.1 port 0 (the port read back) and every
run has a timeout. No timing thresholds.
"""
import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from clitest import run
from servetest import Serve
import json_schema

HERE = os.path.dirname(os.path.abspath(__file__))
MKCERTS = os.path.join(HERE, "..", "lib", "mkcerts.sh")
TIMEOUT = 30


def setUpModule():
    global CERTS
    CERTS = tempfile.mkdtemp(prefix="sockit-bench-tls-")
    subprocess.run(["sh", MKCERTS, CERTS], check=True, timeout=60)


def tearDownModule():
    shutil.rmtree(CERTS, ignore_errors=True)


def cert(name):
    return os.path.join(CERTS, name)


def server_ctx(certfile="server.pem"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert(certfile), cert("server.key"))
    return ctx


def pin_of(certfile):
    """sha256:HEX of the certificate's DER, as --pin takes it."""
    with open(cert(certfile)) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return "sha256:" + hashlib.sha256(der).hexdigest()


def bench(*args, timeout=TIMEOUT):
    """sockit bench --json -q ARGS: (exit code, report or None, stderr)."""
    rc, out, err = run("bench", "--json", "-q", *args, timeout=timeout)
    report = None
    if out.strip():
        report = json.loads(out)
        if report.get("type") == "report":
            problems = json_schema.check("bench", report)
            assert problems == [], problems
    return rc, report, err


def trust():
    return ["--ca", cert("ca.pem")]


# ---- Peers ----

class PyServer:
    """A python3 TLS server in threads (one per connection): HTTPS
    (http.server, HTTP/1.1 keep-alive) or echo."""

    def __init__(self, kind, certfile="server.pem"):
        ctx = server_ctx(certfile)
        handler = HttpsHandler if kind == "https" else EchoHandler
        base = (http.server.ThreadingHTTPServer if kind == "https"
                else socketserver.ThreadingTCPServer)

        class Server(base):
            allow_reuse_address = True
            daemon_threads = True
            request_queue_size = 128

            def get_request(self):
                raw, addr = self.socket.accept()
                raw.settimeout(TIMEOUT)
                return ctx.wrap_socket(raw, server_side=True,
                                       do_handshake_on_connect=False), addr

        self.server = Server(("127.0.0.1", 0), handler)
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


class HttpsHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        try:
            self.request.do_handshake()  # in this thread, not accept's
        except (OSError, ssl.SSLError):
            self.close_connection = True
        super().setup()

    def do_GET(self):
        body = b"hello over tls\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            self.request.do_handshake()
            while True:
                data = self.request.recv(65536)
                if not data:
                    break
                self.request.sendall(data)
            self.request.unwrap()  # close_notify back
        except (OSError, ssl.SSLError, ValueError):
            pass


class Process:
    """A peer program in the background, its port read from its output
    (pattern, on stdout or stderr) or from /proc when it prints none.
    Both outputs are drained in threads, so that a chatty peer never
    blocks on a full pipe."""

    def __init__(self, argv, pattern=None, stream="stdout"):
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.port = None
        self.text = []
        found = threading.Event()

        def drain(f, watch):
            for line in f:
                self.text.append(line)
                m = re.search(pattern, line) if watch else None
                if m and self.port is None:
                    self.port = int(m.group(1))
                    found.set()
            found.set()  # ended: no port is coming
        self.threads = [
            threading.Thread(target=drain, daemon=True,
                             args=(f, pattern is not None and name == stream))
            for f, name in ((self.p.stdout, "stdout"),
                            (self.p.stderr, "stderr"))]
        for t in self.threads:
            t.start()
        if pattern is None:
            self.port = listening_port(self.p.pid)
        else:
            found.wait(10)
        if self.port is None:
            self.p.kill()
            raise AssertionError("no port from %s: %s" %
                                 (argv[0], "".join(self.text)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.kill()
        self.p.wait(timeout=10)
        for t in self.threads:
            t.join(5)
        self.p.stdout.close()
        self.p.stderr.close()


def listening_port(pid, timeout=10):
    """The port of the TCP socket pid listens on: its fds' socket inodes
    looked up in /proc/net/tcp (state 0A, LISTEN)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inodes = set()
        fd_dir = "/proc/%d/fd" % pid
        for fd in os.listdir(fd_dir):
            try:
                link = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            m = re.match(r"socket:\[(\d+)\]", link)
            if m:
                inodes.add(m.group(1))
        with open("/proc/net/tcp") as f:
            for row in f.readlines()[1:]:
                cols = row.split()
                if cols[3] == "0A" and cols[9] in inodes:
                    return int(cols[1].split(":")[1], 16)
        time.sleep(0.05)
    raise AssertionError("pid %d listens on nothing" % pid)


def s_server(*extra):
    return Process(["openssl", "s_server", "-www", "-accept",
                    "127.0.0.1:0", "-cert", cert("server.pem"), "-key",
                    cert("server.key"), *extra],
                   pattern=r"^ACCEPT 127\.0\.0\.1:(\d+)")


def socat_echo():
    return Process(["socat", "-d", "-d",
                    "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,"
                    "cert=%s,key=%s,verify=0" % (cert("server.pem"),
                                                 cert("server.key")),
                    "EXEC:cat"],
                   pattern=r"listening on AF=2 127\.0\.0\.1:(\d+)",
                   stream="stderr")


def ncat_echo():
    return Process(["ncat", "--ssl", "--ssl-cert", cert("server.pem"),
                    "--ssl-key", cert("server.key"), "-l", "-k",
                    "127.0.0.1", "0", "--exec", "/bin/cat"])


def serve_tls(service):
    return Serve(service, "--tls", "--cert", cert("server.pem"), "--key",
                 cert("server.key"), "--max-per-ip", "0")


# ---- HTTPS ----

class Https(unittest.TestCase):
    def test_s_server_www(self):
        # s_server answers HTTP/1.0, a body up to its close (with
        # close_notify), one connection at a time: every request is a
        # new connection and a handshake
        with s_server() as srv:
            rc, r, err = bench("-n", "40", "-c", "2", *trust(),
                               "https://localhost:%d/" % srv.port)
        self.assertEqual(rc, 0, err)
        self.assertEqual((r["requests"], r["errors"]), (40, 0))
        t = r["tls"]
        self.assertEqual(t["tls_version"], "TLSv1.3")
        self.assertTrue(t["verified"])
        self.assertEqual(t["handshakes"], 40)
        self.assertGreater(t["resumed"], 0)
        self.assertEqual(t["resumed"] + t["full"], t["handshakes"])
        self.assertEqual(r["statuses"], {"200": 40})

    def test_keepalive_one_handshake_per_connection(self):
        with PyServer("https") as py:
            rc, r, err = bench("-n", "300", "-c", "3", "--ramp", "0",
                               *trust(), "https://localhost:%d/" % py.port)
        self.assertEqual(rc, 0, err)
        self.assertEqual((r["requests"], r["errors"]), (300, 0))
        self.assertEqual(r["connects"], 3)
        self.assertIn(r["tls"]["handshakes"], (1, 2, 3))
        self.assertEqual(r["bytes_in"] > 300 * len("hello over tls\n"), True)
        lat = r["tls"]["handshake_latency_s"]
        self.assertGreater(lat["max"], 0)
        self.assertLessEqual(lat["min"], lat["p50"])

    def test_no_keepalive_a_handshake_per_request_resumed(self):
        with PyServer("https") as py:
            rc, r, err = bench("-n", "200", "-c", "4", "--no-keepalive",
                               *trust(), "https://127.0.0.1:%d/" % py.port)
        self.assertEqual(rc, 0, err)
        self.assertEqual(r["requests"], 200)
        t = r["tls"]
        self.assertEqual(t["handshakes"], 200)
        self.assertTrue(t["resumption"])
        # each slot resumes its own last session; only a slot's first
        # handshake can be full
        self.assertGreaterEqual(t["resumed"], 200 - 4)
        self.assertGreaterEqual(r["connects"], 200)

    def test_no_resume_every_handshake_full(self):
        with PyServer("https") as py:
            rc, r, err = bench("-n", "100", "-c", "4", "--no-keepalive",
                               "--no-resume", *trust(),
                               "https://localhost:%d/" % py.port)
        self.assertEqual(rc, 0, err)
        t = r["tls"]
        self.assertEqual((t["handshakes"], t["resumed"], t["full"]),
                         (100, 0, 100))
        self.assertFalse(t["resumption"])

    def test_sockit_serve_hello_resumes_side_by_side(self):
        # 8 connections at once against one server: with a session
        # shared by all, connections that start while it is in use find
        # it spent and run full handshakes
        with serve_tls("hello") as srv:
            rc, r, err = bench("-n", "400", "-c", "8", "--no-keepalive",
                               *trust(), "https://localhost:%d/" % srv.port)
            self.assertEqual(srv.stop()[0], 0)
        self.assertEqual(rc, 0, err)
        t = r["tls"]
        self.assertEqual(t["handshakes"], 400)
        self.assertGreaterEqual(t["resumed"], 400 - 8)
        # the clean ends: close_notify from every connection
        log = srv.text()
        self.assertRegex(log, r" 0 errors, \d+ TLS handshakes, 0 failed")

    def test_text_report(self):
        with PyServer("https") as py:
            rc, out, err = run("bench", "-q", "-n", "50", "-c", "2",
                               "--no-keepalive", *trust(),
                               "https://localhost:%d/" % py.port,
                               timeout=TIMEOUT)
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"\n  tls         TLSv1\.3 \S+, verified; "
                         r"50 handshakes, \d+ resumed\n")
        self.assertRegex(out, r"\n  handshake   min [0-9.]+  p50 [0-9.]+ ")

    def test_plain_run_has_tls_null(self):
        with Serve("hello") as srv:
            rc, r, err = bench("-n", "20", "-c", "1",
                               "http://127.0.0.1:%d/" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0, err)
        self.assertIsNone(r["tls"])


# ---- Echo over TLS ----

class Echo(unittest.TestCase):
    def test_python_echo(self):
        with PyServer("echo") as py:
            rc, r, err = bench("--tls", "-n", "500", "-c", "4", "-s",
                               "1000", *trust(), "localhost:%d" % py.port)
        self.assertEqual(rc, 0, err)
        self.assertEqual((r["requests"], r["errors"]), (500, 0))
        self.assertEqual(r["bytes_in"], 500 * 1000)
        # keep-alive: a handshake per connection at most (one that the
        # server's threads left without a counted request has none)
        self.assertEqual(r["connects"], 4)
        self.assertIn(r["tls"]["handshakes"], (1, 2, 3, 4))

    def test_big_messages_cross_records(self):
        # 100 KiB: several TLS records per message, each read checked
        with PyServer("echo") as py:
            rc, r, err = bench("--tls", "-n", "40", "-c", "2", "-s",
                               "100k", *trust(), "localhost:%d" % py.port)
        self.assertEqual(rc, 0, err)
        self.assertEqual(r["bytes_in"], 40 * 102400)

    def test_socat_no_keepalive(self):
        with socat_echo() as srv:
            rc, r, err = bench("--tls", "-n", "60", "-c", "2",
                               "--no-keepalive", *trust(),
                               "localhost:%d" % srv.port)
        self.assertEqual(rc, 0, err)
        self.assertEqual(r["requests"], 60)
        self.assertEqual(r["tls"]["handshakes"], 60)

    def test_ncat(self):
        with ncat_echo() as srv:
            rc, r, err = bench("--tls", "-n", "200", "-c", "2", *trust(),
                               "127.0.0.1:%d" % srv.port)
        self.assertEqual(rc, 0, err)
        self.assertEqual((r["requests"], r["errors"]), (200, 0))

    def test_sockit_serve_echo_pipelined(self):
        with serve_tls("echo") as srv:
            rc, r, err = bench("--tls", "-n", "2000", "-c", "4", "-p", "8",
                               *trust(), "localhost:%d" % srv.port)
            self.assertEqual(srv.stop()[0], 0)
        self.assertEqual(rc, 0, err)
        self.assertEqual(r["requests"], 2000)

    def test_connect_mode_counts_the_handshake(self):
        with serve_tls("echo") as srv:
            rc, r, err = bench("--tls", "-m", "connect", "-n", "50", "-c",
                               "2", "-s", "10", *trust(),
                               "localhost:%d" % srv.port)
            srv.stop()
        self.assertEqual(rc, 0, err)
        self.assertEqual(r["requests"], 50)
        self.assertEqual(r["tls"]["handshakes"], 50)
        # the echo reads the tickets: the next connect resumes
        self.assertGreater(r["tls"]["resumed"], 0)


# ---- Trust ----

class Trust(unittest.TestCase):
    def test_wrong_pin_fails_before_the_run(self):
        with PyServer("echo") as py:
            rc, out, err = run("bench", "-q", "--tls", "-n", "10", "--pin",
                               "sha256:" + "ab" * 32,
                               "127.0.0.1:%d" % py.port, timeout=TIMEOUT)
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, "")
        self.assertEqual(err, "sockit: bench: 127.0.0.1:%d: the peer's "
                         "certificate matches no pin\n" % py.port)

    def test_right_pin(self):
        # rogue.pem: self-signed, trusted only by its pin
        with Process(["openssl", "s_server", "-www", "-accept",
                      "127.0.0.1:0", "-cert", cert("rogue.pem"), "-key",
                      cert("rogue.key")],
                     pattern=r"^ACCEPT 127\.0\.0\.1:(\d+)") as srv:
            rc, r, err = bench("-n", "5", "-c", "1", "--pin",
                               pin_of("rogue.pem"),
                               "https://127.0.0.1:%d/" % srv.port)
        self.assertEqual(rc, 0, err)
        self.assertTrue(r["tls"]["pinned"])
        self.assertEqual(r["requests"], 5)

    def test_untrusted_fails(self):
        with PyServer("https") as py:
            rc, out, err = run("bench", "-q", "-n", "5",
                               "https://localhost:%d/" % py.port,
                               timeout=TIMEOUT)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertRegex(err, r"^sockit: bench: 127\.0\.0\.1:\d+: "
                         r"certificate verify failed: ")

    def test_wrong_name_fails(self):
        with s_server("-cert", cert("other.pem")) as srv:
            rc, out, err = run("bench", "-q", "-n", "5", *trust(),
                               "https://localhost:%d/" % srv.port,
                               timeout=TIMEOUT)
        self.assertEqual(rc, 1)
        self.assertIn("certificate verify failed: hostname mismatch", err)

    def test_json_failure_is_an_error_object(self):
        with PyServer("echo") as py:
            rc, r, err = bench("--tls", "-n", "5", "--pin",
                               "sha256:" + "cd" * 32,
                               "127.0.0.1:%d" % py.port)
        self.assertEqual(rc, 1)
        self.assertEqual(r["type"], "error")
        self.assertEqual(json_schema.check("bench", r), [])
        self.assertEqual(r["error"]["code"], "ETLSPIN")

    def test_insecure_says_so(self):
        with PyServer("https") as py:
            rc, r, err = bench("-n", "5", "--insecure",
                               "https://localhost:%d/" % py.port)
        self.assertEqual(rc, 0, err)
        self.assertIn("--insecure", err)
        self.assertFalse(r["tls"]["verified"])

    def test_plain_server_is_a_clear_failure(self):
        s = socket.create_server(("127.0.0.1", 0))
        port = s.getsockname()[1]

        def answer():
            c, _ = s.accept()
            c.recv(4096)
            c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            c.close()
        t = threading.Thread(target=answer, daemon=True)
        t.start()
        rc, out, err = run("bench", "-q", "-n", "5", *trust(),
                           "https://localhost:%d/" % port, timeout=TIMEOUT)
        t.join(5)
        s.close()
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"^sockit: bench: 127\.0\.0\.1:\d+: tls "
                         r"handshake failed: ")

    def test_tls_13_only_server_and_a_12_client(self):
        with s_server("-tls1_3") as srv:
            rc, out, err = run("bench", "-q", "-n", "5", *trust(),
                               "https://localhost:%d/" % srv.port,
                               timeout=TIMEOUT)
            self.assertEqual(rc, 0, err)
            rc, out, err = run("bench", "-q", "-n", "5", *trust(),
                               "--tls-min", "1.3",
                               "https://localhost:%d/" % srv.port,
                               timeout=TIMEOUT)
            self.assertEqual(rc, 0, err)
        with s_server("-tls1_2") as srv:
            rc, out, err = run("bench", "-q", "-n", "5", *trust(),
                               "--tls-min", "1.3",
                               "https://localhost:%d/" % srv.port,
                               timeout=TIMEOUT)
        self.assertEqual(rc, 1)
        self.assertIn("sockit: bench: 127.0.0.1:", err)
        self.assertIn("version", err)

    def test_tls12_resumes_too(self):
        with s_server("-tls1_2") as srv:
            rc, r, err = bench("-n", "30", "-c", "2", *trust(),
                               "https://localhost:%d/" % srv.port)
        self.assertEqual(rc, 0, err)
        self.assertEqual(r["tls"]["tls_version"], "TLSv1.2")
        self.assertEqual(r["tls"]["handshakes"], 30)
        self.assertGreater(r["tls"]["resumed"], 0)


# ---- Usage ----

class Usage(unittest.TestCase):
    def test_bad_combinations_are_usage_errors(self):
        cases = [
            (["--tls", "-u", "127.0.0.1:7"], "--udp"),
            (["--ca", "x.pem", "127.0.0.1:7"], "--tls"),
            (["--tls", "http://127.0.0.1:80/"], "https://"),
            (["--verify-client", "x.pem", "https://127.0.0.1/"], "servers"),
            (["--insecure", "--pin", "sha256:" + "0" * 64,
              "https://127.0.0.1/"], "conflict"),
            (["-m", "echo", "https://127.0.0.1/"], "--mode http"),
            (["--tls", "unix:/tmp/x.sock"], "--sni"),
            (["--tls-min", "1.1", "https://127.0.0.1/"], "1.2"),
            (["--no-keepalive", "-m", "connect", "127.0.0.1:7"], "echo"),
            (["--no-keepalive", "-p", "2", "--tls", "127.0.0.1:7"],
             "keep-alive"),
        ]
        for args, word in cases:
            rc, out, err = run("bench", *args)
            self.assertEqual(rc, 2, (args, err))
            self.assertEqual(out, "", args)
            self.assertEqual(len(err.strip().splitlines()), 1, (args, err))
            self.assertIn(word, err, args)

    def test_https_default_port_is_443(self):
        # nothing listens on 443 here: refused, counted, exit 1
        probe = socket.socket()
        busy = probe.connect_ex(("127.0.0.1", 443)) == 0
        probe.close()
        if busy:
            self.skipTest("something listens on 127.0.0.1:443")
        rc, r, err = bench("-n", "1", "-c", "1", "--timeout", "500",
                           "https://127.0.0.1/")
        self.assertEqual(rc, 1, err)
        self.assertEqual(r["port"], 443)


if __name__ == "__main__":
    unittest.main()
