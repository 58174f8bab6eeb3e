"""test_tls.py - connect --tls, listen --tls and check --tls against real
TLS peers on loopback: python3's ssl module (servers in threads, clients
in-process), openssl s_server / s_client, curl, ncat --ssl and socat
OPENSSL, in both directions where the peer has both.

Certificates come from tests/lib/mkcerts.sh (a CA, a server for
localhost / 127.0.0.1 / ::1, a wrong name, an expired and a not-yet-valid
one, a client certificate, a self-signed "rogue"), made once into a
temporary directory, plus one made here that expires in two days (for
--warn-days). Every process and socket has a timeout; every process is
killed at the end of its test if it is still there.

Not checked here: a client's session resumption. One `sockit connect` is
one connection, so two handshakes never share a client's session cache;
the server side's resumption is checked (python resuming against
`listen --tls -k`), and the client's in tests/net/tls_test.c."""
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import json_schema
from bridgetest import TIMEOUT, free_port, read_line, sha, sockit
from clitest import SOCKIT

HERE = os.path.dirname(os.path.abspath(__file__))
MKCERTS = os.path.join(HERE, "..", "lib", "mkcerts.sh")
CERTS = None


def setUpModule():
    global CERTS
    CERTS = tempfile.mkdtemp(prefix="sockit-cli-tls-")
    subprocess.run(["sh", MKCERTS, CERTS], check=True, timeout=60,
                   capture_output=True)
    # A leaf that expires in two days, signed by the CA.
    subprocess.run(["openssl", "x509", "-req", "-in", "server.csr",
                    "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-sha256", "-days", "2", "-extfile", "ext.cnf",
                    "-extensions", "server", "-out", "soon.pem"],
                   cwd=CERTS, check=True, timeout=30, capture_output=True)


def tearDownModule():
    shutil.rmtree(CERTS, ignore_errors=True)


def C(name):
    return os.path.join(CERTS, name)


def pin_of(pem_file):
    """sha256:HEX of a PEM file's first certificate (the leaf of a
    chain) in DER form, as --pin takes it."""
    end = "-----END CERTIFICATE-----"
    with open(pem_file) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read().split(end)[0] + end + "\n")
    return "sha256:" + hashlib.sha256(der).hexdigest()


def spki_pin_of(pem_file):
    """sha256:HEX of a PEM certificate's public key (SubjectPublicKeyInfo,
    DER), by openssl: --pin's other form."""
    pub = subprocess.run(["openssl", "x509", "-in", pem_file, "-pubkey",
                          "-noout"], check=True, capture_output=True,
                         timeout=30).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pub, check=True, capture_output=True,
                         timeout=30).stdout
    return "sha256:" + hashlib.sha256(der).hexdigest()


def server_ctx(cert="server.pem", key="server.key"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(C(cert), C(key))
    return ctx


def read_to_end(conn):
    """What the TLS peer sends until its close_notify; 'TRUNCATED' marks
    a close without one."""
    chunks = []
    while True:
        try:
            data = conn.recv(65536)
        except ssl.SSLEOFError:
            chunks.append(b"TRUNCATED")
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


class TlsServer(threading.Thread):
    """A python ssl server on loopback: count connections (None: until
    stop()), each wrapped with ctx and given to handler(conn) in this
    thread. Results and errors (a refused handshake is one) land in
    .results and .errors, per connection."""

    def __init__(self, handler, ctx=None, host="127.0.0.1", count=1):
        super().__init__(daemon=True)
        self.handler, self.count = handler, count
        self.ctx = ctx or server_ctx()
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.results, self.errors = [], []
        self.running = True
        self.start()

    def run(self):
        served = 0
        deadline = time.monotonic() + TIMEOUT
        while self.running and (self.count is None or served < self.count) \
                and time.monotonic() < deadline:
            try:
                raw, _ = self.sock.accept()
            except socket.timeout:
                continue
            served += 1
            raw.settimeout(TIMEOUT)
            try:
                with self.ctx.wrap_socket(raw, server_side=True) as conn:
                    self.results.append(self.handler(conn))
            except Exception as e:  # the test looks at them
                self.errors.append(e)
            finally:
                raw.close()
        self.sock.close()

    def stop(self):
        self.running = False
        self.join(TIMEOUT)
        return self


def greet_then_read(greeting):
    """Send greeting, then read to the client's end and close cleanly."""
    def handler(conn):
        conn.sendall(greeting)
        got = read_to_end(conn)
        try:
            conn.unwrap()
        except (ssl.SSLError, OSError):
            pass
        return got
    return handler


def cut_after(data, pause=0.2):
    """Send data, then (after pause seconds) close the socket under TLS:
    no close_notify. With no pause the last records and the end reach
    the peer together, to be read in one go."""
    def handler(conn):
        conn.sendall(data)
        time.sleep(pause)
        conn.shutdown(socket.SHUT_RDWR)  # SSLSocket: no close_notify
        return None
    return handler


class Proc:
    """A peer process, killed at the end of the test if still running."""

    def __init__(self, test, cmd, stdin=subprocess.DEVNULL, **kw):
        self.p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, **kw)
        test.addCleanup(self.kill)

    def finish(self, input=None, timeout=TIMEOUT):
        if self.p.stdin is not None and self.p.stdin.closed:
            self.p.stdin = None  # the test ended the input itself
        out, err = self.p.communicate(input=input, timeout=timeout)
        return self.p.returncode, out or b"", (err or b"").decode(
            errors="replace")

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(TIMEOUT)
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            if f is not None:
                f.close()


