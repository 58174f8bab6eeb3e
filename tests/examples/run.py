#!/usr/bin/env python3
"""tests/examples/run.py BUILD - the examples, driven as a user drives them.

Each example runs against its C partner and/or a python3 peer written the
way the tutorials write it (the tutorial's own code, pointed at loopback and
port 0). Rules every test keeps:
  - only 127.0.0.1 and ::1, only port 0 (a server's real port is read back
    from the line it prints, a python peer's from getsockname());
  - no name is resolved except "localhost";
  - every process and every socket wait has a timeout, and every server is
    killed in cleanup.
The last line printed is exactly "N passed, M failed"; the exit status is
non-zero on any failure.
"""

import http.server
import os
import queue
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

BUILD = "build"
TIMEOUT = 20  # seconds for any one process, thread or socket wait


def exe(name):
    return os.path.join(BUILD, "examples", name)


def decode(b):
    # Bytes as they came: no newline translation, so "\r\n" stays visible.
    return b.decode("utf-8", "replace")


def run(name, *args, timeout=TIMEOUT):
    """Run an example to completion; stdout/stderr decoded, rc kept."""
    p = subprocess.run([exe(name), *map(str, args)], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    p.stdout, p.stderr = decode(p.stdout), decode(p.stderr)
    return p


def have_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


HAVE_IPV6 = have_ipv6()


class Server:
    """A C example server in the background. Its first stdout line names the
    port it listens on; later lines are collected for the test to read."""

    def __init__(self, test, name, *args, banner=None):
        self.name = name
        self.proc = subprocess.Popen([exe(name), *map(str, args)],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        test.addCleanup(self.stop)
        self.lines = queue.Queue()
        self.out, self.err = [], []
        self.readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout,
                                                      self.out, self.lines),
                             daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr,
                                                      self.err, None),
                             daemon=True),
        ]
        for t in self.readers:
            t.start()
        self.banner = self.next_line()
        if banner is not None and not re.fullmatch(banner, self.banner):
            raise AssertionError("%s: banner %r does not match %r"
                                 % (name, self.banner, banner))
        m = re.search(r"(\d+)\D*$", self.banner)
        if m is None:
            raise AssertionError("%s: no port in %r" % (name, self.banner))
        self.port = int(m.group(1))

    @staticmethod
    def _pump(pipe, into, lines):
        for raw in iter(pipe.readline, b""):
            line = decode(raw)
            into.append(line)
            if lines is not None:
                lines.put(line.rstrip("\n"))
        if lines is not None:
            lines.put(None)

    def next_line(self, timeout=TIMEOUT):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("%s: no line in %ss" % (self.name, timeout))
        if line is None:
            self.proc.wait(timeout=timeout)
            raise AssertionError("%s: exited %s before printing; stderr: %r"
                                 % (self.name, self.proc.returncode,
                                    self.stderr()))
        return line

    def stderr(self):
        return "".join(self.err)

    def wait(self, timeout=TIMEOUT):
        """Wait for the server to exit by itself; returns rc, stdout, stderr
        (stdout after the banner)."""
        rc = self.proc.wait(timeout=timeout)
        for t in self.readers:
            t.join(timeout)
        return rc, "".join(self.out[1:]), self.stderr()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)
        for t in self.readers:
            t.join(TIMEOUT)
        self.proc.stdout.close()
        self.proc.stderr.close()


class Peer:
    """A python peer running in a thread; result() re-raises what it raised."""

    def __init__(self, test, fn, *args):
        self.value, self.error = None, None
        self.thread = threading.Thread(target=self._main, args=(fn, args),
                                       daemon=True)
        self.thread.start()
        test.addCleanup(self.thread.join, TIMEOUT)

    def _main(self, fn, args):
        try:
            self.value = fn(*args)
        except BaseException as e:  # handed to the test thread
            self.error = e

    def result(self):
        self.thread.join(TIMEOUT)
        if self.thread.is_alive():
            raise AssertionError("python peer still running after %ss"
                                 % TIMEOUT)
        if self.error is not None:
            raise self.error
        return self.value


