"""test_proxy.py - proxies: `sockit connect --proxy` and `sockit http
--proxy` through SOCKS5, SOCKS4a and HTTP CONNECT proxies written here in
python3 (and misbehaving ones), `sockit serve socks5` with curl
(--socks5-hostname, --socks5, --proxy through it is not: curl's --proxy
goes to the python CONNECT proxy) and sockit itself as clients, to python
peers on loopback only.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import tempfile
import socket
import socketserver
import struct
import subprocess
import threading
import time
import unittest

import json_schema
from bridgetest import TIMEOUT, sha, sockit
from clitest import hosts_ns_missing
from servetest import Serve, raise_fd_limit

MIB = 1 << 20
HERE = os.path.dirname(os.path.abspath(__file__))
TMP = None


def setUpModule():
    global TMP
    TMP = tempfile.mkdtemp(prefix="sockit-cli-proxy-")
    subprocess.run(["sh", os.path.join(HERE, "..", "lib", "mkcerts.sh"),
                    os.path.join(TMP, "certs")], check=True, timeout=60,
                   capture_output=True)
    os.makedirs(os.path.join(TMP, "www"))
    with open(os.path.join(TMP, "www", "big.bin"), "wb") as f:
        f.write(os.urandom(3 * MIB))


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


def cert(name):
    return os.path.join(TMP, "certs", name)


class PyHttp:
    """python3 -m http.server on 127.0.0.1, port 0."""

    def __init__(self):
        self.p = subprocess.Popen(
            ["python3", "-u", "-m", "http.server", "0", "--bind",
             "127.0.0.1", "--directory", os.path.join(TMP, "www")],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.p.stdout.readline().decode()
        self.port = int(re.search(r"port (\d+)", line).group(1))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.kill()
        self.p.wait()
        self.p.stdout.close()


def big_sha():
    with open(os.path.join(TMP, "www", "big.bin"), "rb") as f:
        return sha(f.read())


def recvn(conn, n):
    b = b""
    while len(b) < n:
        d = conn.recv(n - len(b))
        if not d:
            raise EOFError("peer closed after %d of %d bytes" % (len(b), n))
        b += d
    return b


def pump(a, b):
    """a's bytes to b until a's end, then b half-closed."""
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def splice(client, target):
    t = threading.Thread(target=pump, args=(target, client), daemon=True)
    t.start()
    pump(client, target)
    t.join(TIMEOUT)
    target.close()


class Peers(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handle, addr=("127.0.0.1", 0)):
        outer = self
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6

        class H(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(TIMEOUT)
                try:
                    handle(outer, self.request)
                except (OSError, EOFError):
                    pass

        super().__init__(addr, H)
        self.port = self.server_address[1]
        self.seen = []
        self.count = 0
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


def echo(srv, conn):
    srv.count += 1
    pump(conn, conn)


def socks(mode="ok", auth=None):
    """A SOCKS5/SOCKS4a proxy handler. mode: ok, refuse (reply 5),
    truncated (half a reply, then close), version (a reply of version 4),
    huge (an address of 255 bytes announced, 3 sent, then close),
    silent (never answers)."""

    def handle(srv, c):
        v = recvn(c, 1)[0]
        if v == 4:
            cmd, port = struct.unpack("!BH", recvn(c, 3))
            ip = socket.inet_ntoa(recvn(c, 4))
            user = b""
            while not user.endswith(b"\0"):
                user += recvn(c, 1)
            host = ip
            if ip.startswith("0.0.0.") and ip != "0.0.0.0":
                name = b""
                while not name.endswith(b"\0"):
                    name += recvn(c, 1)
                host = name[:-1].decode()
            srv.seen.append(("socks4a", host, port, user[:-1].decode()))
            if mode == "refuse":
                c.sendall(b"\0\x5b" + b"\0" * 6)
                return
            t = socket.create_connection((host, port), TIMEOUT)
            c.sendall(b"\0\x5a" + b"\0" * 6)
            return splice(c, t)
        methods = recvn(c, recvn(c, 1)[0])
        if mode == "silent":
            time.sleep(2 * TIMEOUT)
            return
        if auth is not None:
            if 2 not in methods:
                c.sendall(b"\x05\xff")
                return
            c.sendall(b"\x05\x02")
            recvn(c, 1)
            user = recvn(c, recvn(c, 1)[0]).decode()
            pw = recvn(c, recvn(c, 1)[0]).decode()
            if (user, pw) != auth:
                c.sendall(b"\x01\x01")
                return
            c.sendall(b"\x01\x00")
        else:
            c.sendall(b"\x05\x00")
        ver, cmd, _, atyp = recvn(c, 4)
        if atyp == 1:
            host = socket.inet_ntoa(recvn(c, 4))
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, recvn(c, 16))
        else:
            host = recvn(c, recvn(c, 1)[0]).decode()
        port = struct.unpack("!H", recvn(c, 2))[0]
        srv.seen.append(("socks5", atyp, host, port))
        if mode == "refuse":
            c.sendall(b"\x05\x05\x00\x01" + b"\0" * 6)
        elif mode == "truncated":
            c.sendall(b"\x05\x00\x00")
        elif mode == "version":
            c.sendall(b"\x04\x00\x00\x01" + b"\0" * 6)
        elif mode == "huge":
            c.sendall(b"\x05\x00\x00\x03\xffabc")
        else:
            t = socket.create_connection((host, port), TIMEOUT)
            c.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") +
                      struct.pack("!H", t.getsockname()[1]))
            splice(c, t)

    return handle


def connect_proxy(auth=None, status=None):
    """An HTTP CONNECT proxy handler: 407 without the right credentials
    (auth: (user, password)), status to answer that instead of 200."""

    def handle(srv, c):
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += recvn(c, 1)
        lines = head.decode().split("\r\n")
        method, target, _ = lines[0].split(" ")
        fields = dict(l.split(": ", 1) for l in lines[1:] if l)
        srv.seen.append((method, target, fields.get("Proxy-Authorization")))
        if auth is not None:
            want = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
            if fields.get("Proxy-Authorization") != want:
                c.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                          b"Proxy-Authenticate: Basic realm=\"t\"\r\n"
                          b"Content-Length: 0\r\n\r\n")
                return
        if status is not None:
            c.sendall(b"HTTP/1.1 " + status.encode() + b"\r\n"
                      b"Content-Length: 0\r\n\r\n")
            return
        host, port = target.rsplit(":", 1)
        t = socket.create_connection((host.strip("[]"), int(port)), TIMEOUT)
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        splice(c, t)

    return handle


def fd_count_line(out):
    return len(out.split())


class ConnectProxy(unittest.TestCase):
    """`sockit connect --proxy` against python proxies."""

    def transfer(self, url_fmt, handler, host="localhost", args=()):
        data = os.urandom(MIB)
        with Peers(echo) as peer, Peers(handler) as proxy:
            rc, out, err = sockit("connect", "-w", "10", *args, "--proxy",
                                  url_fmt % proxy.port, host, str(peer.port),
                                  input=data, timeout=30)
            self.assertEqual(rc, 0, err)
            self.assertEqual(sha(out), sha(data))
            self.assertEqual(peer.count, 1)
            return proxy.seen, err

    def test_socks5_sends_the_name(self):
        seen, _ = self.transfer("socks5://127.0.0.1:%d", socks())
        self.assertEqual(seen[0][:3], ("socks5", 3, "localhost"))

    def test_socks5h_sends_the_name(self):
        seen, _ = self.transfer("socks5h://127.0.0.1:%d", socks())
        self.assertEqual(seen[0][:3], ("socks5", 3, "localhost"))

    def test_socks5_literal_as_address(self):
        seen, _ = self.transfer("socks5://127.0.0.1:%d", socks(),
                                host="127.0.0.1")
        self.assertEqual(seen[0][:3], ("socks5", 1, "127.0.0.1"))

    def test_socks5_user_pass(self):
        seen, _ = self.transfer("socks5://al%%3Ai:pw@127.0.0.1:%d",
                                socks(auth=("al:i", "pw")))
        self.assertEqual(len(seen), 1)

    def test_socks4a_name_and_literal(self):
        seen, _ = self.transfer("socks4a://bob@127.0.0.1:%d", socks())
        self.assertEqual(seen[0][:2], ("socks4a", "localhost"))
        self.assertEqual(seen[0][3], "bob")
        seen, _ = self.transfer("socks4a://127.0.0.1:%d", socks(),
                                host="127.0.0.1")
        self.assertEqual(seen[0][:2], ("socks4a", "127.0.0.1"))

    def test_http_connect(self):
        seen, _ = self.transfer("http://127.0.0.1:%d", connect_proxy())
        self.assertEqual(seen[0][0], "CONNECT")
        self.assertTrue(seen[0][1].startswith("localhost:"))
        self.assertIsNone(seen[0][2])

    def test_http_connect_basic_auth(self):
        seen, _ = self.transfer("http://u:p%%40ss@localhost:%d",
                                connect_proxy(auth=("u", "p@ss")))
        self.assertEqual(seen[0][2], "Basic " + base64.b64encode(b"u:p@ss").decode())

    def test_verbose_says_proxy_and_answer(self):
        _, err = self.transfer("socks5://127.0.0.1:%d", socks(), args=("-v",))
        self.assertRegex(err, r"sockit: connect: proxy socks5 127\.0\.0\.1:\d+: "
                         r"localhost:\d+: succeeded \(SOCKS5 reply 0\), bound 127\.0\.0\.1:\d+")
        _, err = self.transfer("http://127.0.0.1:%d", connect_proxy(), args=("-v",))
        self.assertIn(": HTTP 200 Connection established", err)

    def refused(self, url_fmt, handler, want, timeout=TIMEOUT, args=()):
        with Peers(echo) as peer, Peers(handler) as proxy:
            t0 = time.monotonic()
            rc, out, err = sockit("connect", *args, "--proxy",
                                  url_fmt % proxy.port, "localhost",
                                  str(peer.port), timeout=timeout)
            self.assertEqual(rc, 1, err)
            self.assertEqual(out, b"")
            lines = err.strip().split("\n")
            self.assertEqual(len(lines), 1, err)
            self.assertRegex(lines[0], r"^sockit: connect: proxy 127\.0\.0\.1:\d+: "
                             r"localhost:\d+: " + want + "$")
            self.assertEqual(peer.count, 0)
            return time.monotonic() - t0

    def test_http_407_and_403(self):
        self.refused("http://127.0.0.1:%d", connect_proxy(auth=("u", "p")),
                  r"HTTP 407 Proxy Authentication Required")
        self.refused("http://u:bad@127.0.0.1:%d", connect_proxy(auth=("u", "p")),
                  r"HTTP 407 Proxy Authentication Required \(the credentials were refused\)")
        self.refused("http://127.0.0.1:%d", connect_proxy(status="403 Forbidden"),
                  r"HTTP 403 Forbidden")

    def test_socks_refusals_named(self):
        self.refused("socks5://127.0.0.1:%d", socks("refuse"),
                  r"connection refused \(SOCKS5 reply 5\)")
        self.refused("socks4a://127.0.0.1:%d", socks("refuse"),
                  r"rejected or failed \(SOCKS4 reply 91\)")
        self.refused("socks5://127.0.0.1:%d", socks(auth=("u", "p")),
                  r"the proxy requires authentication \(give user:pass@ in the URL\)")
        self.refused("socks5://u:x@127.0.0.1:%d", socks(auth=("u", "p")),
                  r"the proxy refused user 'u' \(status 1\)")

    def test_bad_replies(self):
        self.refused("socks5://127.0.0.1:%d", socks("truncated"),
                  r"the proxy closed after 3 bytes of its answer")
        self.refused("socks5://127.0.0.1:%d", socks("version"),
                  r"not a SOCKS5 reply \(version byte 0x04\)")
        self.refused("socks5://127.0.0.1:%d", socks("huge"),
                  r"the proxy closed after 8 bytes of its answer")

        def http_junk(srv, c):
            recvn(c, 10)
            c.sendall(b"SSH-2.0-OpenSSH\r\n\r\n")
        self.refused("http://127.0.0.1:%d", http_junk,
                  r"a malformed HTTP answer: .*")

        def http_huge(srv, c):
            recvn(c, 10)
            c.sendall(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 20000)
            time.sleep(1)
        self.refused("http://127.0.0.1:%d", http_huge,
                  r"an HTTP answer head over 16384 bytes")

    def test_timeout_covers_the_handshake(self):
        took = self.refused("socks5://127.0.0.1:%d", socks("silent"),
                         r"no answer in time: timed out", args=("-w", "1"))
        self.assertLess(took, TIMEOUT - 2)

    def test_silent_proxy_bounded_without_w(self):
        took = self.refused("socks5://127.0.0.1:%d", socks("silent"),
                            r"no answer in time: timed out", timeout=20)
        self.assertGreater(took, 8)

    def test_proxy_down(self):
        with Peers(echo) as peer:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            rc, _, err = sockit("connect", "--proxy", "socks5://127.0.0.1:%d" % port,
                                "localhost", str(peer.port))
            self.assertEqual(rc, 1)
            self.assertEqual(err, "sockit: connect: proxy 127.0.0.1:%d: "
                             "connection refused\n" % port)

    def test_usage_errors(self):
        for url, why in [("ftp://127.0.0.1:1", "not socks5://, socks5h://, socks4a:// or http://"),
                         ("socks5://proxy.example:1", "the proxy's address must be numeric or localhost"),
                         ("socks5://127.0.0.1:0", "bad port")]:
            rc, _, err = sockit("connect", "--proxy", url, "localhost", "80")
            self.assertEqual(rc, 2, err)
            self.assertIn("--proxy '%s': %s" % (url, why), err)
        rc, _, err = sockit("connect", "-u", "--proxy", "socks5://127.0.0.1:1",
                            "localhost", "80")
        self.assertEqual(rc, 2)
        self.assertIn("--proxy and -u conflict", err)
        rc, _, err = sockit("connect", "--proxy", "socks4a://127.0.0.1:1",
                            "::1", "80")
        self.assertEqual(rc, 1)
        self.assertIn("SOCKS4a cannot carry an IPv6 address", err)

    def test_no_fd_leaks_into_exec(self):
        with Peers(echo) as peer, Peers(socks()) as proxy:
            base = sockit("connect", "--sh-exec", "ls /proc/self/fd >&2",
                          "127.0.0.1", str(peer.port))
            via = sockit("connect", "--proxy", "socks5://127.0.0.1:%d" % proxy.port,
                         "--sh-exec", "ls /proc/self/fd >&2", "127.0.0.1",
                         str(peer.port))
            self.assertEqual(base[0], 0, base[2])
            self.assertEqual(via[0], 0, via[2])
            self.assertEqual(fd_count_line(via[2]), fd_count_line(base[2]))


class HttpProxy(unittest.TestCase):
    """`sockit http --proxy`: plain and https URLs through the python
    proxies, TLS inside the tunnel checked against the target's name."""

    def get(self, proxy_url, url, *args):
        rc, out, err = sockit("http", "-w", "10", "--no-progress", *args,
                              "--proxy", proxy_url, url, timeout=30)
        return rc, out, err

    def test_plain_through_each_kind(self):
        with PyHttp() as web:
            for handler, fmt in [(socks(), "socks5://127.0.0.1:%d"),
                                 (socks(), "socks4a://127.0.0.1:%d"),
                                 (connect_proxy(auth=("u", "p")),
                                  "http://u:p@127.0.0.1:%d")]:
                with Peers(handler) as proxy:
                    rc, out, err = self.get(fmt % proxy.port,
                                            "http://localhost:%d/big.bin" % web.port)
                    self.assertEqual(rc, 0, err)
                    self.assertEqual(sha(out), big_sha())
                    self.assertEqual(len(proxy.seen), 1)

    def test_https_inside_the_tunnel(self):
        hello = Serve("hello", "--tls", "--cert", cert("server.pem"),
                      "--key", cert("server.key"))
        with hello, Peers(socks()) as proxy:
            rc, out, err = self.get("socks5://127.0.0.1:%d" % proxy.port,
                                    "https://localhost:%d/" % hello.port,
                                    "--ca", cert("ca.pem"), "-v")
            self.assertEqual(rc, 0, err)
            self.assertTrue(out)
            self.assertEqual(proxy.seen[0][:3], ("socks5", 3, "localhost"))
            self.assertIn("proxy socks5 127.0.0.1:%d: localhost:%d: succeeded"
                          % (proxy.port, hello.port), err)
        other = Serve("hello", "--tls", "--cert", cert("other.pem"),
                      "--key", cert("server.key"))
        with other, Peers(connect_proxy()) as proxy:
            rc, out, err = self.get("http://127.0.0.1:%d" % proxy.port,
                                    "https://localhost:%d/" % other.port,
                                    "--ca", cert("ca.pem"))
            self.assertEqual(rc, 1, err)
            self.assertIn("hostname mismatch", err)
            self.assertEqual(proxy.seen[0][1], "localhost:%d" % other.port)

    def test_refusal_said(self):
        with Peers(connect_proxy(status="403 Forbidden")) as proxy:
            rc, out, err = self.get("http://127.0.0.1:%d" % proxy.port,
                                    "http://localhost:1/")
            self.assertEqual(rc, 1, err)
            self.assertEqual(err, "sockit: http: localhost:1: proxy "
                             "127.0.0.1:%d: HTTP 403 Forbidden\n" % proxy.port)
        with Peers(connect_proxy(status="403 Forbidden")) as proxy:
            rc, out, err = self.get("http://127.0.0.1:%d" % proxy.port,
                                    "http://localhost:1/", "--json")
            self.assertEqual(rc, 1, err)
            o = json.loads(out)
            self.assertEqual(json_schema.check("http", o), [], o)
            self.assertEqual(o["error"]["code"], "EPROXY")
            self.assertIn("HTTP 403 Forbidden", o["error"]["message"])
        rc, _, err = sockit("http", "--proxy", "socks5://127.0.0.1:1",
                            "--unix-socket", "/x", "http://localhost/")
        self.assertEqual(rc, 2, err)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def settle(what, cond, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.05)