class TlsListener(Proc):
    """`sockit listen --tls ARGS 127.0.0.1 0`, with the port and (for an
    ephemeral identity) the pin read back from stderr."""

    def __init__(self, test, *args, host="127.0.0.1", stdin=subprocess.DEVNULL,
                 stdout=subprocess.PIPE):
        cmd = [SOCKIT, "listen", "--tls", *args, host, "0"]
        self.p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout,
                                  stderr=subprocess.PIPE)
        test.addCleanup(self.kill)
        self.pin, self.head = None, ""
        while True:
            line = read_line(self.p.stderr)
            self.head += line
            m = re.search(r"TLS identity (sha256:[0-9a-f]{64})", line)
            if m:
                self.pin = m.group(1)
            m = re.match(r"^sockit: listen: listening on \S+:(\d+)\n$", line)
            if m:
                self.port = int(m.group(1))
                return
            if not line:
                self.kill()
                raise AssertionError("no listening line: %r" % self.head)

    def finish(self, input=None, timeout=TIMEOUT):
        rc, out, err = super().finish(input=input, timeout=timeout)
        return rc, out, self.head + err


def wait_listening(port, timeout=TIMEOUT):
    """Until something listens on 127.0.0.1:port (read from /proc, not by
    connecting: a connection would use up a one-shot peer)."""
    want = ":%04X" % port
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(path) as f:
                for line in f.readlines()[1:]:
                    cols = line.split()
                    if cols[1].endswith(want) and cols[3] == "0A":
                        return
        time.sleep(0.05)
    raise AssertionError("nothing listens on port %d" % port)


# ---- connect --tls against python and openssl servers ----

class ConnectVerifies(unittest.TestCase):
    def connect(self, srv, host, *opts, input=b"ping\n", target=None):
        args = [*opts, host, str(srv.port)] if target is None else [*opts,
                                                                    target]
        return sockit("connect", "--tls", *args, input=input)

    def test_ca_signed_verified_by_name(self):
        srv = TlsServer(greet_then_read(b"hello\n"))
        rc, out, err = self.connect(srv, "localhost", "--ca", C("ca.pem"))
        srv.stop()
        self.assertEqual((rc, out), (0, b"hello\n"), err)
        self.assertEqual(srv.results, [b"ping\n"])  # ended by close_notify

    def test_ca_signed_verified_by_ip_san(self):
        for host, target in (("127.0.0.1", None), ("::1", None),
                             (None, "127.0.0.1:%d")):
            srv = TlsServer(greet_then_read(b"hi\n"), host=host or "127.0.0.1")
            t = target % srv.port if target else None
            rc, out, err = self.connect(srv, host, "--ca", C("ca.pem"),
                                        target=t)
            srv.stop()
            self.assertEqual((rc, out), (0, b"hi\n"), (host, err))

    def test_verbose_shows_attempts_and_handshake(self):
        srv = TlsServer(greet_then_read(b"x"))
        rc, _, err = self.connect(srv, "localhost", "-v", "--ca", C("ca.pem"))
        srv.stop()
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"sockit: connect: tried 127\.0\.0\.1:\d+ at")
        self.assertRegex(err, r"sockit: connect: tls TLSv1\.3 TLS_")
        self.assertIn("sockit: connect: tls issuer CN=sockit test CA", err)
        self.assertIn("sockit: connect: tls verified,", err)

    def refused(self, cert, *opts, host="localhost", key="server.key"):
        srv = TlsServer(greet_then_read(b"secret\n"),
                        ctx=server_ctx(cert, key))
        rc, out, err = self.connect(srv, host, *opts)
        srv.stop()
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, b"")  # nothing of the server's reached stdout
        self.assertEqual(err.count("\n"), 1, err)  # one line
        self.assertTrue(err.startswith("sockit: connect: %s:%d: "
                                       % (host, srv.port)), err)
        return err

    def test_wrong_name(self):
        err = self.refused("other.pem", "--ca", C("ca.pem"))
        self.assertIn("certificate verify failed: hostname mismatch", err)

    def test_expired(self):
        err = self.refused("expired.pem", "--ca", C("ca.pem"))
        self.assertIn("certificate verify failed: certificate has expired",
                      err)

    def test_not_yet_valid(self):
        err = self.refused("future.pem", "--ca", C("ca.pem"))
        self.assertIn("certificate verify failed: certificate is not yet "
                      "valid", err)

    def test_system_store_does_not_know_the_test_ca(self):
        err = self.refused("server.pem")  # the chain ends in the test CA
        self.assertIn("certificate verify failed: self-signed certificate "
                      "in certificate chain", err)

    def test_self_signed_refused_without_pin(self):
        err = self.refused("rogue.pem", host="127.0.0.1", key="rogue.key")
        self.assertIn("sockit: connect: 127.0.0.1:", err)
        self.assertTrue(err.endswith(": certificate verify failed: "
                                     "self-signed certificate\n"), err)

    def test_self_signed_accepted_with_its_pin(self):
        srv = TlsServer(greet_then_read(b"pinned\n"),
                        ctx=server_ctx("rogue.pem", "rogue.key"))
        rc, out, err = self.connect(srv, "localhost", "-v", "--pin",
                                    pin_of(C("rogue.pem")))
        srv.stop()
        self.assertEqual((rc, out), (0, b"pinned\n"), err)
        self.assertIn("tls pinned,", err)

    def test_self_signed_refused_with_a_wrong_pin(self):
        err = self.refused("rogue.pem", "--pin", pin_of(C("server.pem")),
                           key="rogue.key")
        self.assertIn("matches no pin", err)

    def test_self_signed_accepted_with_its_key_pin(self):
        spki = spki_pin_of(C("rogue.pem"))
        self.assertNotEqual(spki, pin_of(C("rogue.pem")))
        srv = TlsServer(greet_then_read(b"by key\n"),
                        ctx=server_ctx("rogue.pem", "rogue.key"))
        rc, out, err = self.connect(srv, "localhost", "-v", "--pin", spki)
        srv.stop()
        self.assertEqual((rc, out), (0, b"by key\n"), err)
        self.assertIn("sockit: connect: tls key %s\n" % spki, err)
        self.assertIn("tls pinned,", err)

    def test_wrong_pin_refused_even_when_the_chain_verifies(self):
        # A pin narrows the trust: a CA-signed, rightly named server
        # whose key and certificate match neither pin is refused.
        err = self.refused("server.pem", "--ca", C("ca.pem"), "--pin",
                           pin_of(C("other.pem")), "--pin",
                           spki_pin_of(C("rogue.pem")))
        self.assertTrue(err.endswith(": the peer's certificate matches no "
                                     "pin\n"), err)
        # ... and one of the two right ones lets it in.
        srv = TlsServer(greet_then_read(b"both\n"))
        rc, out, err = self.connect(srv, "localhost", "--ca", C("ca.pem"),
                                    "--pin", pin_of(C("other.pem")), "--pin",
                                    spki_pin_of(C("server.pem")))
        srv.stop()
        self.assertEqual((rc, out), (0, b"both\n"), err)

    def test_insecure_accepts_and_says_so(self):
        srv = TlsServer(greet_then_read(b"anyone\n"),
                        ctx=server_ctx("rogue.pem", "rogue.key"))
        rc, out, err = self.connect(srv, "localhost", "--insecure")
        srv.stop()
        self.assertEqual((rc, out), (0, b"anyone\n"), err)
        self.assertIn("--insecure: the peer's certificate is not verified",
                      err)

    def test_client_certificate_required_missing_and_given(self):
        ctx = server_ctx()
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(C("ca.pem"))
        srv = TlsServer(greet_then_read(b"welcome\n"), ctx=ctx)
        rc, out, err = self.connect(srv, "localhost", "--ca", C("ca.pem"))
        srv.stop()
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, b"")
        self.assertIn("certificate required", err)
        self.assertEqual(len(srv.errors), 1)
        srv = TlsServer(greet_then_read(b"welcome\n"), ctx=ctx)
        rc, out, err = self.connect(srv, "localhost", "--ca", C("ca.pem"),
                                    "--cert", C("client.pem"), "--key",
                                    C("client.key"))
        srv.stop()
        self.assertEqual((rc, out), (0, b"welcome\n"), err)

    def test_sni_sent_overridden_and_left_out(self):
        seen = []
        ctx = server_ctx()
        ctx.sni_callback = lambda s, name, c: seen.append(name)
        for opts, want in (((), "localhost"), (("--sni", "example.test"),
                                                "example.test"),
                           (("--no-sni",), None)):
            srv = TlsServer(greet_then_read(b""), ctx=ctx)
            rc, _, err = self.connect(srv, "localhost", "--ca", C("ca.pem"),
                                      *opts)
            srv.stop()
            self.assertEqual(rc, 0, err)
            self.assertEqual(seen[-1], want)