class Case(unittest.TestCase):
    """Helpers shared by the tests: python sockets that clean up after
    themselves."""

    def sock(self, family=socket.AF_INET, type=socket.SOCK_STREAM):
        s = socket.socket(family, type)
        s.settimeout(TIMEOUT)
        self.addCleanup(s.close)
        return s

    def listener(self, host="127.0.0.1"):
        """The tutorial's bind/listen, on port 0."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = self.sock(family)
        s.bind((host, 0))
        s.listen(5)
        return s, s.getsockname()[1]

    def closed_port(self, type=socket.SOCK_STREAM):
        """A TCP port that refuses connections: bound (so nobody else gets
        it) but not listening. For UDP, a port just released."""
        s = socket.socket(socket.AF_INET, type)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        if type == socket.SOCK_DGRAM:
            s.close()
        else:
            self.addCleanup(s.close)
        return port

    def http_server(self, host="127.0.0.1"):
        """A tiny http.server on port 0 that answers every GET and HEAD with
        a short page naming the path, and records each request's head."""
        seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _head(self):
                seen.append((self.command, self.path, dict(self.headers)))
                body = ("hello from python, path %s\n" % self.path).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return body

            def do_HEAD(self):
                self._head()

            def do_GET(self):
                self.wfile.write(self._head())

            def log_message(self, *args):
                pass

        class V6Server(http.server.ThreadingHTTPServer):
            address_family = socket.AF_INET6

        cls = V6Server if ":" in host else http.server.ThreadingHTTPServer
        srv = cls((host, 0), Handler)
        t = threading.Thread(target=srv.serve_forever, args=(0.05,),
                             daemon=True)
        t.start()
        self.addCleanup(srv.server_close)
        self.addCleanup(t.join, TIMEOUT)
        self.addCleanup(srv.shutdown)
        return srv.server_address[1], seen

    def assertExit(self, p, rc):
        self.assertEqual(p.returncode, rc,
                         "exit %s, stdout %r, stderr %r"
                         % (p.returncode, p.stdout, p.stderr))


def recv_all(s):
    """Read until the peer closes."""
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data
        data += chunk