def curl(*args):
    p = subprocess.run(["curl", "-sS", "--max-time", "20", *args],
                       capture_output=True, timeout=30)
    return p.returncode, p.stdout, p.stderr.decode()


def s5_request(port, req, greet=b"\x05\x01\x00"):
    """A raw SOCKS5 client: greeting, request; the reply's first 4 bytes
    and whether the server then closed."""
    with socket.create_connection(("127.0.0.1", port), TIMEOUT) as c:
        c.sendall(greet)
        assert recvn(c, 2) == b"\x05\x00"
        c.sendall(req)
        head = recvn(c, 10)
        rest = c.recv(100)
        return head, rest


class ServeSocks5(unittest.TestCase):
    """`sockit serve socks5` with curl, sockit and raw python clients."""

    def test_curl_socks5_hostname_and_socks5(self):
        with Serve("socks5") as srv, PyHttp() as web:
            url = "http://localhost:%d/big.bin" % web.port
            for opt in ("--socks5-hostname", "--socks5"):
                rc, out, err = curl(opt, "127.0.0.1:%d" % srv.port, url)
                self.assertEqual(rc, 0, err)
                self.assertEqual(sha(out), big_sha())

    def test_curl_proxy_http_connect(self):
        with Peers(connect_proxy()) as proxy, PyHttp() as web:
            rc, out, err = curl("-p", "--proxy", "http://127.0.0.1:%d" % proxy.port,
                                "http://localhost:%d/big.bin" % web.port)
            self.assertEqual(rc, 0, err)
            self.assertEqual(sha(out), big_sha())
            self.assertEqual(proxy.seen[0][0], "CONNECT")

    def test_sockit_through_sockit(self):
        data = os.urandom(MIB)
        with Serve("socks5") as srv, Peers(echo) as peer:
            base = fd_count(srv.p.pid)
            for host in ("localhost", "127.0.0.1"):
                rc, out, err = sockit("connect", "-w", "10", "--proxy",
                                      "socks5://127.0.0.1:%d" % srv.port,
                                      host, str(peer.port), input=data,
                                      timeout=30)
                self.assertEqual(rc, 0, err)
                self.assertEqual(sha(out), sha(data))
            settle("fds back", lambda: fd_count(srv.p.pid) == base)

    def test_ipv6_proxy_and_target(self):
        with Serve("socks5", listen="[::1]:0") as srv, \
                Peers(echo, addr=("::1", 0)) as peer:
            rc, out, err = sockit("connect", "-v", "--proxy",
                                  "socks5://[::1]:%d" % srv.port, "::1",
                                  str(peer.port), input=b"six\n")
            self.assertEqual((rc, out), (0, b"six\n"), err)
            self.assertIn("proxy socks5 [::1]:%d: [::1]:%d: succeeded (SOCKS5 reply 0), "
                          "bound [::1]:" % (srv.port, peer.port), err)

    def test_user_pass(self):
        with Serve("socks5", "--proxy-user", "me:p:w") as srv, Peers(echo) as peer:
            rc, out, err = sockit("connect", "--proxy",
                                  "socks5://me:p%%3Aw@127.0.0.1:%d" % srv.port,
                                  "localhost", str(peer.port), input=b"hi\n")
            self.assertEqual((rc, out), (0, b"hi\n"), err)
            rc, out, err = sockit("connect", "--proxy",
                                  "socks5://me:nope@127.0.0.1:%d" % srv.port,
                                  "localhost", str(peer.port), input=b"hi\n")
            self.assertEqual(rc, 1)
            self.assertIn("the proxy refused user 'me' (status 1)", err)
            rc, out, err = sockit("connect", "--proxy",
                                  "socks5://127.0.0.1:%d" % srv.port,
                                  "localhost", str(peer.port), input=b"hi\n")
            self.assertEqual(rc, 1)
            self.assertIn("the proxy requires authentication", err)
        with Serve("socks5", "--proxy-user", "me:p:w") as srv, PyHttp() as web:
            url = "http://localhost:%d/big.bin" % web.port
            rc, out, err = curl("--socks5-hostname", "127.0.0.1:%d" % srv.port,
                                "--proxy-user", "me:p:w", url)
            self.assertEqual(rc, 0, err)
            self.assertEqual(sha(out), big_sha())
            rc, out, err = curl("--socks5-hostname", "127.0.0.1:%d" % srv.port,
                                "--proxy-user", "me:bad", url)
            self.assertNotEqual(rc, 0)
            self.assertEqual(out, b"")

    def test_refusals_with_their_codes(self):
        with Serve("socks5") as srv:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
            s.close()
            rc, _, err = sockit("connect", "--proxy", "socks5://127.0.0.1:%d" % srv.port,
                                "127.0.0.1", str(closed))
            self.assertEqual(rc, 1)
            self.assertIn("127.0.0.1:%d: connection refused (SOCKS5 reply 5)" % closed, err)
            for cmd, why in ((2, "BIND"), (3, "UDP ASSOCIATE")):
                head, rest = s5_request(srv.port, bytes([5, cmd, 0, 1, 127, 0, 0, 1, 0, 80]))
                self.assertEqual(head[:2], b"\x05\x07", why)
                self.assertEqual(rest, b"")
            head, _ = s5_request(srv.port, b"\x05\x01\x00\x05\x00")  # no such atyp
            self.assertEqual(head[1], 8)

    def test_names_resolve_off_the_loop(self):
        # The server's own hosts file (a mount namespace, nsswitch "files"
        # only): no lookup leaves the machine.
        why = hosts_ns_missing()
        if why:
            self.skipTest(why)
        with socket.create_server(("127.0.0.1", 0)) as echo, \
                Serve("socks5", hosts="127.0.0.1 target.test\n") as srv:
            def serve_one():
                c, _ = echo.accept()
                with c:
                    c.sendall(c.recv(100).upper())
            t = threading.Thread(target=serve_one, daemon=True)
            t.start()
            proxy = "socks5://127.0.0.1:%d" % srv.port
            rc, out, err = sockit("connect", "--proxy", proxy, "target.test",
                                  str(echo.getsockname()[1]), input=b"hi\n")
            t.join(10)
            self.assertEqual((rc, out), (0, b"HI\n"), err)
            # A name the hosts file lacks: host unreachable, not a stall.
            rc, _, err = sockit("connect", "--proxy", proxy, "missing.test", "80")
            self.assertEqual(rc, 1)
            self.assertIn("host unreachable (SOCKS5 reply 4)", err)
            name = b"missing.test"
            head, _ = s5_request(srv.port, bytes([5, 1, 0, 3, len(name)]) + name + b"\x00\x50")
            self.assertEqual(head[1], 4)

    def test_half_close_both_ways(self):
        def late(srv, c):
            got = b""
            while True:
                d = c.recv(65536)
                if not d:
                    break
                got += d
            time.sleep(1)
            c.sendall(hashlib.sha256(got).digest())
            c.shutdown(socket.SHUT_WR)

        with Serve("socks5") as srv, Peers(late) as peer:
            data = os.urandom(300000)
            rc, out, err = sockit("connect", "--proxy", "socks5://127.0.0.1:%d" % srv.port,
                                  "127.0.0.1", str(peer.port), input=data)
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, hashlib.sha256(data).digest())

    def test_reset_passed_on(self):
        def rst(srv, c):
            recvn(c, 5)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            c.close()

        with Serve("socks5") as srv, Peers(rst) as peer:
            base = fd_count(srv.p.pid)
            with socket.create_connection(("127.0.0.1", srv.port), TIMEOUT) as c:
                c.sendall(b"\x05\x01\x00")
                self.assertEqual(recvn(c, 2), b"\x05\x00")
                c.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") +
                          struct.pack("!H", peer.port))
                self.assertEqual(recvn(c, 10)[:2], b"\x05\x00")
                c.sendall(b"hello")
                with self.assertRaises(ConnectionResetError):
                    while c.recv(100):
                        pass
            settle("fds back", lambda: fd_count(srv.p.pid) == base)

    def test_max_conns_counts_open_tunnels(self):
        with Serve("socks5", "--max-conns", "1") as srv, Peers(echo) as peer:
            with socket.create_connection(("127.0.0.1", srv.port), TIMEOUT) as a:
                a.sendall(b"\x05\x01\x00\x05\x01\x00\x01" +
                          socket.inet_aton("127.0.0.1") + struct.pack("!H", peer.port))
                self.assertEqual(recvn(a, 12)[:4], b"\x05\x00\x05\x00")
                try:
                    with socket.create_connection(("127.0.0.1", srv.port), TIMEOUT) as b:
                        b.sendall(b"\x05\x01\x00")
                        self.assertEqual(b.recv(10), b"")
                except ConnectionResetError:
                    pass
                srv.wait_for(r"refused: --max-conns 1 reached")
                a.sendall(b"still here")
                self.assertEqual(recvn(a, 10), b"still here")

    def test_stalled_handshake_closed(self):
        with Serve("socks5", "--header-timeout", "1") as srv:
            base = fd_count(srv.p.pid)
            with socket.create_connection(("127.0.0.1", srv.port), TIMEOUT) as c:
                c.sendall(b"\x05")
                t0 = time.monotonic()
                self.assertEqual(c.recv(10), b"")
                self.assertLess(time.monotonic() - t0, TIMEOUT - 2)
            with socket.create_connection(("127.0.0.1", srv.port), TIMEOUT) as c:
                c.sendall(b"GET / HTTP/1.1\r\n\r\n")
                self.assertEqual(c.recv(10), b"")
            settle("fds back", lambda: fd_count(srv.p.pid) == base)

    def test_usage(self):
        rc, _, err = sockit("serve", "echo", "--proxy-user", "a:b")
        self.assertEqual(rc, 2)
        self.assertIn("--proxy-user is for socks5", err)
        rc, _, err = sockit("serve", "socks5", "--proxy-user", "nocolon")
        self.assertEqual(rc, 2)
        self.assertIn("expected USER:PASS", err)


if __name__ == "__main__":
    unittest.main()