class ConnectOpenssl(unittest.TestCase):
    def s_server(self, *opts):
        port = free_port()
        p = Proc(self, ["openssl", "s_server", "-quiet", "-naccept", "1",
                        "-accept", "127.0.0.1:%d" % port, "-cert",
                        C("server.pem"), "-key", C("server.key"), *opts],
                 stdin=subprocess.PIPE)
        wait_listening(port)
        return p, port

    def test_alpn_agreed_and_refused(self):
        p, port = self.s_server("-alpn", "h2")
        rc, _, err = sockit("connect", "--tls", "-v", "--ca", C("ca.pem"),
                            "--alpn", "h2,http/1.1", "localhost", str(port),
                            "--eof=close", input=b"")
        p.kill()
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"tls TLSv1\.3 \S+, alpn h2\n")
        p, port = self.s_server("-alpn", "h2")
        rc, _, err = sockit("connect", "--tls", "--ca", C("ca.pem"),
                            "--alpn", "http/1.1", "localhost", str(port))
        p.kill()
        self.assertEqual(rc, 1, err)
        self.assertIn("tls handshake failed: ", err)
        self.assertIn("no application protocol", err)

    def test_tls13_floor_against_a_tls12_only_server(self):
        p, port = self.s_server("-tls1_2")
        t0 = time.monotonic()
        rc, _, err = sockit("connect", "--tls", "--tls-min", "1.3",
                            "--ca", C("ca.pem"), "localhost", str(port))
        p.kill()
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"tls handshake failed: .*(protocol version|"
                              r"unsupported protocol)")
        self.assertLess(time.monotonic() - t0, 5)

    def test_data_both_ways_with_s_server(self):
        p, port = self.s_server()
        c = Proc(self, [SOCKIT, "connect", "--tls", "--ca", C("ca.pem"),
                        "localhost", str(port)], stdin=subprocess.PIPE)
        p.p.stdin.write(b"from s_server\n")
        p.p.stdin.flush()
        c.p.stdin.write(b"from sockit\n")
        c.p.stdin.close()
        got = read_line(p.p.stdout)
        self.assertEqual(got, "from sockit\n")
        self.assertEqual(read_line(c.p.stdout), "from s_server\n")
        p.p.stdin.close()  # s_server ends the session
        rc, _, err = c.finish()
        self.assertEqual(rc, 0, err)


