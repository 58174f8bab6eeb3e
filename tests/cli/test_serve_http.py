"""test_serve_http.py - `sockit serve http DIR`, the static file server,
driven by real clients (curl, wget, python urllib, ab, headless Chromium)
and by hostile ones (traversal, smuggling, limits, 10,000 pipelined
requests, slowloris), with the server still serving a normal client
after each.

Every server listens on 127.0.0.1:0 and the port it prints is read back;
every subprocess and socket has a timeout. The tree served is made in a
temporary directory per module, with names holding spaces, UTF-8, "%",
"&", quotes and "<", a dotfile, a symlink inside DIR and one leading out.
"""
import hashlib
import html
import json
import os
import re
import select
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import json_schema
from bridgetest import TIMEOUT
from clitest import ROOT, SOCKIT
from servetest import Serve, connect

HERE = os.path.dirname(os.path.abspath(__file__))
MKCERTS = os.path.join(HERE, "..", "lib", "mkcerts.sh")

NAMES = ["plain.txt", "with space.txt", "ünïcödé ✓.txt", "100% done.txt",
         "a&b <c> \"q\" 'x'.txt", "sub dir/inner file.txt",
         "sub dir/deeper/ü 50%.bin", "lit%20eral.txt"]


def setUpModule():
    global TREE, OUTSIDE, BIG, SMALL
    TREE = tempfile.mkdtemp(prefix="sockit-http-")
    OUTSIDE = tempfile.mkdtemp(prefix="sockit-http-out-")
    for i, n in enumerate(NAMES):
        p = os.path.join(TREE, n)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(("file %d: %s\n" % (i, n)).encode() * (i + 1))
    SMALL = os.path.join(TREE, "four.bin")
    with open(SMALL, "wb") as f:
        f.write(os.urandom(4096))
    BIG = os.path.join(TREE, "big.bin")
    with open(BIG, "wb") as f:  # sparse-free, so sendfile really reads
        for _ in range(32):
            f.write(os.urandom(1 << 20))
    with open(os.path.join(TREE, ".secret"), "w") as f:
        f.write("dotfile\n")
    with open(os.path.join(OUTSIDE, "passwd"), "w") as f:
        f.write("outside DIR\n")
    os.symlink(os.path.join(OUTSIDE, "passwd"), os.path.join(TREE, "out"))
    os.symlink("plain.txt", os.path.join(TREE, "inside"))
    with open(os.path.join(TREE, "doc.odt"), "wb") as f:
        f.write(b"PK\x03\x04")  # a type only /etc/mime.types knows
    os.makedirs(os.path.join(TREE, "site"))
    with open(os.path.join(TREE, "site", "index.html"), "w") as f:
        f.write("<!DOCTYPE html><title>site</title><p>index</p>\n")


def tearDownModule():
    shutil.rmtree(TREE, ignore_errors=True)
    shutil.rmtree(OUTSIDE, ignore_errors=True)


def need(*tools):
    for t in tools:
        if shutil.which(t) is None:
            raise unittest.SkipTest("%s not installed" % t)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def serve(*args, log=None):
    return Serve(*args, "http", TREE, stdout=log or subprocess.DEVNULL)


