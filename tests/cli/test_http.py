"""test_http.py - `sockit http` against real servers on loopback:
python3 -m http.server, nginx (plain and TLS, started here with a config
in a temporary directory), openssl s_server -WWW, `sockit serve hello`,
and small servers written here that send exactly the bytes a case needs
(chunked, close-delimited, lying about the length, redirects, counting
connections, a Unix socket). Output is compared with curl's where curl
is the reference. Certificates come from tests/lib/mkcerts.sh."""
import hashlib
import json
import os
import pty
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import json_schema
from clitest import SOCKIT, run
from servetest import Serve

HERE = os.path.dirname(os.path.abspath(__file__))
MKCERTS = os.path.join(HERE, "..", "lib", "mkcerts.sh")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TMP = CERTS = None
BIG = 64 << 20  # the -o file: a few seconds in both builds


def setUpModule():
    global TMP, CERTS
    TMP = tempfile.mkdtemp(prefix="sockit-cli-http-")
    CERTS = os.path.join(TMP, "certs")
    subprocess.run(["sh", MKCERTS, CERTS], check=True, timeout=60,
                   capture_output=True)
    www = os.path.join(TMP, "www")
    os.makedirs(os.path.join(www, "dir"))
    with open(os.path.join(www, "a.txt"), "w") as f:
        f.write("hello, http\n")
    with open(os.path.join(www, "dir", "b.html"), "w") as f:
        f.write("<p>b</p>\n" * 1000)
    with open(os.path.join(www, "big.bin"), "wb") as f:
        block = os.urandom(1 << 20)
        for i in range(BIG >> 20):
            f.write(bytes([i]) + block[1:])


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


def www(*p):
    return os.path.join(TMP, "www", *p)


def cert(name):
    return os.path.join(CERTS, name)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listens on 127.0.0.1:%d" % port)


def http(*args, timeout=30, text=False):
    """sockit http ARGS; (rc, stdout bytes, stderr text)."""
    p = subprocess.run([SOCKIT, "http", *args], capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def curl(*args):
    p = subprocess.run(["curl", "-s", *args], capture_output=True, timeout=30)
    return p.stdout


def no_date(head):
    """A head without its Date line: two requests may straddle a second."""
    return re.sub(rb"(?im)^date:[^\r\n]*\r?\n", b"", head)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


# ---- Servers ----

class PyHttp:
    """python3 -m http.server on 127.0.0.1, port 0, serving www."""

    def __init__(self):
        self.p = subprocess.Popen(
            ["python3", "-u", "-m", "http.server", "0", "--bind",
             "127.0.0.1", "--directory", www()],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.p.stdout.readline().decode()
        self.port = int(re.search(r"port (\d+)", line).group(1))
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.p.kill()
        self.p.wait()
        self.p.stdout.close()


class Nginx:
    """nginx, one worker, no master, on a free loopback port, serving www;
    with tls, HTTPS with the test CA's server certificate. extra is more
    of the server block."""

    def __init__(self, tls=False, extra=""):
        self.dir = tempfile.mkdtemp(dir=TMP)
        self.port = free_port()
        ssl = ""
        if tls:
            ssl = ("ssl_certificate %s; ssl_certificate_key %s;"
                   % (cert("server.pem"), cert("server.key")))
        conf = """daemon off; master_process off; worker_processes 1;
pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off; default_type application/octet-stream;
  client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};
  uwsgi_temp_path {d}; scgi_temp_path {d};
  sendfile on;
  server {{
    listen 127.0.0.1:{port}{ssl_flag}; {ssl}
    root {root};
    {extra}
  }}
}}
""".format(d=self.dir, port=self.port, ssl_flag=" ssl" if tls else "",
           ssl=ssl, root=www(), extra=extra)
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(conf)
        self.p = subprocess.Popen(
            [NGINX, "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"),
             "-e", os.path.join(self.dir, "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http",
                                          self.port)

    def stop(self):
        self.p.kill()
        self.p.wait()


class Raw:
    """A server of our own on 127.0.0.1:0 (or a Unix socket at path):
    each connection runs answer(conn, reader) in a thread; .accepted
    counts connections, .requests the request heads read."""

    def __init__(self, answer, path=None):
        if path:
            self.s = socket.socket(socket.AF_UNIX)
            self.s.bind(path)
        else:
            self.s = socket.socket()
            self.s.bind(("127.0.0.1", 0))
            self.port = self.s.getsockname()[1]
            self.url = "http://127.0.0.1:%d" % self.port
        self.s.listen(16)
        self.answer = answer
        self.accepted = 0
        self.requests = []
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        f = c.makefile("rb")
        try:
            self.answer(self, c, f)
        except OSError:
            pass
        finally:
            f.close()
            c.close()

    def read_request(self, f):
        """One request head and its body: (method, target, headers, body),
        or None at the end of the connection."""
        line = f.readline()
        if not line:
            return None
        method, target, _ = line.decode().split(" ", 2)
        headers = {}
        while True:
            h = f.readline().decode()
            if h in ("\r\n", "\n", ""):
                break
            k, v = h.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        body = f.read(int(headers.get("content-length", 0)))
        self.requests.append((method, target, headers, body))
        return method, target, headers, body

    def stop(self):
        self.s.close()


def respond_once(data):
    """An answer that reads one request and sends data, then closes."""
    def answer(srv, c, f):
        srv.read_request(f)
        c.sendall(data)
    return answer


def keepalive(srv, c, f):
    """Content-Length answers naming the target, as long as asked."""
    while True:
        r = srv.read_request(f)
        if r is None:
            return
        body = ("you asked for %s\n" % r[1]).encode()
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(body), body))


class Python(unittest.TestCase):
    """python3 -m http.server: HTTP/1.0 answers, the connection closed
    after each."""

    @classmethod
    def setUpClass(cls):
        cls.srv = PyHttp()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_get_equals_curl(self):
        url = self.srv.url + "/dir/b.html"
        rc, out, err = http(url)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, curl(url))
        with open(www("dir", "b.html"), "rb") as f:
            self.assertEqual(out, f.read())

    def test_head_equals_curl(self):
        url = self.srv.url + "/a.txt"
        rc, out, err = http("-I", url)
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith(b"HTTP/1.0 200 OK\r\n"), out)
        self.assertEqual(no_date(out), no_date(curl("-I", url)))

    def test_include_equals_curl(self):
        url = self.srv.url + "/a.txt"
        rc, out, err = http("-i", url)
        self.assertEqual(rc, 0, err)
        self.assertEqual(no_date(out), no_date(curl("-i", url)))
        self.assertTrue(out.endswith(b"\r\n\r\nhello, http\n"), out)

    def test_not_found_is_output_not_failure(self):
        rc, out, _ = http(self.srv.url + "/nothing")
        self.assertEqual(rc, 0)
        self.assertIn(b"404", out)
        rc, out, err = http("-f", self.srv.url + "/nothing")
        self.assertEqual((rc, out), (1, b""))
        self.assertIn("answered 404", err)