class ConnectEnds(unittest.TestCase):
    def test_close_without_close_notify_is_truncated(self):
        data = os.urandom(100000)
        srv = TlsServer(cut_after(data))
        rc, out, err = self.run_open_stdin(srv.port)
        srv.stop()
        self.assertEqual(rc, 1, err)
        self.assertEqual(sha(out), sha(data))  # every byte before the cut
        self.assertIn("truncated", err)
        self.assertEqual(err, "sockit: connect: localhost:%d: the peer "
                         "closed without close_notify: what arrived may be "
                         "truncated\n" % srv.port)

    def test_bytes_read_with_the_cut_are_delivered(self):
        # The cut right behind the last records: they come out of the
        # same read as the end, and still reach stdout before it.
        for size in (1, 3000, 20000):
            data = os.urandom(size)
            srv = TlsServer(cut_after(data, pause=0))
            rc, out, err = self.run_open_stdin(srv.port)
            srv.stop()
            self.assertEqual(rc, 1, err)
            self.assertEqual((len(out), sha(out)), (size, sha(data)), err)
            self.assertIn("close_notify", err)

    def run_open_stdin(self, port):
        """connect with a stdin that stays open (the server's end, not
        ours, must end it)."""
        r, w = os.pipe()
        try:
            p = subprocess.run([SOCKIT, "connect", "--tls", "--ca",
                                C("ca.pem"), "localhost", str(port)],
                               stdin=r, capture_output=True, timeout=TIMEOUT)
        finally:
            os.close(r)
            os.close(w)
        return p.returncode, p.stdout, p.stderr.decode()

    def test_tls_to_a_plain_text_server(self):
        def banner(conn):
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            conn.settimeout(TIMEOUT)
            conn.recv(4096)

        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        lsock.settimeout(TIMEOUT)
        port = lsock.getsockname()[1]

        def serve():
            conn, _ = lsock.accept()
            with conn:
                banner(conn)

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        t0 = time.monotonic()
        rc, out, err = sockit("connect", "--tls", "--ca", C("ca.pem"),
                              "localhost", str(port))
        t.join(TIMEOUT)
        lsock.close()
        self.assertEqual(rc, 1, err)
        self.assertIn("tls handshake failed: ", err)
        self.assertLess(time.monotonic() - t0, 5)

    def test_stalled_handshake_times_out(self):
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)  # accepted by the kernel, never answered
        port = lsock.getsockname()[1]
        t0 = time.monotonic()
        rc, _, err = sockit("connect", "--tls", "-w", "1", "--ca",
                            C("ca.pem"), "localhost", str(port))
        took = time.monotonic() - t0
        lsock.close()
        self.assertEqual(rc, 1, err)
        self.assertEqual(err, "sockit: connect: localhost:%d: tls handshake "
                         "timed out\n" % port)
        self.assertGreater(took, 0.9)
        self.assertLess(took, 5)

    def test_exec_over_tls(self):
        srv = TlsServer(greet_then_read(b"abc\n"))
        rc, out, err = sockit("connect", "--tls", "--ca", C("ca.pem"),
                              "--sh-exec", "read l; echo \"got $l\"",
                              "localhost", str(srv.port))
        srv.stop()
        self.assertEqual(rc, 0, err)
        self.assertEqual(srv.results, [b"got abc\n"])


class ConnectOtherTools(unittest.TestCase):
    def test_socat_openssl_listen(self):
        port = free_port()
        Proc(self, ["socat", "OPENSSL-LISTEN:%d,bind=127.0.0.1,reuseaddr,"
                    "cert=%s,key=%s,verify=0" % (port, C("server.pem"),
                                                 C("server.key")),
                    "SYSTEM:echo from-socat; cat"])
        wait_listening(port)
        rc, out, err = sockit("connect", "--tls", "--ca", C("ca.pem"),
                              "localhost", str(port), input=b"to-socat\n")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"from-socat\nto-socat\n")

    def test_socat_requires_our_client_certificate(self):
        port = free_port()
        s = Proc(self, ["socat", "OPENSSL-LISTEN:%d,bind=127.0.0.1,reuseaddr,"
                        "cert=%s,key=%s,cafile=%s,verify=1"
                        % (port, C("server.pem"), C("server.key"),
                           C("ca.pem")), "SYSTEM:echo verified-client"])
        wait_listening(port)
        rc, out, err = sockit("connect", "--tls", "--ca", C("ca.pem"),
                              "--cert", C("client.pem"), "--key",
                              C("client.key"), "localhost", str(port))
        self.assertEqual((rc, out), (0, b"verified-client\n"), err)
        s.kill()

    def test_ncat_ssl_listener(self):
        port = free_port()
        Proc(self, ["ncat", "--ssl", "--ssl-cert", C("server.pem"),
                    "--ssl-key", C("server.key"), "-l", "127.0.0.1",
                    str(port), "--sh-exec", "echo from-ncat; cat"])
        wait_listening(port)
        c = Proc(self, [SOCKIT, "connect", "--tls", "--ca", C("ca.pem"),
                        "localhost", str(port)], stdin=subprocess.PIPE)
        self.assertEqual(read_line(c.p.stdout), "from-ncat\n")
        c.p.stdin.write(b"to-ncat\n")
        c.p.stdin.flush()
        self.assertEqual(read_line(c.p.stdout), "to-ncat\n")
        rc, _, err = c.finish(input=b"")
        self.assertEqual(rc, 0, err)


# ---- listen --tls against clients ----

