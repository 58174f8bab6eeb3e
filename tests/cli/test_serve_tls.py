"""`sockit serve SERVICE --tls`: the services over TLS, checked with python3's
ssl module, curl and openssl s_client as clients; certificates from
tests/lib/mkcerts.sh. Every socket and subprocess has a timeout."""
import asyncio
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from bridgetest import TIMEOUT, recv_all
from clitest import run
from servetest import Serve, raise_fd_limit
import json_schema

HERE = os.path.dirname(os.path.abspath(__file__))
MKCERTS = os.path.join(HERE, "..", "lib", "mkcerts.sh")
PIN_RE = re.compile(r"TLS identity (sha256:[0-9a-f]{64})")


def setUpModule():
    global CERTS
    CERTS = tempfile.mkdtemp(prefix="sockit-serve-tls-")
    subprocess.run(["sh", MKCERTS, CERTS], check=True, timeout=60)


def tearDownModule():
    shutil.rmtree(CERTS, ignore_errors=True)


def cert(name):
    return os.path.join(CERTS, name)


def client_ctx(cafile=None, certfile=None, keyfile=None):
    ctx = ssl.create_default_context(cafile=cafile or cert("ca.pem"))
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    return ctx


def tls_connect(port, ctx, host="localhost"):
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    try:
        return ctx.wrap_socket(raw, server_hostname=host)
    except BaseException:
        raw.close()
        raise


def serve_tls(*args, **kw):
    return Serve(*args, "--tls", "--cert", cert("server.pem"), "--key",
                 cert("server.key"), **kw)


class Usage(unittest.TestCase):
    def test_conflicts_are_usage_errors(self):
        for args, word in [
                (["echo", "--tls", "-u"], "TCP"),
                (["exec", "--tls", "--", "cat"], "exec"),
                (["echo", "--cert", "x.pem"], "--tls"),
                (["echo", "--handshake-timeout", "2"], "--tls"),
                (["echo", "--tls", "--pin", "sha256:" + "0" * 64], "client"),
                (["echo", "--tls", "--tls-min", "1.1"], "1.2"),
        ]:
            rc, out, err = run("serve", *args)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn(word, err, args)

    def test_missing_certificate_is_a_clear_failure(self):
        rc, out, err = run("serve", "echo", "--tls", "--cert",
                           "/nonexistent/cert.pem", "--listen", "127.0.0.1:0")
        self.assertEqual(rc, 1, err)
        self.assertEqual(err, "sockit: serve: --cert /nonexistent/cert.pem: "
                         "no such file or directory\n")