class NginxPlain(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Nginx(extra="location = /moved { return 301 /a.txt; }")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_head_equals_curl(self):
        for path in ("/a.txt", "/dir/b.html", "/nothing", "/dir"):
            url = self.srv.url + path
            rc, out, err = http("-I", url)
            self.assertEqual(rc, 0, err)
            self.assertEqual(no_date(out), no_date(curl("-I", url)), path)

    def test_get_equals_curl(self):
        for path in ("/a.txt", "/dir/b.html", "/nothing"):
            url = self.srv.url + path
            rc, out, err = http(url)
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, curl(url), path)

    def test_output_file_sha256(self):
        dst = os.path.join(TMP, "big.out")
        rc, out, err = http("-o", dst, self.srv.url + "/big.bin")
        self.assertEqual((rc, out, err), (0, b"", ""))  # no TTY, no bar
        self.assertEqual(sha256(dst), sha256(www("big.bin")))
        os.unlink(dst)

    def test_redirect_followed(self):
        rc, out, err = http("-L", self.srv.url + "/moved")
        self.assertEqual((rc, out), (0, b"hello, http\n"), err)
        rc, out, err = http(self.srv.url + "/moved")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"301", out)

    def test_keepalive_reuse_nginx(self):
        u = self.srv.url
        rc, out, err = http("-v", u + "/a.txt", u + "/dir/b.html", u + "/a.txt")
        self.assertEqual(rc, 0, err)
        self.assertEqual(err.count("connected to"), 1, err)
        self.assertEqual(err.count("reusing the connection"), 2, err)
        with open(www("dir", "b.html"), "rb") as f:
            self.assertEqual(out, b"hello, http\n" + f.read() +
                             b"hello, http\n")

    def test_json(self):
        rc, out, err = http("--json", self.srv.url + "/a.txt",
                            self.srv.url + "/dir/b.html")
        self.assertEqual(rc, 0, err)
        lines = out.decode().splitlines()
        self.assertEqual(len(lines), 2)
        objs = [json.loads(x) for x in lines]
        for o in objs:
            self.assertEqual(json_schema.check("http", o), [], o)
        a, b = objs
        self.assertEqual((a["status"], a["body_bytes"], a["reused"]),
                         (200, 12, False))
        self.assertEqual(a["headers"]["content-length"], ["12"])
        self.assertEqual(a["framing"], "length")
        self.assertTrue(b["reused"])
        t = a["times"]
        self.assertLessEqual(t["resolve_s"], t["connect_s"])
        self.assertLessEqual(t["connect_s"], t["first_byte_s"])
        self.assertLessEqual(t["first_byte_s"], t["total_s"])

    def test_post_data(self):
        # nginx answers a POST to a static file with 405: the request
        # was framed and understood.
        rc, out, err = http("-i", "-d", "x=1", self.srv.url + "/a.txt")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith(b"HTTP/1.1 405"), out)


class NginxTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.plain = Nginx()
        cls.srv = Nginx(tls=True, extra=(
            "location = /down { return 302 %s/a.txt; }" % cls.plain.url))

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.plain.stop()

    def test_get_and_head_equal_curl(self):
        for args in ((), ("-I",), ("-i",)):
            url = self.srv.url + "/dir/b.html"
            rc, out, err = http("--ca", cert("ca.pem"), *args, url)
            self.assertEqual(rc, 0, err)
            want = curl("--cacert", cert("ca.pem"), *args, url)
            self.assertEqual(no_date(out), no_date(want), args)

    def test_untrusted_refused(self):
        rc, out, err = http(self.srv.url + "/a.txt")
        self.assertEqual((rc, out), (1, b""))
        self.assertIn("certificate", err)

    def test_output_sha256_over_tls(self):
        dst = os.path.join(TMP, "big.tls")
        rc, _, err = http("--ca", cert("ca.pem"), "-o", dst,
                          self.srv.url + "/big.bin")
        self.assertEqual(rc, 0, err)
        self.assertEqual(sha256(dst), sha256(www("big.bin")))
        os.unlink(dst)

    def test_https_to_http_refused(self):
        rc, out, err = http("--ca", cert("ca.pem"), "-L",
                            self.srv.url + "/down")
        self.assertEqual((rc, out), (1, b""))
        self.assertIn("refused a redirect from https", err)
        rc, out, err = http("--ca", cert("ca.pem"), "-L", "--allow-downgrade",
                            self.srv.url + "/down")
        self.assertEqual((rc, out), (0, b"hello, http\n"), err)
        self.assertIn("warning: following a redirect from https to http",
                      err)

    def test_json_tls(self):
        rc, out, err = http("--ca", cert("ca.pem"), "--json",
                            self.srv.url + "/a.txt")
        self.assertEqual(rc, 0, err)
        o = json.loads(out)
        self.assertEqual(json_schema.check("http", o), [], o)
        self.assertTrue(o["tls"]["verified"])
        self.assertLessEqual(o["times"]["connect_s"], o["times"]["tls_s"])