def client_ctx(cafile=None, pinless=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if pinless:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.load_verify_locations(cafile)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=2")
    return ctx


def tls_client(port, ctx, send=b"", host="localhost", session=None,
               addr="127.0.0.1"):
    """One python TLS client: send, read to the end; (data, ssl socket
    facts)."""
    with socket.create_connection((addr, port), TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname=host,
                             session=session) as conn:
            conn.sendall(send)
            got = read_to_end(conn)
            facts = {"reused": conn.session_reused,
                     "session": conn.session,
                     "der": conn.getpeercert(binary_form=True),
                     "version": conn.version()}
            try:
                conn.unwrap()
            except (ssl.SSLError, OSError):
                pass
    return got, facts


def plain_request(port):
    """An HTTP request in plain text to a TLS listener; what came back (an
    alert, or nothing: the close may be a reset, as the request was not
    all read)."""
    with socket.create_connection(("127.0.0.1", port), TIMEOUT) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        s.settimeout(TIMEOUT)
        try:
            return s.recv(100)
        except ConnectionResetError:
            return b""


class ListenServes(unittest.TestCase):
    def test_ca_signed_identity_to_python_and_back(self):
        l = TlsListener(self, "--cert", C("server.pem"), "--key",
                        C("server.key"), "--send", "greeting\\n")
        got, facts = tls_client(l.port, client_ctx(C("ca.pem")),
                                send=b"from python\n")
        rc, out, err = l.finish()
        self.assertEqual(got, b"greeting\n")
        self.assertEqual((rc, out), (0, b"from python\n"), err)
        self.assertIsNone(l.pin)  # no ephemeral identity with --cert

    def test_ephemeral_identity_pinned_trusted_and_resumed(self):
        l = TlsListener(self, "-k", "-v", "--send", "eph\\n")
        self.assertIsNotNone(l.pin, l.head)
        # Pinned: the certificate's SHA-256 is the pin printed.
        loose = client_ctx(pinless=True)
        got, first = tls_client(l.port, loose)
        self.assertEqual(got, b"eph\n")
        self.assertEqual("sha256:" + hashlib.sha256(first["der"]).hexdigest(),
                         l.pin)
        # Resumed: the second handshake with the first one's session.
        got, second = tls_client(l.port, loose, session=first["session"])
        self.assertEqual(got, b"eph\n")
        self.assertTrue(second["reused"])
        # Trusted: the certificate as the only CA, names and security
        # level 2 checked, by python and by openssl s_client.
        eph = os.path.join(CERTS, "eph-%d.pem" % l.port)
        with open(eph, "w") as f:
            f.write(ssl.DER_cert_to_PEM_cert(first["der"]))
        got, _ = tls_client(l.port, client_ctx(eph))
        self.assertEqual(got, b"eph\n")
        p = subprocess.run(["openssl", "s_client", "-connect",
                            "127.0.0.1:%d" % l.port, "-CAfile", eph,
                            "-verify_return_error", "-verify_hostname",
                            "localhost", "-auth_level", "2", "-ign_eof"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)
        self.assertIn(b"Verify return code: 0 (ok)", p.stdout)
        self.assertIn(b"eph\n", p.stdout)
        l.p.terminate()
        rc, _, err = l.finish()
        self.assertEqual(len(re.findall(r"tls TLSv1\.3 \S+, resumed\n", err)),
                         1, err)
        self.assertEqual(err.count("connection from"), 4, err)

    def test_openssl_s_client_verifies(self):
        l = TlsListener(self, "--cert", C("server.pem"), "--key",
                        C("server.key"), "--send", "to s_client\\n")
        p = subprocess.run(["openssl", "s_client", "-connect",
                            "127.0.0.1:%d" % l.port, "-CAfile", C("ca.pem"),
                            "-verify_return_error", "-verify_hostname",
                            "localhost", "-ign_eof"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)
        rc, _, err = l.finish()
        self.assertIn(b"Verify return code: 0 (ok)", p.stdout)
        self.assertIn(b"to s_client\n", p.stdout)
        self.assertEqual(rc, 0, err)

    def test_curl_gets_an_http_response(self):
        l = TlsListener(self, "--cert", C("server.pem"), "--key",
                        C("server.key"), "--send",
                        "HTTP/1.0 200 OK\\r\\nContent-Length: 6\\r\\n"
                        "\\r\\nhello\\n")
        p = subprocess.run(["curl", "-sS", "--cacert", C("ca.pem"),
                            "https://localhost:%d/x" % l.port],
                           capture_output=True, timeout=TIMEOUT)
        rc, out, err = l.finish()
        self.assertEqual((p.returncode, p.stdout), (0, b"hello\n"), p.stderr)
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith(b"GET /x HTTP/1.1\r\n"), out)

    def test_ncat_ssl_verify_client(self):
        l = TlsListener(self, "--cert", C("server.pem"), "--key",
                        C("server.key"), stdin=subprocess.PIPE)
        n = Proc(self, ["ncat", "--ssl", "--ssl-verify", "--ssl-trustfile",
                        C("ca.pem"), "localhost", str(l.port)],
                 stdin=subprocess.PIPE)
        n.p.stdin.write(b"from ncat\n")
        n.p.stdin.flush()
        self.assertEqual(read_line(l.p.stdout), "from ncat\n")
        l.p.stdin.write(b"to ncat\n")
        l.p.stdin.close()
        self.assertEqual(read_line(n.p.stdout), "to ncat\n")
        n.p.stdin.close()
        n.finish()
        rc, _, err = l.finish()
        # ncat closes without close_notify: listen says so, and fails.
        self.assertEqual(rc, 1, err)
        self.assertIn("truncated", err)

    def test_socat_openssl_client_both_ways(self):
        l = TlsListener(self, "--cert", C("server.pem"), "--key",
                        C("server.key"), "--send", "to socat\\n")
        p = subprocess.run(["socat", "-", "OPENSSL:localhost:%d,cafile=%s"
                            % (l.port, C("ca.pem"))], input=b"from socat\n",
                           capture_output=True, timeout=TIMEOUT)
        rc, out, err = l.finish()
        self.assertEqual((p.returncode, p.stdout), (0, b"to socat\n"),
                         p.stderr)
        self.assertEqual((rc, out), (0, b"from socat\n"), err)

    def test_verify_client_required_missing_and_given(self):
        base = ["--cert", C("server.pem"), "--key", C("server.key"),
                "--verify-client", C("ca.pem")]
        l = TlsListener(self, *base, "--send", "hi\\n")
        p = subprocess.run(["socat", "-", "OPENSSL:localhost:%d,cafile=%s,"
                            "cert=%s,key=%s" % (l.port, C("ca.pem"),
                                                C("client.pem"),
                                                C("client.key"))],
                           input=b"", capture_output=True, timeout=TIMEOUT)
        rc, _, err = l.finish()
        self.assertEqual((p.returncode, p.stdout), (0, b"hi\n"), p.stderr)
        self.assertEqual(rc, 0, err)
        l = TlsListener(self, *base)
        with self.assertRaises((ssl.SSLError, OSError)):
            tls_client(l.port, client_ctx(C("ca.pem")), send=b"x")
        rc, _, err = l.finish()
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"sockit: listen: 127\.0\.0\.1:\d+: tls "
                              r"handshake failed: peer did not return a "
                              r"certificate\n")

    def test_alpn_agreed_by_listen(self):
        l = TlsListener(self, "-v", "--alpn", "h2,http/1.1", "--send",
                        "alpn\\n")
        p = subprocess.run(["openssl", "s_client", "-connect",
                            "127.0.0.1:%d" % l.port, "-alpn",
                            "http/1.1,h2", "-ign_eof"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)
        rc, _, err = l.finish()
        # The server's preference wins: h2, which both lists hold.
        self.assertIn(b"ALPN protocol: h2\n", p.stdout)
        self.assertIn(b"alpn\n", p.stdout)
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"sockit: listen: tls TLSv1\.3 \S+, alpn h2\n")

    def test_alpn_refused_by_listen(self):
        l = TlsListener(self, "--alpn", "h2")
        p = subprocess.run(["openssl", "s_client", "-connect",
                            "127.0.0.1:%d" % l.port, "-alpn", "http/1.1"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)
        rc, _, err = l.finish()
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(rc, 1, err)
        self.assertIn("no application protocol", err)

    def test_tls12_client_against_a_tls13_floor(self):
        l = TlsListener(self, "--tls-min", "1.3")
        p = subprocess.run(["openssl", "s_client", "-connect",
                            "127.0.0.1:%d" % l.port, "-tls1_2"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)
        rc, _, err = l.finish()
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"protocol version", p.stderr)
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"tls handshake failed: .*protocol")

    def test_keep_serves_one_client_after_another(self):
        l = TlsListener(self, "-k", "--send", "each\\n")
        for i in range(3):
            got, _ = tls_client(l.port, client_ctx(pinless=True),
                                send=b"client %d\n" % i)
            self.assertEqual(got, b"each\n")
        # one at a time: a fourth served means the third is written out
        got, _ = tls_client(l.port, client_ctx(pinless=True), send=b"")
        self.assertEqual(got, b"each\n")
        l.p.terminate()
        _, out, _ = l.finish()
        self.assertEqual(out, b"client 0\nclient 1\nclient 2\n")

    def test_keep_survives_a_failed_handshake(self):
        l = TlsListener(self, "-k", "-w", "2", "--send", "ok\\n")
        plain_request(l.port)
        got, _ = tls_client(l.port, client_ctx(pinless=True))
        self.assertEqual(got, b"ok\n")
        l.p.terminate()
        _, _, err = l.finish()
        self.assertIn("tls handshake failed: http request", err)

    def test_plain_text_to_a_tls_listener(self):
        l = TlsListener(self)
        t0 = time.monotonic()
        answer = plain_request(l.port)
        rc, out, err = l.finish()
        self.assertEqual(rc, 1, err)
        self.assertNotIn(b"GET", answer)
        self.assertEqual(out, b"")
        self.assertRegex(err, r"sockit: listen: 127\.0\.0\.1:\d+: tls "
                              r"handshake failed: http request\n$")
        self.assertLess(time.monotonic() - t0, 5)

    def test_silent_client_times_out(self):
        l = TlsListener(self, "-w", "1")
        with socket.create_connection(("127.0.0.1", l.port), TIMEOUT):
            t0 = time.monotonic()
            rc, _, err = l.finish()
            took = time.monotonic() - t0
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"127\.0\.0\.1:\d+: tls handshake timed out\n$")
        self.assertLess(took, 5)

    def test_client_cut_off_is_truncated(self):
        l = TlsListener(self, stdin=subprocess.PIPE)
        data = os.urandom(50000)
        with socket.create_connection(("127.0.0.1", l.port), TIMEOUT) as raw:
            conn = client_ctx(pinless=True).wrap_socket(raw)
            conn.sendall(data)
            time.sleep(0.2)
            conn.shutdown(socket.SHUT_RDWR)  # no close_notify
            conn.close()
        rc, out, err = l.finish(input=b"")
        self.assertEqual(rc, 1, err)
        self.assertEqual(sha(out), sha(data))
        self.assertIn("truncated", err)

    def test_exec_over_tls(self):
        l = TlsListener(self, "--sh-exec", "tr a-z A-Z")
        rc, out, err = sockit("connect", "--tls", "--pin", l.pin,
                              "127.0.0.1", str(l.port),
                              input=b"shout this\n")
        lrc, _, lerr = l.finish()
        self.assertEqual((rc, out), (0, b"SHOUT THIS\n"), err)
        self.assertEqual(lrc, 0, lerr)

    def test_listen_host_in_the_ephemeral_names(self):
        # A host that is not one of the loopback names comes first in the
        # identity's names (127.0.0.2: loopback, yet not 127.0.0.1).
        l = TlsListener(self, "--send", "named\n", host="127.0.0.2")
        self.assertIn("self-signed for 127.0.0.2 and more", l.head)
        got, facts = tls_client(l.port, client_ctx(pinless=True),
                                addr="127.0.0.2")
        eph = os.path.join(CERTS, "eph2-%d.pem" % l.port)
        with open(eph, "w") as f:
            f.write(ssl.DER_cert_to_PEM_cert(facts["der"]))
        l.finish()
        l = TlsListener(self, "-k", "--send", "named\n", host="127.0.0.2")
        # Not the same identity (a new one per run), so trust this one.
        _, facts = tls_client(l.port, client_ctx(pinless=True),
                              addr="127.0.0.2")
        with open(eph, "w") as f:
            f.write(ssl.DER_cert_to_PEM_cert(facts["der"]))
        got, _ = tls_client(l.port, client_ctx(eph), host="127.0.0.2",
                            addr="127.0.0.2")
        self.assertEqual(got, b"named\n")
        l.p.terminate()
        l.finish()