def curl(*args):
    p = subprocess.run(["curl", "-sS", *args], capture_output=True,
                       timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def raw(port, data, shut=True):
    """Send data on one connection, read until the server closes."""
    with connect(port) as s:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            b = s.recv(1 << 16)
            if not b:
                return out
            out += b


def status_of(resp):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", resp)
    return int(m.group(1)) if m else None


def served_meanwhile(test, port):
    """A normal client is still served."""
    rc, out, err = curl("http://127.0.0.1:%d/plain.txt" % port)
    test.assertEqual(rc, 0, err)
    test.assertTrue(out.startswith(b"file 0: plain.txt"))


class Files(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need("curl")
        cls.srv = serve()
        cls.base = "http://127.0.0.1:%d" % cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def test_get_every_name_as_curl_encodes_it(self):
        for n in NAMES:
            url = self.base + "/" + urllib.request.quote(n)
            rc, out, err = curl(url)
            self.assertEqual(rc, 0, err)
            with open(os.path.join(TREE, n), "rb") as f:
                self.assertEqual(out, f.read(), n)

    def test_head_has_the_headers_and_no_body(self):
        rc, out, err = curl("-I", self.base + "/plain.txt")
        self.assertEqual(rc, 0, err)
        h = out.decode()
        self.assertIn("HTTP/1.1 200 OK", h)
        self.assertIn("Content-Type: text/plain; charset=utf-8", h)
        size = os.path.getsize(os.path.join(TREE, "plain.txt"))
        self.assertIn("Content-Length: %d" % size, h)
        self.assertRegex(h, r'ETag: "[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"')
        self.assertIn("Last-Modified: ", h)
        self.assertIn("Accept-Ranges: bytes", h)

    def test_mime_types_from_the_system_table(self):
        for name, want in [("four.bin", "application/octet-stream"),
                           ("site/index.html", "text/html"),
                           ("doc.odt",
                            "application/vnd.oasis.opendocument.text")]:
            rc, out, _ = curl("-I", self.base + "/" + name)
            self.assertIn("Content-Type: " + want, out.decode(), name)

    @unittest.skipUnless(ROOT and os.path.exists("/etc/mime.types"),
                         "needs root (unshare -m) and /etc/mime.types")
    def test_builtin_types_without_the_system_table(self):
        # An empty file mounted over /etc/mime.types: the built-in table
        # alone, as on a system without one.
        cmd = ("mount --bind /dev/null /etc/mime.types && exec %s serve "
               "--listen 127.0.0.1:0 http %s" % (shlex.quote(SOCKIT),
                                                 shlex.quote(TREE)))
        p = subprocess.Popen(["unshare", "-m", "sh", "-c", cmd],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        try:
            line = p.stderr.readline()
            port = int(re.search(r":(\d+)/tcp", line).group(1))
            base = "http://127.0.0.1:%d/" % port
            for name, want in [("doc.odt", "application/octet-stream"),
                               ("site/index.html", "text/html"),
                               ("plain.txt", "text/plain")]:
                _, out, _ = curl("-I", base + name)
                self.assertIn("Content-Type: " + want, out.decode(), name)
        finally:
            p.kill()
            p.wait(TIMEOUT)
            p.stderr.close()

    def test_conditional_requests_get_304(self):
        url = self.base + "/plain.txt"
        _, out, _ = curl("-I", url)
        etag = re.search(r"ETag: (\S+)", out.decode()).group(1)
        lm = re.search(r"Last-Modified: (.+?)\r", out.decode()).group(1)
        for hdr in ["If-None-Match: " + etag,
                    'If-None-Match: "x", W/' + etag,
                    "If-None-Match: *",
                    "If-Modified-Since: " + lm]:
            _, out, _ = curl("-i", "-H", hdr, url)
            self.assertTrue(out.startswith(b"HTTP/1.1 304 "), hdr)
            self.assertTrue(out.endswith(b"\r\n\r\n"), out)  # no body
        for hdr in ['If-None-Match: "other"',
                    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"]:
            _, out, _ = curl("-i", "-H", hdr, url)
            self.assertTrue(out.startswith(b"HTTP/1.1 200 "), hdr)

    def test_ranges(self):
        url = self.base + "/four.bin"
        with open(SMALL, "rb") as f:
            data = f.read()
        for rng, want in [("10-19", data[10:20]), ("4000-", data[4000:]),
                          ("-100", data[-100:]), ("0-99999", data)]:
            rc, out, err = curl("-i", "-r", rng, url)
            head, body = out.split(b"\r\n\r\n", 1)
            self.assertIn(b"HTTP/1.1 206 ", head, rng)
            self.assertEqual(body, want, rng)
            self.assertIn(b"Content-Range: bytes ", head)
        _, out, _ = curl("-i", "-r", "5000-6000", url)
        self.assertTrue(out.startswith(b"HTTP/1.1 416 "), out[:80])
        self.assertIn(b"Content-Range: bytes */4096", out)
        # Several ranges: ignored, the whole file (RFC 9110 14.2).
        _, out, _ = curl("-i", "-r", "0-1,5-6", url)
        self.assertTrue(out.startswith(b"HTTP/1.1 200 "))

    def test_if_range(self):
        url = self.base + "/four.bin"
        _, out, _ = curl("-I", url)
        etag = re.search(r"ETag: (\S+)", out.decode()).group(1)
        _, out, _ = curl("-i", "-r", "0-9", "-H", "If-Range: " + etag, url)
        self.assertTrue(out.startswith(b"HTTP/1.1 206 "))
        _, out, _ = curl("-i", "-r", "0-9", "-H", 'If-Range: "stale"', url)
        self.assertTrue(out.startswith(b"HTTP/1.1 200 "))
        self.assertEqual(len(out.split(b"\r\n\r\n", 1)[1]), 4096)

    def test_keep_alive_reused_in_curl_verbose(self):
        rc, out, err = curl("-v", self.base + "/plain.txt",
                            self.base + "/four.bin", self.base + "/")
        self.assertEqual(rc, 0, err)
        self.assertIn("Re-using existing connection", err)
        self.assertEqual(err.count("Connected to"), 1, err)

    def test_http10_closes_unless_keep_alive(self):
        resp = raw(self.srv.port, b"GET /plain.txt HTTP/1.0\r\n\r\n",
                   shut=False)
        self.assertIn(b"Connection: close", resp)
        two = (b"GET /plain.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
               b"GET /plain.txt HTTP/1.0\r\n\r\n")
        resp = raw(self.srv.port, two, shut=False)
        self.assertEqual(resp.count(b"HTTP/1.1 200 OK"), 2)
        self.assertIn(b"Connection: keep-alive", resp)

    def test_connection_close_is_honoured(self):
        resp = raw(self.srv.port, b"GET /four.bin HTTP/1.1\r\nHost: x\r\n"
                   b"Connection: close\r\n\r\nGET /plain.txt HTTP/1.1\r\n"
                   b"Host: x\r\n\r\n", shut=False)
        self.assertEqual(resp.count(b"HTTP/1.1 "), 1)
        self.assertEqual(len(resp.split(b"\r\n\r\n", 1)[1]), 4096)

    def test_directory_redirect_and_index(self):
        rc, out, _ = curl("-i", self.base + "/site")
        self.assertTrue(out.startswith(b"HTTP/1.1 301 "))
        self.assertIn(b"Location: /site/\r\n", out)
        rc, out, _ = curl("-L", self.base + "/site")
        self.assertIn(b"<p>index</p>", out)
        # From the decoded path: "//site" must not send the client to a
        # host named "site".
        resp = raw(self.srv.port, b"GET //site?x=1 HTTP/1.1\r\nHost: x\r\n"
                   b"Connection: close\r\n\r\n")
        self.assertIn(b"\r\nLocation: /site/?x=1\r\n", resp)
        resp = raw(self.srv.port, b"GET /sub%20dir HTTP/1.1\r\nHost: x\r\n"
                   b"Connection: close\r\n\r\n")
        self.assertIn(b"\r\nLocation: /sub%20dir/\r\n", resp)

    def test_listing_escapes_sorts_and_hides_dotfiles(self):
        rc, out, err = curl(self.base + "/")
        page = out.decode()
        self.assertIn("<title>Index of /</title>", page)
        self.assertNotIn(".secret", page)
        self.assertNotIn('href="out"', page)  # leads out of DIR
        self.assertIn('href="inside"', page)
        # Names as text (HTML-escaped) and as links (percent-encoded).
        self.assertIn("a&amp;b &lt;c&gt; &quot;q&quot; &#39;x&#39;.txt", page)
        self.assertIn('href="100%25%20done.txt"', page)
        links = re.findall(r'<td><a href="([^"]+)">', page)
        files = [urllib.request.unquote(l).encode() for l in links
                 if not l.endswith("/")]
        self.assertEqual(files, sorted(files))  # by bytes
        _, out, _ = curl(self.base + "/?sort=size&order=desc")
        rows = re.findall(r'title="(\d+)">', out.decode())
        sizes = [int(x) for x in rows]
        files_sizes = sizes[-len(files):]
        self.assertEqual(files_sizes, sorted(files_sizes, reverse=True))

    def test_python_urllib_big_file_and_range(self):
        with urllib.request.urlopen(self.base + "/big.bin",
                                    timeout=TIMEOUT) as r:
            self.assertEqual(hashlib.sha256(r.read()).hexdigest(), sha(BIG))
        req = urllib.request.Request(self.base + "/big.bin",
                                     headers={"Range": "bytes=1048576-"})
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            self.assertEqual(r.status, 206)
            with open(BIG, "rb") as f:
                f.seek(1 << 20)
                self.assertEqual(r.read(), f.read())

    def test_wget_mirror_is_identical(self):
        need("wget")
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run(
                ["wget", "-q", "-r", "-np", "-nH", "--restrict-file-names="
                 "nocontrol", "-R", "index.html*", "-P", d,
                 self.base + "/"], timeout=60, capture_output=True)
            self.assertIn(p.returncode, (0, 8), p.stderr)
            for n in NAMES:
                # wget saves a literal "%20" of a name decoded (its own
                # file naming; the request and the bytes were right).
                got = os.path.join(d, n.replace("%20", " "))
                self.assertTrue(os.path.exists(got), n)
                self.assertEqual(sha(got), sha(os.path.join(TREE, n)), n)
            sub = os.path.join(d, "sub dir")
            p = subprocess.run(["diff", "-r", os.path.join(TREE, "sub dir"),
                                sub], capture_output=True, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 0, p.stdout)
            for n in ["four.bin", "big.bin"]:
                self.assertEqual(sha(os.path.join(d, n)),
                                 sha(os.path.join(TREE, n)), n)

    def test_ab_keep_alive(self):
        need("ab")
        p = subprocess.run(["ab", "-k", "-q", "-n", "3000", "-c", "10",
                            self.base + "/four.bin"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"Complete requests:\s+3000")
        self.assertRegex(p.stdout, r"Failed requests:\s+0")
        self.assertRegex(p.stdout, r"Keep-Alive requests:\s+3000")


class Safety(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Serve("--header-timeout", "1", "http", TREE)

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def get(self, target):
        return status_of(raw(self.srv.port, b"GET " + target +
                             b" HTTP/1.1\r\nHost: x\r\n\r\n"))

    def test_traversal_never_leaves_dir(self):
        cases = {b"/../../etc/passwd": 400, b"/%2e%2e/%2e%2e/etc/passwd": 400,
                 b"/%2E%2E%2fetc/passwd": 400, b"/sub%20dir/..%2f..%2fout": 400,
                 b"/..%5c..%5cetc": 404, b"//etc/passwd": 404,
                 b"/plain.txt%00.html": 400, b"/%": 400, b"/%zz": 400,
                 b"/out": 403, b"/.secret": 404, b"/sub%20dir/../.secret": 400,
                 b"http://x/../etc/passwd": 400, b"*": 400,
                 b"/" + b"a/" * 2100: 414}
        for target, want in cases.items():
            self.assertEqual(self.get(target), want, target[:60])
        self.assertEqual(self.get(b"/inside"), 200)  # a symlink within
        self.assertEqual(self.get(b"/plain.txt/"), 404)  # not a directory
        served_meanwhile(self, self.srv.port)

    def test_follow_symlinks_and_dotfiles_options(self):
        with Serve("--follow-symlinks", "--dotfiles", "http", TREE) as s:
            resp = raw(s.port, b"GET /out HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(resp.endswith(b"outside DIR\n"), resp)
            resp = raw(s.port, b"GET /.secret HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(resp.endswith(b"dotfile\n"))

    def test_methods(self):
        for req, want in [(b"POST /plain.txt HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Length: 3\r\n\r\nabc", 405),
                          (b"DELETE /plain.txt HTTP/1.1\r\nHost: x\r\n\r\n",
                           405),
                          (b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 501),
                          (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505)]:
            resp = raw(self.srv.port, req)
            self.assertEqual(status_of(resp), want, req)
        resp = raw(self.srv.port, b"PUT /new HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Length: 2\r\n\r\nhi")
        self.assertIn(b"Allow: GET, HEAD", resp)
        self.assertFalse(os.path.exists(os.path.join(TREE, "new")))

    def test_expect_continue_is_answered_and_closed(self):
        # No 100: the final answer, and the end (the body never asked
        # for is never waited for).
        resp = raw(self.srv.port, b"PUT /x HTTP/1.1\r\nHost: x\r\n"
                   b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\n",
                   shut=False)
        self.assertEqual(status_of(resp), 405)
        self.assertIn(b"Connection: close", resp)
        self.assertNotIn(b"100 Continue", resp)

    def test_get_with_a_body_is_framed_by_it(self):
        # The body is skipped by its length: the request after it is
        # read as a request, not the body as one.
        resp = raw(self.srv.port, b"GET /plain.txt HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Length: 32\r\n\r\nGET /four.bin HTTP/1.1\r\nX: y\r\n\r\n"
                   b"GET /inside HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(resp.count(b"HTTP/1.1 200 OK"), 2)
        self.assertNotIn(b"Content-Length: 4096", resp)
        resp = raw(self.srv.port, b"GET /plain.txt HTTP/1.1\r\nHost: x\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                   b"GET /inside HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(resp.count(b"HTTP/1.1 200 OK"), 2)

    def test_smuggling_forms_are_refused_and_closed(self):
        forms = {
            "duplicate Content-Length": b"Content-Length: 1\r\n"
                                        b"Content-Length: 1\r\n",
            "Content-Length list": b"Content-Length: 1, 1\r\n",
            "CL and TE": b"Content-Length: 1\r\n"
                         b"Transfer-Encoding: chunked\r\n",
            "TE not ending in chunked": b"Transfer-Encoding: chunked, gzip\r\n",
            "TE gzip alone": b"Transfer-Encoding: gzip\r\n",
            "obs-fold": b"X-A: 1\r\n  folded\r\n",
            "space before colon": b"Content-Length : 1\r\n",
            "bare LF": b"X-A: 1\n",
            "bare CR": b"X-A: 1\rX-B: 2\r\n",
            "two Host": b"Host: y\r\n",
            "NUL in a value": b"X-A: a\x00b\r\n",
        }
        for what, fields in forms.items():
            req = (b"GET /plain.txt HTTP/1.1\r\nHost: x\r\n" + fields +
                   b"\r\nGET /plain.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            resp = raw(self.srv.port, req)
            self.assertEqual(status_of(resp), 400, what)
            self.assertEqual(resp.count(b"HTTP/1.1 "), 1, what)  # closed
            self.assertIn(b"Connection: close", resp, what)
        resp = raw(self.srv.port, b"GET / HTTP/1.1\r\n\r\n")  # no Host
        self.assertEqual(status_of(resp), 400)
        served_meanwhile(self, self.srv.port)

    def test_size_limits(self):
        cases = [
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 +
             b"\r\n\r\n", 431),
            (b"GET / HTTP/1.1\r\nHost: x\r\n" +
             b"".join(b"X-%d: 1\r\n" % i for i in range(101)) + b"\r\n", 431),
            (b"GET / HTTP/1.1\r\nHost: x\r\n" +
             b"".join(b"X-%d: %s\r\n" % (i, b"v" * 4000)
                      for i in range(9)) + b"\r\n", 431),
            (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
             413),
            (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: "
             b"99999999999999999999\r\n\r\n", 400),
        ]
        for req, want in cases:
            resp = raw(self.srv.port, req)
            self.assertEqual(status_of(resp), want, req[:50])
            self.assertLess(len(resp), 600)  # small bodies
        served_meanwhile(self, self.srv.port)

    def test_ten_thousand_pipelined_requests_in_one_write(self):
        n = 10000
        req = b"GET /plain.txt HTTP/1.1\r\nHost: x\r\n\r\n" * (n - 1)
        req += b"GET /plain.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        t0 = time.monotonic()
        resp = raw(self.srv.port, req, shut=False)
        self.assertEqual(resp.count(b"HTTP/1.1 200 OK\r\n"), n)
        self.assertEqual(resp.count(b"file 0: plain.txt\n"), n)
        self.assertLess(time.monotonic() - t0, 10)
        served_meanwhile(self, self.srv.port)

    def test_slowloris_meets_the_header_timeout(self):
        s = connect(self.srv.port)
        try:
            s.sendall(b"GET /plain.txt HTTP/1.1\r\n")
            t0 = time.monotonic()
            closed = False
            while time.monotonic() - t0 < 4:
                served_meanwhile(self, self.srv.port)
                try:
                    s.sendall(b"X")
                    s.settimeout(0.2)
                    if s.recv(100) == b"":
                        closed = True
                        break
                except socket.timeout:
                    continue
                except OSError:
                    closed = True
                    break
            self.assertTrue(closed, "a trickled head was not cut off")
            self.assertLess(time.monotonic() - t0, 3.5)
        finally:
            s.close()

    def test_max_per_ip(self):
        with Serve("--max-per-ip", "2", "http", TREE) as srv:
            a, b = connect(srv.port), connect(srv.port)
            try:
                # Both admitted (answered) before the third comes.
                for s in (a, b):
                    s.sendall(b"GET /plain.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                    self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200"))
                # The refusal is a reset, which may beat connect() back.
                try:
                    c = connect(srv.port)
                except ConnectionResetError:
                    c = None
                if c is not None:
                    c.settimeout(2)
                    try:
                        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                        self.assertEqual(c.recv(100), b"")
                    except (ConnectionResetError, BrokenPipeError):
                        pass
                    c.close()
            finally:
                a.close()
                b.close()
            srv.wait_for("max-per-ip|max_per_ip")


class Logs(unittest.TestCase):
    def test_common_log_format(self):
        need("curl")
        with tempfile.TemporaryFile() as log:
            with serve(log=log) as srv:
                base = "http://127.0.0.1:%d" % srv.port
                curl(base + "/plain.txt", base + "/nope")
                curl("-r", "0-9", base + "/big.bin")
                srv.stop()
            log.seek(0)
            lines = log.read().decode().splitlines()
        self.assertEqual(len(lines), 3, lines)
        rx = (r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
              r'"GET %s HTTP/1\.1" %d %s$')
        size = os.path.getsize(os.path.join(TREE, "plain.txt"))
        self.assertRegex(lines[0], rx % ("/plain.txt", 200, size))
        self.assertRegex(lines[1], rx % ("/nope", 404, r"\d+"))
        self.assertRegex(lines[2], rx % ("/big.bin", 206, 10))

    def test_json_lines(self):
        need("curl")
        with tempfile.TemporaryFile() as log:
            with Serve("--json", "http", TREE, stdout=log) as srv:
                curl("http://127.0.0.1:%d/big.bin" % srv.port, "-o",
                     os.devnull)
                srv.stop()
            log.seek(0)
            lines = log.read().decode().splitlines()
        self.assertEqual(len(lines), 1, lines)
        o = json.loads(lines[0])
        self.assertEqual(json_schema.check("serve", o), [])
        self.assertEqual(o["type"], "request")
        self.assertEqual(o["method"], "GET")
        self.assertEqual(o["path"], "/big.bin")
        self.assertEqual(o["status"], 200)
        self.assertEqual(o["bytes"], os.path.getsize(BIG))
        self.assertEqual(o["peer_address"], "127.0.0.1")
        self.assertIsInstance(o["peer_port"], int)
        self.assertGreater(o["duration_s"], 0)


class Tls(unittest.TestCase):
    def test_https_file_by_curl(self):
        need("curl", "openssl")
        certs = tempfile.mkdtemp(prefix="sockit-http-tls-")
        try:
            subprocess.run(["sh", MKCERTS, certs], check=True, timeout=60,
                           capture_output=True)
            with Serve("--tls", "--cert", os.path.join(certs, "server.pem"),
                       "--key", os.path.join(certs, "server.key"), "http",
                       TREE) as srv:
                url = "https://localhost:%d/" % srv.port
                with tempfile.TemporaryDirectory() as d:
                    out = os.path.join(d, "big")
                    rc, _, err = curl("--cacert", os.path.join(certs, "ca.pem"),
                                      "-o", out, url + "big.bin")
                    self.assertEqual(rc, 0, err)
                    self.assertEqual(sha(out), sha(BIG))
                rc, body, err = curl("--cacert", os.path.join(certs, "ca.pem"),
                                     "-r", "100-199", url + "four.bin")
                with open(SMALL, "rb") as f:
                    self.assertEqual(body, f.read()[100:200])
        finally:
            shutil.rmtree(certs, ignore_errors=True)


class DevTools:
    """Chromium driven through the DevTools protocol on a pipe
    (--remote-debugging-pipe: it reads commands on fd 3 and writes on fd
    4, each JSON message ended by a NUL), without chromedriver."""

    def __init__(self, profile):
        r_in, self.w = os.pipe()
        self.r, w_out = os.pipe()

        def fds():
            # The pipes are close-on-exec: put them at 3 and 4, kept.
            os.dup2(r_in, 3) if r_in != 3 else None
            os.dup2(w_out, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)
        self.p = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--user-data-dir=" + profile,
             "--remote-debugging-pipe", "about:blank"], preexec_fn=fds,
            close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r_in)
        os.close(w_out)
        self.buf, self.id = b"", 0

    def send(self, method, **params):
        self.id += 1
        msg = {"id": self.id, "method": method, "params": params}
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        return self.id

    def messages(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            while b"\0" in self.buf:
                m, self.buf = self.buf.split(b"\0", 1)
                yield json.loads(m)
            if select.select([self.r], [], [], 0.2)[0]:
                data = os.read(self.r, 1 << 16)
                if not data:
                    return
                self.buf += data

    def close(self):
        self.p.kill()
        self.p.wait(TIMEOUT)
        os.close(self.w)
        os.close(self.r)


@unittest.skipUnless(ROOT, "Chromium runs here only as root (--no-sandbox)")
class Browser(unittest.TestCase):
    """Headless Chromium loads the listing and a file (screenshot and
    DOM), and downloads a binary file as a user's click would, through
    the DevTools protocol; the download is compared by sha256."""

    def chromium(self, *args):
        p = subprocess.run(["chromium", "--headless=new", "--no-sandbox",
                            "--disable-gpu", "--no-first-run",
                            "--user-data-dir=" + self.profile, *args],
                           capture_output=True, timeout=60)
        return p.returncode, p.stdout.decode()

    def setUp(self):
        need("chromium")
        self.profile = tempfile.mkdtemp(prefix="sockit-chromium-")

    def tearDown(self):
        shutil.rmtree(self.profile, ignore_errors=True)

    def test_listing_and_a_file_in_the_browser(self):
        with serve() as srv:
            base = "http://127.0.0.1:%d/" % srv.port
            with tempfile.TemporaryDirectory() as d:
                png = os.path.join(d, "listing.png")
                rc, _ = self.chromium("--window-size=1024,768",
                                      "--screenshot=" + png, base)
                self.assertEqual(rc, 0)
                with open(png, "rb") as f:
                    head = f.read(24)
                self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
                w, h = int.from_bytes(head[16:20], "big"), \
                    int.from_bytes(head[20:24], "big")
                self.assertEqual((w, h), (1024, 768))
                self.assertGreater(os.path.getsize(png), 5000)
            rc, dom = self.chromium("--dump-dom", base)
            self.assertIn("<title>Index of /</title>", dom)
            entries = [n for n in os.listdir(TREE)
                       if not n.startswith(".") and n != "out"]
            links = re.findall(r'<td><a href="([^"]+)"', dom)
            self.assertEqual(len(links), len(entries), links)
            name = "ünïcödé ✓.txt"
            rc, dom = self.chromium("--dump-dom",
                                    base + urllib.request.quote(name))
            m = re.search(r"<pre[^>]*>(.*)</pre>", dom, re.S)
            self.assertIsNotNone(m, dom)
            got = html.unescape(m.group(1)).encode()
            self.assertEqual(hashlib.sha256(got).hexdigest(),
                             sha(os.path.join(TREE, name)))

    def test_download_through_the_browser(self):
        with serve() as srv, tempfile.TemporaryDirectory() as d:
            cdp = DevTools(self.profile)
            try:
                cdp.send("Browser.setDownloadBehavior", behavior="allow",
                         downloadPath=d, eventsEnabled=True)
                cdp.send("Target.createTarget",
                         url="http://127.0.0.1:%d/big.bin" % srv.port)
                state = None
                for m in cdp.messages(60):
                    if m.get("method") == "Browser.downloadProgress":
                        state = m["params"]["state"]
                        if state in ("completed", "canceled"):
                            break
            finally:
                cdp.close()
            self.assertEqual(state, "completed")
            got = os.path.join(d, "big.bin")
            self.assertEqual(sha(got), sha(BIG))


if __name__ == "__main__":
    unittest.main()