class SServer(unittest.TestCase):
    """openssl s_server -WWW: HTTP/1.0, the body delimited by the close."""

    def test_get(self):
        port = free_port()
        p = subprocess.Popen(
            ["openssl", "s_server", "-quiet", "-accept", str(port),
             "-cert", cert("server.pem"), "-key", cert("server.key"), "-WWW"],
            cwd=www(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            url = "https://localhost:%d/dir/b.html" % port
            rc, out, err = http("--ca", cert("ca.pem"), url)
            self.assertEqual(rc, 0, err)
            with open(www("dir", "b.html"), "rb") as f:
                self.assertEqual(out, f.read())
            self.assertEqual(out, curl("--cacert", cert("ca.pem"), url))
        finally:
            p.kill()
            p.wait()


class Framing(unittest.TestCase):
    """Bodies as a server frames them, and servers that lie."""

    def serve(self, data):
        srv = Raw(respond_once(data))
        self.addCleanup(srv.stop)
        return srv.url + "/"

    def test_chunked(self):
        url = self.serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                         b"Connection: close\r\n\r\n"
                         b"5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n"
                         b"0\r\nX-Trailer: t\r\n\r\n")
        rc, out, err = http(url)
        self.assertEqual((rc, out, err), (0, b"hello, world", ""))

    def test_chunked_raw(self):
        data = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\n0\r\n\r\n")
        rc, out, err = http("--raw", self.serve(data))
        self.assertEqual((rc, out), (0, data), err)

    def test_close_delimited(self):
        body = os.urandom(300000)
        url = self.serve(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)
        rc, out, err = http(url)
        self.assertEqual((rc, out), (0, body), err)
        self.assertEqual(out, curl(url))

    def test_short_body(self):
        url = self.serve(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                         b"only 20 bytes here..")
        rc, out, err = http(url)
        self.assertEqual(rc, 1)
        self.assertEqual(out, b"only 20 bytes here..")
        self.assertIn("after 20 of its 100 bytes", err)

    def test_bad_chunk(self):
        url = self.serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                         b"\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n")
        rc, out, err = http(url)
        self.assertEqual((rc, out), (1, b"hello"))
        self.assertIn("bad chunked body: a chunk size missing or not hex",
                      err)

    def test_chunked_cut_short(self):
        url = self.serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                         b"\r\n5\r\nhello\r\n10\r\nabc")
        rc, out, err = http(url)
        self.assertEqual((rc, out), (1, b"helloabc"))
        self.assertIn("ended before its last chunk", err)

    def test_malformed_head(self):
        url = self.serve(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                         b"Content-Length: 6\r\n\r\nhello!")
        rc, out, err = http(url)
        self.assertEqual((rc, out), (1, b""))
        self.assertIn("malformed response", err)

    def test_no_response(self):
        rc, out, err = http(self.serve(b""))
        self.assertEqual((rc, out), (1, b""))
        self.assertIn("without a response", err)

    def test_short_body_json(self):
        url = self.serve(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        rc, out, err = http("--json", url)
        self.assertEqual(rc, 1)
        o = json.loads(out)
        self.assertEqual(json_schema.check("http", o), [], o)
        self.assertEqual((o["status"], o["body_bytes"], o["error"]["code"]),
                         (200, 3, "EPARTIAL"))


class KeepAlive(unittest.TestCase):
    def test_one_connection_for_three_urls(self):
        srv = Raw(keepalive)
        self.addCleanup(srv.stop)
        u = srv.url
        rc, out, err = http(u + "/1", u + "/2?x=y", u + "/3")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"you asked for /1\nyou asked for /2?x=y\n"
                              b"you asked for /3\n")
        self.assertEqual(srv.accepted, 1)
        self.assertEqual([r[1] for r in srv.requests], ["/1", "/2?x=y", "/3"])

    def test_server_closing_kept_connection(self):
        """A server that closes a kept connection before the next request
        costs a new connection, not a failure."""
        def one_then_close(srv, c, f):
            r = srv.read_request(f)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        srv = Raw(one_then_close)
        self.addCleanup(srv.stop)
        rc, out, err = http(srv.url + "/1", srv.url + "/2")
        self.assertEqual((rc, out), (0, b"okok"), err)
        self.assertEqual(srv.accepted, 2)

    def test_http10(self):
        srv = Raw(keepalive)
        self.addCleanup(srv.stop)
        rc, out, err = http("--http1.0", srv.url + "/x")
        self.assertEqual((rc, out), (0, b"you asked for /x\n"), err)
        method, target, headers, _ = srv.requests[0]
        self.assertEqual((method, target), ("GET", "/x"))


class Redirects(unittest.TestCase):
    def chain(self, n, code=302):
        """/r/K redirects to /r/K-1, /r/0 answers "done"."""
        def answer(srv, c, f):
            while True:
                r = srv.read_request(f)
                if r is None:
                    return
                k = int(r[1].rsplit("/", 1)[1])
                if k == 0:
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                              b"\r\ndone\n")
                else:
                    c.sendall(b"HTTP/1.1 %d Moved\r\nLocation: /r/%d\r\n"
                              b"Content-Length: 3\r\n\r\nold" % (code, k - 1))
        srv = Raw(answer)
        self.addCleanup(srv.stop)
        return srv

    def test_follow(self):
        srv = self.chain(5)
        rc, out, err = http("-L", srv.url + "/r/5")
        self.assertEqual((rc, out), (0, b"done\n"), err)
        self.assertEqual(srv.accepted, 1)

    def test_include_shows_every_head(self):
        srv = self.chain(2)
        rc, out, err = http("-L", "-i", srv.url + "/r/2")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.count(b"HTTP/1.1 302"), 2)
        self.assertTrue(out.endswith(b"done\n"))

    def test_max_redirs(self):
        srv = self.chain(4)
        rc, out, err = http("-L", "--max-redirs", "3", srv.url + "/r/4")
        self.assertEqual((rc, out), (1, b""))
        self.assertIn("more than 3 redirects", err)
        rc, out, err = http("-L", "--max-redirs", "4", srv.url + "/r/4")
        self.assertEqual((rc, out), (0, b"done\n"), err)

    def test_post_after_303_is_get(self):
        srv = self.chain(1, code=303)
        rc, out, err = http("-L", "-d", "a=b", srv.url + "/r/1")
        self.assertEqual((rc, out), (0, b"done\n"), err)
        self.assertEqual([(r[0], r[3]) for r in srv.requests],
                         [("POST", b"a=b"), ("GET", b"")])

    def test_307_keeps_method_and_body(self):
        srv = self.chain(1, code=307)
        path = os.path.join(TMP, "body.txt")
        with open(path, "wb") as f:
            f.write(b"file body")
        rc, out, err = http("-L", "-X", "PUT", "--data-file", path,
                            srv.url + "/r/1")
        self.assertEqual((rc, out), (0, b"done\n"), err)
        self.assertEqual([(r[0], r[3]) for r in srv.requests],
                         [("PUT", b"file body"), ("PUT", b"file body")])