class Services(unittest.TestCase):
    def test_echo_verified_by_name_and_ip(self):
        with serve_tls("echo") as srv:
            for host in ("localhost", "127.0.0.1"):
                with tls_connect(srv.port, client_ctx(), host) as s:
                    self.assertEqual(s.version(), "TLSv1.3")
                    s.sendall(b"over tls\n")
                    self.assertEqual(s.recv(100), b"over tls\n")
            self.assertEqual(srv.stop()[0], 0)

    def test_echo_one_mib_both_ways(self):
        # one thread (asyncio): an SSL object must not be read and written
        # from two threads at once
        data = os.urandom(1 << 20)

        async def exchange(port):
            r, w = await asyncio.open_connection(
                "127.0.0.1", port, ssl=client_ctx(),
                server_hostname="localhost")
            w.write(data)
            send = asyncio.ensure_future(w.drain())
            got = await r.readexactly(len(data))
            await send
            w.close()
            await w.wait_closed()  # close_notify: a clean TLS end
            return got

        with serve_tls("echo") as srv:
            got = asyncio.run(asyncio.wait_for(exchange(srv.port), TIMEOUT))
            self.assertEqual(hashlib.sha256(got).hexdigest(),
                             hashlib.sha256(data).hexdigest(), srv.text())
            rc, log = srv.stop()
            self.assertEqual(rc, 0, log)
            self.assertRegex(log, r" 0 errors, 1 TLS handshakes, 0 failed, "
                             r"1048576 bytes in, 1048576 out")

    def test_hello_with_curl(self):
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        with serve_tls("hello") as srv:
            p = subprocess.run(
                ["curl", "-sS", "--cacert", cert("ca.pem"), "-o", "-",
                 "-w", "%{http_code} %{ssl_verify_result}",
                 "https://localhost:%d/" % srv.port,
                 "https://localhost:%d/again" % srv.port],
                capture_output=True, text=True, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.count("200 0"), 2, p.stdout)

    def test_ephemeral_identity_is_pinned_by_its_printed_fingerprint(self):
        with Serve("echo", "--tls") as srv:
            pin = PIN_RE.search(srv.wait_for(PIN_RE)).group(1)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with tls_connect(srv.port, ctx) as s:
                der = s.getpeercert(binary_form=True)
                self.assertEqual("sha256:" + hashlib.sha256(der).hexdigest(),
                                 pin)
                s.sendall(b"pinned\n")
                self.assertEqual(s.recv(100), b"pinned\n")
            # openssl at its default security level accepts the key and
            # signature, and the certificate verifies as its own anchor.
            pem = ssl.DER_cert_to_PEM_cert(der)
            path = os.path.join(CERTS, "ephemeral.pem")
            with open(path, "w") as f:
                f.write(pem)
            p = subprocess.run(
                ["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port,
                 "-CAfile", path, "-verify_return_error", "-auth_level", "2"],
                input=b"", capture_output=True, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            self.assertIn(b"Verify return code: 0 (ok)", p.stdout)

    def test_client_certificates_required(self):
        with serve_tls("echo", "--verify-client", cert("ca.pem")) as srv:
            with tls_connect(srv.port,
                             client_ctx(certfile=cert("client.pem"),
                                        keyfile=cert("client.key"))) as s:
                s.sendall(b"with a certificate\n")
                self.assertEqual(s.recv(100), b"with a certificate\n")
            # TLS 1.3: the refusal comes after the client's handshake ends,
            # at the first read.
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                with tls_connect(srv.port, client_ctx()) as s:
                    s.sendall(b"without\n")
                    if s.recv(100) == b"":
                        raise ConnectionError("closed")
            srv.wait_for(r"(?i)handshake.*(certificate|cert)")

    def test_alpn_refused_when_none_shared(self):
        with serve_tls("echo", "--alpn", "sockit-test") as srv:
            ctx = client_ctx()
            ctx.set_alpn_protocols(["sockit-test"])
            with tls_connect(srv.port, ctx) as s:
                self.assertEqual(s.selected_alpn_protocol(), "sockit-test")
            ctx = client_ctx()
            ctx.set_alpn_protocols(["h2"])
            with self.assertRaises(ssl.SSLError):
                tls_connect(srv.port, ctx).close()

    def test_resumed_with_a_ticket(self):
        with serve_tls("echo") as srv:
            ctx = client_ctx()
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # session at once
            with tls_connect(srv.port, ctx) as s:
                s.sendall(b"a\n")
                s.recv(10)
                sess = s.session
            raw = socket.create_connection(("127.0.0.1", srv.port),
                                           timeout=TIMEOUT)
            with ctx.wrap_socket(raw, server_hostname="localhost",
                                 session=sess) as s:
                self.assertTrue(s.session_reused)


class Hostile(unittest.TestCase):
    def test_plain_text_to_a_tls_server_is_refused_quickly(self):
        with serve_tls("echo", "-v") as srv:
            with socket.create_connection(("127.0.0.1", srv.port),
                                          timeout=TIMEOUT) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                start = time.monotonic()
                try:
                    data = recv_all(s)
                except ConnectionError:
                    data = b""
                self.assertLess(time.monotonic() - start, TIMEOUT / 2)
                self.assertNotIn(b"GET", data)  # never echoed
            # the peer and OpenSSL's reason, not a bare "failed"
            line = srv.wait_for(r"TLS handshake: ")
            self.assertRegex(line, r"^sockit: serve: echo: 127\.0\.0\.1:\d+ "
                             r"TLS handshake: [a-z]")
            self.assertNotIn("#", line)  # never opened, never numbered
            rc, log = srv.stop()
            self.assertEqual(rc, 0, log)
            self.assertRegex(log, r"0 TLS handshakes, 1 failed")

    def test_silent_client_meets_the_handshake_timeout(self):
        with serve_tls("echo", "--handshake-timeout", "500ms",
                       "--idle-timeout", "60") as srv:
            with socket.create_connection(("127.0.0.1", srv.port),
                                          timeout=TIMEOUT) as s:
                start = time.monotonic()
                try:
                    self.assertEqual(s.recv(10), b"")
                except ConnectionError:
                    pass
                took = time.monotonic() - start
                self.assertGreater(took, 0.3)
                self.assertLess(took, 5)
            srv.wait_for(r"127\.0\.0\.1:\d+ TLS handshake: .*timed out "
                         r"\(--handshake-timeout\)")

    def test_thousand_concurrent_clients(self):
        raise_fd_limit()
        n = 1000
        ctx = client_ctx()

        async def one(i, port, opened, go):
            r, w = await asyncio.open_connection(
                "127.0.0.1", port, ssl=ctx, server_hostname="localhost")
            opened.append(i)
            await go.wait()
            msg = b"client %d\n" % i
            w.write(msg)
            await w.drain()
            line = await r.readline()
            w.close()
            try:
                await w.wait_closed()
            except (ConnectionError, ssl.SSLError):
                pass
            return line == msg

        async def main(port):
            opened, go = [], asyncio.Event()
            tasks = [asyncio.create_task(one(i, port, opened, go))
                     for i in range(n)]
            while len(opened) < n and not any(t.done() for t in tasks):
                await asyncio.sleep(0.05)
            all_open = len(opened) == n
            go.set()
            return all_open, await asyncio.gather(*tasks)

        with serve_tls("echo", "--max-per-ip", "0", "--stats", "1",
                       "--workers", "2") as srv:
            all_open, oks = asyncio.run(
                asyncio.wait_for(main(srv.port), 120))
            self.assertTrue(all_open)
            self.assertEqual(sum(oks), n)
            rc, log = srv.stop()
            self.assertEqual(rc, 0, log)
            done = re.findall(r"stopped after .* (\d+) TLS handshakes, "
                              r"(\d+) failed", log)
            self.assertEqual(done, [(str(n), "0")], log)


class Log(unittest.TestCase):
    def test_close_without_close_notify_is_logged_as_truncated(self):
        with serve_tls("echo", "-v") as srv:
            with tls_connect(srv.port, client_ctx()) as s:
                s.sendall(b"x\n")
                self.assertEqual(s.recv(10), b"x\n")
            # the socket closed under TLS: no close_notify
            srv.wait_for(r"#1 127\.0\.0\.1:\d+ closed: .*truncated\) "
                         r"\(2 bytes in, 2 out")
            rc, log = srv.stop()
            self.assertRegex(log, r" 1 errors, 1 TLS handshakes, 0 failed")

    def test_verbose_open_says_what_was_agreed(self):
        with serve_tls("echo", "-v") as srv:
            ctx = client_ctx()
            with tls_connect(srv.port, ctx) as s:
                s.sendall(b"x\n")
                s.recv(10)
            line = srv.wait_for(r"connected \(")
            self.assertRegex(line, r"#1 127\.0\.0\.1:\d+ connected "
                             r"\(TLSv1\.3 TLS_\w+, sni localhost\)$")

    def test_verbose_open_names_the_client_certificate(self):
        with serve_tls("echo", "-v", "--verify-client", cert("ca.pem")) as srv:
            with tls_connect(srv.port,
                             client_ctx(certfile=cert("client.pem"),
                                        keyfile=cert("client.key"))) as s:
                s.sendall(b"x\n")
                s.recv(10)
            line = srv.wait_for(r"connected \(")
            self.assertRegex(line, r", client CN=sockit test client\)$")

    def test_json_open_has_the_tls_object_and_stats_count(self):
        with serve_tls("echo", "--json", "-v") as srv:
            ctx = client_ctx()
            ctx.set_alpn_protocols(["http/1.1"])
            with tls_connect(srv.port, ctx) as s:
                s.sendall(b"x\n")
                s.recv(10)
                s.unwrap()  # a clean end: not an error
            with socket.create_connection(("127.0.0.1", srv.port),
                                          timeout=TIMEOUT) as s:
                s.sendall(b"plain text\r\n\r\n")
                try:
                    recv_all(s)
                except ConnectionError:
                    pass
            srv.wait_for(r'"what":"handshake"')
            rc, log = srv.stop()
            self.assertEqual(rc, 0, log)
        events = [json.loads(l) for l in log.splitlines() if l.startswith("{")]
        for ev in events:  # "error" is also a failure's type: not here
            if ev["type"] != "error":
                self.assertEqual(json_schema.check("serve", ev), [], ev)
        opened = [e for e in events if e["type"] == "open"]
        self.assertEqual(len(opened), 1, log)
        tls = opened[0]["tls"]
        self.assertEqual(tls["tls_version"], "TLSv1.3")
        self.assertEqual(tls["sni"], "localhost")
        self.assertFalse(tls["resumed"])
        err = [e for e in events if e["type"] == "error"]
        self.assertEqual(len(err), 1, log)
        self.assertEqual(err[0]["what"], "handshake")
        self.assertEqual(err[0]["peer_address"], "127.0.0.1")
        self.assertNotEqual(err[0]["error"]["message"], "")
        stopped = [e for e in events if e["type"] == "stopped"][0]
        self.assertEqual((stopped["handshakes"], stopped["handshakes_failed"]),
                         (1, 1))
        self.assertEqual(stopped["errors"], 0)
        closed = [e for e in events if e["type"] == "close"]
        self.assertEqual([c["reason"] for c in closed], ["closed"], log)

    def test_plain_serve_json_open_has_null_tls(self):
        with Serve("echo", "--json", "-v") as srv:
            with socket.create_connection(("127.0.0.1", srv.port),
                                          timeout=TIMEOUT) as s:
                s.sendall(b"x\n")
                s.recv(10)
            srv.wait_for(r'"type":"open"')
            rc, log = srv.stop()
        opened = [json.loads(l) for l in log.splitlines()
                  if '"type":"open"' in l]
        self.assertIsNone(opened[0]["tls"])


if __name__ == "__main__":
    unittest.main()