class Bulk(unittest.TestCase):
    def test_one_mebibyte_random_both_ways(self):
        d = tempfile.mkdtemp(prefix="sockit-tls-bulk-")
        self.addCleanup(shutil.rmtree, d, True)
        paths = {k: os.path.join(d, k) for k in ("a", "b", "la", "cb")}
        up, down = os.urandom(1 << 20), os.urandom(1 << 20)
        for k, v in (("a", up), ("b", down)):
            with open(paths[k], "wb") as f:
                f.write(v)
        with open(paths["b"], "rb") as lin, open(paths["la"], "wb") as lout:
            l = TlsListener(self, stdin=lin, stdout=lout)
            with open(paths["a"], "rb") as cin, \
                    open(paths["cb"], "wb") as cout:
                p = subprocess.run([SOCKIT, "connect", "--tls", "--pin",
                                    l.pin, "localhost", str(l.port)],
                                   stdin=cin, stdout=cout,
                                   stderr=subprocess.PIPE, timeout=TIMEOUT)
            rc, _, err = l.finish()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(rc, 0, err)
        with open(paths["la"], "rb") as f:
            self.assertEqual(sha(f.read()), sha(up))
        with open(paths["cb"], "rb") as f:
            self.assertEqual(sha(f.read()), sha(down))