class Unix(unittest.TestCase):
    def test_unix_socket(self):
        path = os.path.join(TMP, "http.sock")
        srv = Raw(keepalive, path=path)
        self.addCleanup(srv.stop)
        for opt in (path, "unix:" + path):
            rc, out, err = http("--unix-socket", opt, "http://localhost/u",
                                "http://localhost/v")
            self.assertEqual((rc, out), (0, b"you asked for /u\n"
                                            b"you asked for /v\n"), err)
        self.assertEqual(srv.accepted, 2)
        self.assertEqual(srv.requests[0][2]["host"], "localhost")


class Hello(unittest.TestCase):
    """`sockit serve hello`, sockit's own HTTP server."""

    def test_equals_curl(self):
        s = Serve("hello")
        try:
            url = "http://127.0.0.1:%d/" % s.tcp
            rc, out, err = http(url)
            self.assertEqual((rc, out), (0, curl(url)), err)
            rc, out, err = http("-I", url)
            self.assertEqual(rc, 0, err)
            self.assertEqual(no_date(out), no_date(curl("-I", url)))
        finally:
            s.stop()


class Options(unittest.TestCase):
    def test_headers_sent_and_replaced(self):
        srv = Raw(keepalive)
        self.addCleanup(srv.stop)
        rc, _, err = http("-H", "X-One: 1", "-H", "User-Agent: mine",
                          "-H", "Accept:", srv.url + "/")
        self.assertEqual(rc, 0, err)
        h = srv.requests[0][2]
        self.assertEqual((h["x-one"], h["user-agent"]), ("1", "mine"))
        self.assertNotIn("accept", h)

    def test_method_operand(self):
        srv = Raw(keepalive)
        self.addCleanup(srv.stop)
        rc, _, err = http("DELETE", srv.url + "/x")
        self.assertEqual(rc, 0, err)
        self.assertEqual(srv.requests[0][0], "DELETE")

    def test_usage_errors(self):
        for args, want in ((("-I", "-d", "x", "http://h/"), "-I and -d"),
                           (("--json", "--raw", "http://h/"), "--json and"),
                           (("ftp://h/",), "not http:// or https://"),
                           (("http://u:p@h/",), "credentials"),
                           (("--ca", "x", "http://h/"), "needs an https://"),
                           (("-H", "bad", "http://h/"), "-H 'bad'"),
                           ((), "no URL")):
            rc, out, err = run("http", *args)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn(want, err, args)

    def test_max_time(self):
        def silent(srv, c, f):
            time.sleep(5)
        srv = Raw(silent)
        self.addCleanup(srv.stop)
        t = time.time()
        rc, out, err = http("--max-time", "0.5", srv.url + "/")
        self.assertEqual(rc, 1)
        self.assertLess(time.time() - t, 3)
        self.assertIn("timed out", err)

    def test_refused(self):
        rc, out, err = http("http://127.0.0.1:%d/" % free_port())
        self.assertEqual(rc, 1)
        self.assertIn("connection refused", err)

    def test_progress_on_a_terminal_only(self):
        srv = Nginx()
        self.addCleanup(srv.stop)
        dst = os.path.join(TMP, "progress.out")
        master, slave = pty.openpty()
        p = subprocess.run([SOCKIT, "http", "-o", dst,
                            srv.url + "/big.bin"], stderr=slave,
                           stdout=subprocess.DEVNULL, timeout=30)
        os.close(slave)
        got = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
        os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"100% [####################] 64.0 MiB / 64.0 MiB", got)
        self.assertIn(b"/s", got)
        os.unlink(dst)


if __name__ == "__main__":
    unittest.main()