# The framing tutorial's helpers, as written there.
def recv_exactly(sock, n):
    """Receive exactly n bytes from a socket."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("Connection closed")
        data += chunk
    return data


def send_message(sock, msg):
    """Send a length-prefixed message."""
    length = struct.pack("!I", len(msg))
    sock.sendall(length + msg)


def recv_message(sock):
    """Receive a length-prefixed message."""
    raw_len = recv_exactly(sock, 4)
    msg_len = struct.unpack("!I", raw_len)[0]
    return recv_exactly(sock, msg_len)


# ---- socket_create, hostname, resolve ----

class SocketCreate(Case):
    def test_socket_create_prints_like_python_repr(self):
        p = run("socket_create")
        self.assertExit(p, 0)
        self.assertTrue(p.stdout.startswith("<socket fd="), p.stdout)
        self.assertIn("family=AF_INET, type=SOCK_STREAM", p.stdout)
        self.assertTrue(p.stdout.endswith(">\n"), p.stdout)

    def test_socket_create_inet6_dgram(self):
        if not HAVE_IPV6:
            self.skipTest("no IPv6")
        p = run("socket_create", "inet6", "dgram")
        self.assertExit(p, 0)
        self.assertIn("family=AF_INET6, type=SOCK_DGRAM", p.stdout)

    def test_socket_create_rejects_unknown_family(self):
        p = run("socket_create", "ipx")
        self.assertExit(p, 2)
        self.assertIn("usage:", p.stderr)


class Hostname(Case):
    def test_hostname_matches_python_gethostname(self):
        p = run("hostname")
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, socket.gethostname() + "\n")


class Resolve(Case):
    def test_resolve_localhost_prints_127_0_0_1(self):
        p = run("resolve")  # default NAME: localhost
        self.assertExit(p, 0)
        self.assertIn("127.0.0.1", p.stdout.splitlines())

    def test_resolve_localhost_ipv4_only(self):
        p = run("resolve", "-4", "localhost")
        self.assertExit(p, 0)
        lines = p.stdout.splitlines()
        self.assertIn("127.0.0.1", lines)
        self.assertFalse([l for l in lines if ":" in l], lines)

    def test_resolve_numeric_ipv6_literal(self):
        p = run("resolve", "--numeric", "::1")
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "::1\n")

    def test_resolve_numeric_refuses_a_name(self):
        p = run("resolve", "--numeric", "localhost")
        self.assertExit(p, 1)
        self.assertTrue(p.stderr.startswith("resolve: resolve localhost: "),
                        p.stderr)


# ---- welcome_server / welcome_client (tutorial examples 4 and 5) ----

WELCOME = b"Hello from the server!"


class Welcome(Case):
    def test_welcome_server_with_tutorial_client(self):
        srv = Server(self, "welcome_server", "127.0.0.1", 0,
                     banner=r"Server listening on port \d+\.\.\.")
        # Example 5, pointed at the port the server printed.
        client_socket = self.sock()
        client_socket.connect(("127.0.0.1", srv.port))
        message = recv_all(client_socket)
        cport = client_socket.getsockname()[1]
        client_socket.close()
        self.assertEqual(message, WELCOME)
        rc, out, err = srv.wait()
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "Connection from 127.0.0.1:%d\n" % cport)

    def test_welcome_client_with_tutorial_server(self):
        server_socket, port = self.listener()

        def example4():
            client_socket, client_address = server_socket.accept()
            client_socket.send(WELCOME)
            client_socket.close()
        peer = Peer(self, example4)
        p = run("welcome_client", "127.0.0.1", port)
        peer.result()
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "Hello from the server!\n")

    def test_welcome_client_with_welcome_server(self):
        srv = Server(self, "welcome_server", 0)  # loopback by default
        p = run("welcome_client", "127.0.0.1", srv.port)
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "Hello from the server!\n")
        self.assertEqual(srv.wait()[0], 0)

    def test_welcome_client_connection_refused(self):
        port = self.closed_port()
        p = run("welcome_client", "127.0.0.1", port)
        self.assertExit(p, 1)
        self.assertEqual(p.stderr, "welcome_client: connect to 127.0.0.1 "
                         "port %d: connection refused\n" % port)


# ---- echo_server / echo_client ("Python Socket") ----

def tutorial_echo_server(s, chunk_delay=0.0):
    """echo_server.py, one client; chunk_delay dribbles the echo back in
    small pieces, as a slow network would."""
    con, addr = s.accept()
    with con:
        while True:
            data = con.recv(1024)
            if not data:
                break
            if chunk_delay:
                for i in range(0, len(data), 100):
                    con.sendall(data[i:i + 100])
                    time.sleep(chunk_delay)
            else:
                con.sendall(data)


class Echo(Case):
    def test_echo_server_with_tutorial_client(self):
        srv = Server(self, "echo_server", "127.0.0.1", 0, "--count", 1,
                     banner=r"socket binded to \d+")
        s = self.sock()
        s.connect(("127.0.0.1", srv.port))
        s.sendall(b"hello there")
        self.assertEqual(str(s.recv(4096), "utf-8"), "hello there")
        s.close()
        rc, out, err = srv.wait()
        self.assertEqual((rc, out, err), (0, "", ""))

    def test_echo_server_serves_clients_in_turn_with_c_client(self):
        srv = Server(self, "echo_server", 0, "--count", 3)
        p = run("echo_client", "127.0.0.1", srv.port)
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "hello there\n")
        p = run("echo_client", "127.0.0.1", srv.port, "several", "words")
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "several words\n")
        big = "0123456789" * 6000  # many segments, far past one recv(4096)
        p = run("echo_client", "127.0.0.1", srv.port, big)
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, big + "\n")
        self.assertEqual(srv.wait(), (0, "", ""))

    def test_echo_client_with_tutorial_server(self):
        s, port = self.listener()
        peer = Peer(self, tutorial_echo_server, s)
        p = run("echo_client", "127.0.0.1", port, "hello", "from", "C")
        peer.result()
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "hello from C\n")

    def test_echo_client_reads_whole_echo_arriving_in_pieces(self):
        s, port = self.listener()
        peer = Peer(self, tutorial_echo_server, s, 0.002)
        msg = "x" * 3000
        p = run("echo_client", "127.0.0.1", port, msg)
        peer.result()
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, msg + "\n")

    def test_echo_client_server_hangs_up_early(self):
        s, port = self.listener()

        def half_echo():
            con, _ = s.accept()
            with con:
                data = con.recv(1024)
                con.sendall(data[:3])
        peer = Peer(self, half_echo)
        p = run("echo_client", "127.0.0.1", port, "hello")
        peer.result()
        self.assertExit(p, 1)
        self.assertEqual(p.stderr, "echo_client: recv: connection closed "
                         "before all expected bytes arrived\n")


# ---- upper_server (the sockets chapter's tcp_echo_server.py) ----

class Upper(Case):
    def test_upper_server_with_tutorial_clients(self):
        srv = Server(self, "upper_server", "127.0.0.1", 0, "--count", 2,
                     banner=r"Server listening on port \d+\.\.\.")
        # The TCP client of "What Are Sockets in Python".
        client_socket = self.sock()
        client_socket.connect(("127.0.0.1", srv.port))
        client_socket.send("Hello, server!".encode("utf-8"))
        response = client_socket.recv(1024).decode("utf-8")
        cport = client_socket.getsockname()[1]
        client_socket.close()
        self.assertEqual(response, "HELLO, SERVER!")
        self.assertEqual(srv.next_line(),
                         "Connection from 127.0.0.1:%d" % cport)
        # A message sent in two pieces is answered whole, not cut at the
        # first recv() as in the tutorial's server.
        s = self.sock()
        s.connect(("127.0.0.1", srv.port))
        s.sendall(b"first half, ")
        time.sleep(0.05)
        s.sendall(b"second half" + b"!" * 2000)
        s.shutdown(socket.SHUT_WR)
        self.assertEqual(recv_all(s), b"FIRST HALF, SECOND HALF" + b"!" * 2000)
        s.close()
        rc, out, err = srv.wait()
        self.assertEqual((rc, err), (0, ""))

    def test_upper_server_ipv6_with_tutorial_client(self):
        if not HAVE_IPV6:
            self.skipTest("no IPv6")
        srv = Server(self, "upper_server", "::1", 0, "--count", 1)
        # The chapter's IPv6 TCP client.
        s = self.sock(socket.AF_INET6)
        s.connect(("::1", srv.port))
        s.sendall(b"Hello, IPv6!")
        self.assertEqual(s.recv(1024).decode(), "HELLO, IPV6!")
        cport = s.getsockname()[1]
        s.close()
        self.assertEqual(srv.next_line(), "Connection from [::1]:%d" % cport)
        self.assertEqual(srv.wait()[0], 0)


# ---- udp_echo_server / udp_echo_client ----

class UdpEcho(Case):
    def test_udp_echo_server_with_tutorial_client(self):
        srv = Server(self, "udp_echo_server", "127.0.0.1", 0, "--count", 1,
                     banner=r"UDP server listening on port \d+\.\.\.")
        s = self.sock(type=socket.SOCK_DGRAM)
        s.sendto(b"Hello, UDP!", ("127.0.0.1", srv.port))
        data, addr = s.recvfrom(1024)
        self.assertEqual(data.decode(), "HELLO, UDP!")
        self.assertEqual(addr, ("127.0.0.1", srv.port))
        rc, out, err = srv.wait()
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "From 127.0.0.1:%d: Hello, UDP!\n"
                         % s.getsockname()[1])

    def test_udp_echo_client_with_tutorial_server(self):
        s = self.sock(type=socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

        def tutorial_udp_server():
            data, addr = s.recvfrom(1024)
            s.sendto(data.upper(), addr)
            return data
        peer = Peer(self, tutorial_udp_server)
        p = run("udp_echo_client", "127.0.0.1", port, "quiet words")
        self.assertEqual(peer.result(), b"quiet words")
        self.assertExit(p, 0)
        self.assertEqual(p.stdout,
                         "Received from 127.0.0.1:%d: QUIET WORDS\n" % port)

    def test_udp_echo_client_with_c_server(self):
        srv = Server(self, "udp_echo_server", 0, "--count", 1)
        p = run("udp_echo_client", "127.0.0.1", srv.port)
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "Received from 127.0.0.1:%d: HELLO, UDP!\n"
                         % srv.port)
        self.assertEqual(srv.wait()[0], 0)

    def test_udp_echo_client_times_out_on_silence(self):
        s = self.sock(type=socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))  # receives, never answers
        start = time.monotonic()
        p = run("udp_echo_client", "--timeout", 300, "127.0.0.1",
                s.getsockname()[1])
        self.assertLess(time.monotonic() - start, 10)
        self.assertExit(p, 1)
        self.assertEqual(p.stderr, "udp_echo_client: recv: timed out\n")

    def test_udp_echo_client_closed_port_is_refused(self):
        port = self.closed_port(socket.SOCK_DGRAM)
        p = run("udp_echo_client", "--timeout", 5000, "127.0.0.1", port)
        self.assertExit(p, 1)
        self.assertIn("connection refused", p.stderr)


# ---- port_check (connect_ex) ----

class PortCheck(Case):
    def test_port_check_open_and_closed(self):
        _, open_port = self.listener()
        closed = self.closed_port()
        p = run("port_check", "127.0.0.1", open_port, closed)
        self.assertExit(p, 1)
        self.assertEqual(p.stdout, "%d open\n%d closed (connection refused)\n"
                         % (open_port, closed))

    def test_port_check_all_open_exits_zero(self):
        _, a = self.listener()
        _, b = self.listener()
        p = run("port_check", "--timeout", 1000, "127.0.0.1", a, b)
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "%d open\n%d open\n" % (a, b))

    def test_port_check_localhost_tries_every_address(self):
        # localhost may be ::1 first; the v4-only listener is still found.
        _, port = self.listener()
        p = run("port_check", "localhost", port)
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "%d open\n" % port)

    def test_port_check_rejects_bad_port(self):
        p = run("port_check", "127.0.0.1", "80abc")
        self.assertExit(p, 2)


# ---- http_head / http_get ("Python Socket") ----

class Http(Case):
    def test_http_head_prints_header_only(self):
        port, seen = self.http_server()
        p = run("http_head", "127.0.0.1", port)
        self.assertExit(p, 0)
        self.assertTrue(p.stdout.startswith("HTTP/1.0 200 OK\r\n"), p.stdout)
        self.assertIn("Content-Length: 26\r\n", p.stdout)
        self.assertTrue(p.stdout.endswith("\r\n\r\n"), p.stdout)
        self.assertNotIn("hello from python", p.stdout)
        method, path, headers = seen[0]
        self.assertEqual((method, path), ("HEAD", "/"))
        self.assertEqual(headers["Host"], "127.0.0.1:%d" % port)
        self.assertEqual(headers["Connection"], "close")

    def test_http_get_prints_until_eof(self):
        port, seen = self.http_server()
        p = run("http_get", "127.0.0.1", port, "/index.html")
        self.assertExit(p, 0)
        self.assertTrue(p.stdout.startswith("HTTP/1.0 200 OK\r\n"), p.stdout)
        self.assertTrue(p.stdout.endswith(
            "\r\n\r\nhello from python, path /index.html\n"), p.stdout)
        self.assertEqual(seen[0][:2], ("GET", "/index.html"))
        self.assertEqual(seen[0][2]["Connection"], "close")

    def test_http_get_over_ipv6_brackets_host(self):
        if not HAVE_IPV6:
            self.skipTest("no IPv6")
        port, seen = self.http_server("::1")
        p = run("http_get", "::1", port)
        self.assertExit(p, 0)
        self.assertIn("hello from python, path /", p.stdout)
        self.assertEqual(seen[0][2]["Host"], "[::1]:%d" % port)

    def test_http_get_connection_refused(self):
        port = self.closed_port()
        p = run("http_get", "127.0.0.1", port)
        self.assertExit(p, 1)
        self.assertEqual(p.stderr, "http_get: connect to 127.0.0.1 port %d: "
                         "connection refused\n" % port)


# ---- daytime_client, qotd_client ("Python Socket") ----

class Daytime(Case):
    def daytime_server(self, pieces):
        s, port = self.listener()

        def serve():  # RFC 867: send the time, close
            con, _ = s.accept()
            with con:
                for piece in pieces:
                    con.sendall(piece)
                    time.sleep(0.05)
        return port, Peer(self, serve)

    def test_daytime_client_with_python_daytime_server(self):
        now = time.ctime().encode() + b"\r\n"
        port, peer = self.daytime_server([now])
        p = run("daytime_client", "127.0.0.1", port)
        peer.result()
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, now.decode())

    def test_daytime_client_reads_until_server_closes(self):
        port, peer = self.daytime_server([b"60000 23-02-25 ", b"12:00:00 UTC\r\n"])
        p = run("daytime_client", "127.0.0.1", port)
        peer.result()
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "60000 23-02-25 12:00:00 UTC\r\n")


QUOTE = (b'"Oh the nerves, the nerves; the mysteries of this machine called '
         b'man!\n    Oh the little that unhinges it, poor creatures that we '
         b'are!"\n    Charles Dickens (1812-70)')


class Qotd(Case):
    def test_qotd_client_with_python_qotd_server(self):
        s = self.sock(type=socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))

        def serve():  # RFC 865: any datagram is answered with a quote
            data, addr = s.recvfrom(1024)
            s.sendto(QUOTE, addr)
            return data
        peer = Peer(self, serve)
        p = run("qotd_client", "127.0.0.1", s.getsockname()[1])
        self.assertEqual(peer.result(), b"")  # the empty datagram
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, QUOTE.decode() + "\n")

    def test_qotd_client_times_out(self):
        s = self.sock(type=socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        p = run("qotd_client", "--timeout", 300, "127.0.0.1",
                s.getsockname()[1])
        self.assertExit(p, 1)
        self.assertEqual(p.stderr, "qotd_client: recv: timed out\n")


# ---- nonblocking_connect (the chapter's non-blocking client) ----

class NonblockingConnect(Case):
    def test_nonblocking_connect_with_python_http_server(self):
        port, seen = self.http_server()
        p = run("nonblocking_connect", "127.0.0.1", port, "/nb")
        self.assertExit(p, 0)
        self.assertTrue(p.stdout.startswith("HTTP/1.0 200 OK\r\n"), p.stdout)
        self.assertTrue(p.stdout.endswith("hello from python, path /nb\n"),
                        p.stdout)
        self.assertEqual(seen[0][2]["Host"], "127.0.0.1:%d" % port)

    def test_nonblocking_connect_refused_is_reported(self):
        port = self.closed_port()
        p = run("nonblocking_connect", "127.0.0.1", port)
        self.assertExit(p, 1)
        self.assertEqual(p.stderr, "nonblocking_connect: connect to "
                         "127.0.0.1:%d: connection refused\n" % port)


# ---- dualstack_server ----

class DualStack(Case):
    def client(self, family, host, port, msg):
        s = self.sock(family)
        s.connect((host, port))
        s.sendall(msg)
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(1024)
            if not chunk:
                break
            reply += chunk
        cport = s.getsockname()[1]
        s.close()
        return reply.decode(), cport

    def test_dualstack_server_with_v4_and_v6_clients(self):
        if not HAVE_IPV6:
            self.skipTest("no IPv6")
        srv = Server(self, "dualstack_server", "::", 0, "--count", 2,
                     banner=r"Dual-stack server on port \d+")
        reply, cport = self.client(socket.AF_INET, "127.0.0.1", srv.port,
                                   b"Hello, IPv4!")
        self.assertEqual(reply, "Hello, IPv4 client 127.0.0.1:%d\n" % cport)
        self.assertEqual(srv.next_line(),
                         "Connection from 127.0.0.1:%d (IPv4, seen as "
                         "[::ffff:127.0.0.1]:%d)" % (cport, cport))
        reply, cport = self.client(socket.AF_INET6, "::1", srv.port,
                                   b"Hello, IPv6!")
        self.assertEqual(reply, "Hello, IPv6 client [::1]:%d\n" % cport)
        self.assertEqual(srv.next_line(),
                         "Connection from [::1]:%d (IPv6)" % cport)
        rc, out, err = srv.wait()
        self.assertEqual((rc, err), (0, ""))


# ---- framed (length-prefixed messages) ----

class Framed(Case):
    def test_framed_server_with_tutorial_client(self):
        srv = Server(self, "framed", "server", "127.0.0.1", 0, "--count", 1,
                     banner=r"Server listening on port \d+\.\.\.")
        s = self.sock()
        s.connect(("127.0.0.1", srv.port))
        for msg in [b"hello", b"", b"\x00\xff binary", b"z" * 100000]:
            send_message(s, msg)
            self.assertEqual(recv_message(s), msg)
        s.close()
        rc, out, err = srv.wait()
        self.assertEqual((rc, err), (0, ""))

    def test_framed_client_with_tutorial_server(self):
        s, port = self.listener()

        def serve():
            con, _ = s.accept()
            got = []
            with con:
                while True:
                    try:
                        msg = recv_message(con)
                    except ConnectionError:
                        return got
                    got.append(msg)
                    send_message(con, msg[::-1])
        peer = Peer(self, serve)
        p = run("framed", "client", "127.0.0.1", port, "one", "two words", "")
        self.assertExit(p, 0)
        self.assertEqual(peer.result(), [b"one", b"two words", b""])
        self.assertEqual(p.stdout, "eno\nsdrow owt\n\n")

    def test_framed_client_with_framed_server(self):
        srv = Server(self, "framed", "server", 0, "--count", 1)
        p = run("framed", "client", "127.0.0.1", srv.port, "ping", "pong")
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, "ping\npong\n")
        self.assertEqual(srv.wait()[0], 0)

    def test_framed_server_refuses_a_4_gib_length(self):
        srv = Server(self, "framed", "server", 0, "--count", 2)
        s = self.sock()
        s.connect(("127.0.0.1", srv.port))
        s.sendall(b"\xff\xff\xff\xff")  # recv_message would wait for 4 GiB
        try:
            self.assertEqual(s.recv(1024), b"")  # the server hung up
        except ConnectionResetError:
            pass
        s.close()
        # ... and lived on for the next client.
        s = self.sock()
        s.connect(("127.0.0.1", srv.port))
        send_message(s, b"still here")
        self.assertEqual(recv_message(s), b"still here")
        s.close()
        rc, out, err = srv.wait()
        self.assertEqual(rc, 0)
        self.assertIn("message exceeds the configured maximum", err)

    def test_framed_server_reports_a_truncated_frame(self):
        srv = Server(self, "framed", "server", 0, "--count", 1)
        s = self.sock()
        s.connect(("127.0.0.1", srv.port))
        s.sendall(struct.pack("!I", 100) + b"only ten b")
        s.close()
        rc, out, err = srv.wait()
        self.assertEqual(rc, 0)
        self.assertIn("connection closed before all expected bytes arrived",
                      err)


# ---- sockopts ----

class SockOpts(Case):
    def test_sockopts_reads_back_each_option(self):
        p = run("sockopts")
        self.assertExit(p, 0)
        got = {}
        for line in p.stdout.splitlines():
            m = re.fullmatch(r"(\w+)\s+\((\w+)\) set (-?\d+), reads back "
                             r"(-?\d+)", line)
            self.assertIsNotNone(m, line)
            got[m.group(1)] = (int(m.group(3)), int(m.group(4)))
        for name in ["SO_REUSEADDR", "SO_REUSEPORT", "SO_KEEPALIVE",
                     "TCP_NODELAY"]:
            self.assertEqual(got[name], (1, 1), name)
        for name in ["SO_SNDBUF", "SO_RCVBUF"]:
            asked, kept = got[name]
            self.assertEqual(asked, 65536)
            self.assertGreaterEqual(kept, 65536, name)  # Linux doubles it
        self.assertEqual(got["SO_LINGER"], (5, 5))


def main():
    global BUILD
    if len(sys.argv) != 2:
        print("usage: run.py BUILD_DIR", file=sys.stderr)
        return 2
    BUILD = sys.argv[1]
    # Every python socket, accepted ones included, waits at most TIMEOUT.
    socket.setdefaulttimeout(TIMEOUT)
    suite = unittest.defaultTestLoader.loadTestsFromModule(
        sys.modules[__name__])
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + \
        len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    if skipped:
        print("%d skipped" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