# ---- check --tls ----

class Check(unittest.TestCase):
    def server(self, cert="server.pem", key="server.key"):
        srv = TlsServer(lambda conn: read_to_end(conn),
                        ctx=server_ctx(cert, key), count=None)
        self.addCleanup(srv.stop)
        return srv

    def test_table_of_a_verified_certificate(self):
        srv = self.server()
        rc, out, err = sockit("check", "--tls", "--ca", C("ca.pem"),
                              "localhost", str(srv.port))
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertRegex(text, r"^127\.0\.0\.1:%d open \(" % srv.port)
        self.assertRegex(text, r"\n  tls       TLSv1\.3 TLS_\S+\n")
        self.assertIn("\n  subject   CN=localhost\n", text)
        self.assertIn("\n  issuer    CN=sockit test CA\n", text)
        self.assertIn("\n  san       DNS:localhost, IP:127.0.0.1, IP:::1\n",
                      text)
        self.assertRegex(text, r"\n  expires   \d{4}-\d\d-\d\dT\S+Z \(in "
                               r"36[45] days\)\n")
        self.assertTrue(text.endswith("\n  verified  yes\n"), text)

    def test_expired_is_shown_and_fails(self):
        srv = self.server("expired.pem")
        rc, out, err = sockit("check", "--tls", "--ca", C("ca.pem"),
                              "localhost", str(srv.port))
        text = out.decode()
        self.assertEqual(rc, 1, text)
        self.assertRegex(text, r"  expires   2020-02-01T00:00:00Z \(expired "
                               r"\d+ days ago\)\n")
        self.assertIn("  verified  no: certificate verify failed: "
                      "certificate has expired\n", text)

    def test_pin_and_wrong_pin(self):
        srv = self.server("rogue.pem", "rogue.key")
        rc, out, _ = sockit("check", "--tls", "--pin", pin_of(C("rogue.pem")),
                            "localhost", str(srv.port))
        self.assertEqual(rc, 0, out)
        self.assertIn(b"  verified  yes (pinned)\n", out)
        rc, out, _ = sockit("check", "--tls", "--pin", pin_of(C("ca.pem")),
                            "localhost", str(srv.port))
        self.assertEqual(rc, 1, out)
        self.assertIn(b"  verified  no: the peer's certificate matches no "
                      b"pin\n", out)
        self.assertIn(b"  subject   CN=localhost\n", out)

    def test_several_ports_each_checked(self):
        good, rogue = self.server(), self.server("rogue.pem", "rogue.key")
        closed = free_port()
        rc, out, _ = sockit("check", "--tls", "--ca", C("ca.pem"),
                            "127.0.0.1", str(good.port), str(rogue.port),
                            str(closed))
        text = out.decode()
        self.assertEqual(rc, 1, text)
        blocks = re.split(r"\n(?=\S)", text.strip())
        self.assertEqual(len(blocks), 3, text)
        self.assertTrue(blocks[0].endswith("verified  yes"), blocks[0])
        self.assertIn("verified  no: certificate verify failed: self-signed "
                      "certificate", blocks[1])
        self.assertEqual(blocks[2], "127.0.0.1:%d closed (refused)" % closed)

    def test_warn_days(self):
        srv = self.server("soon.pem")
        rc, out, _ = sockit("check", "--tls", "--ca", C("ca.pem"),
                            "--warn-days", "5", "localhost", str(srv.port))
        self.assertEqual(rc, 1, out)
        self.assertIn(b"  expires   ", out)
        self.assertIn(b"  warning   expires within 5 days (--warn-days)\n",
                      out)
        self.assertIn(b"  verified  yes\n", out)
        rc, out, _ = sockit("check", "--tls", "--ca", C("ca.pem"),
                            "--warn-days", "1", "localhost", str(srv.port))
        self.assertEqual(rc, 0, out)
        self.assertNotIn(b"warning", out)

    def test_json(self):
        srv = self.server("soon.pem")
        bad = self.server("other.pem")
        rc, out, _ = sockit("check", "--json", "--tls", "--ca", C("ca.pem"),
                            "--warn-days", "30", "localhost", str(srv.port),
                            str(bad.port))
        self.assertEqual(rc, 1)
        rows = [json.loads(l) for l in out.decode().splitlines()]
        for row in rows:
            self.assertEqual(json_schema.check("check", row), [], row)
        soon, other = rows[0]["tls"], rows[1]["tls"]
        self.assertIsNone(soon["error"])
        self.assertTrue(soon["verified"])
        self.assertFalse(soon["pinned"])
        self.assertIn(soon["days_left"], (1, 2))
        self.assertEqual(soon["warn_days"], 30)
        self.assertTrue(soon["expiring"])
        self.assertEqual(soon["issuer"], "CN=sockit test CA")
        self.assertEqual(soon["fingerprint"], pin_of(C("soon.pem")))
        self.assertRegex(soon["not_after"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(other["error"]["code"], "ETLSNAME")
        self.assertEqual(other["error"]["message"],
                         "certificate verify failed: hostname mismatch")
        self.assertFalse(other["verified"])
        self.assertEqual(other["san"], "DNS:other.invalid")

    def test_json_port_not_open_has_null_tls(self):
        port = free_port()
        rc, out, _ = sockit("check", "--json", "--tls", "127.0.0.1",
                            str(port))
        self.assertEqual(rc, 1)
        row = json.loads(out)
        self.assertEqual(json_schema.check("check", row), [], row)
        self.assertIsNone(row["tls"])

    def test_plain_port_fails_the_handshake(self):
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(4)
        self.addCleanup(lsock.close)

        def serve():
            lsock.settimeout(TIMEOUT)
            conn, _ = lsock.accept()
            with conn:
                conn.sendall(b"220 smtp ready\r\n")
                conn.recv(100)

        threading.Thread(target=serve, daemon=True).start()
        port = lsock.getsockname()[1]
        rc, out, _ = sockit("check", "--tls", "127.0.0.1", str(port))
        self.assertEqual(rc, 1, out)
        self.assertRegex(out.decode(), r"\n  tls       failed: tls handshake "
                                       r"failed: \S.*\n$")


# ---- usage ----

class Usage(unittest.TestCase):
    def test_usage_errors_exit_2(self):
        cases = [
            (["connect", "--pin", "sha256:00", "localhost", "1"],
             "--pin needs --tls"),
            (["connect", "--tls", "-u", "localhost", "1"],
             "--tls needs a stream socket"),
            (["connect", "--tls", "--insecure", "--pin", "sha256:" + "0" * 64,
              "localhost", "1"], "--insecure and --pin conflict"),
            (["connect", "--tls", "--sni", "a", "--no-sni", "localhost",
              "1"], "--sni and --no-sni conflict"),
            (["connect", "--tls", "--verify-client", "x", "localhost", "1"],
             "--verify-client is for servers"),
            (["connect", "--tls", "--tls-min", "1.1", "localhost", "1"],
             "--tls-min '1.1'"),
            (["connect", "--tls", "unix:/nonexistent/s"],
             "no host name to verify"),
            (["listen", "--tls", "--pin", "sha256:" + "0" * 64, "0"],
             "--pin is for clients"),
            (["listen", "--tls", "-k", "--broker", "0"],
             "--broker and --tls conflict"),
            (["listen", "--tls", "-u", "0"], "--tls needs a stream socket"),
            (["listen", "--tls", "--key", "k.pem", "0"], "--key needs --cert"),
            (["check", "--warn-days", "3", "localhost", "1"],
             "--warn-days needs --tls"),
            (["check", "--tls", "--warn-days", "x", "localhost", "1"],
             "--warn-days"),
        ]
        for args, want in cases:
            rc, _, err = sockit(*args)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn(want, err, args)

    def test_missing_files_are_named(self):
        rc, _, err = sockit("connect", "--tls", "--ca", "/nonexistent/ca.pem",
                            "localhost", "1")
        self.assertEqual(rc, 1)
        self.assertEqual(err, "sockit: connect: --ca /nonexistent/ca.pem: "
                         "no such file or directory\n")
        rc, _, err = sockit("listen", "--tls", "--cert", "/nonexistent/c",
                            "0")
        self.assertEqual(rc, 1)
        self.assertIn("--cert /nonexistent/c: no such file", err)


if __name__ == "__main__":
    unittest.main()
