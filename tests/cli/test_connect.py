"""test_connect.py - `sockit connect` as a user drives it, against python3
servers, nc, socat and sockit itself: v4, v6, Unix, UDP; every row of the
end-of-input table; binary transfers with a checksum; bad input."""
import os
import socket
import subprocess
import tempfile
import time
import unittest

from bridgetest import (TIMEOUT, Listener, Server, UdpServer, free_port,
                        recv_all, sha, sockit, tool)
from clitest import SOCKIT


def upper_echo(conn):
    """The tutorials' upper-casing server: reply once the client is done."""
    data = recv_all(conn)
    conn.sendall(data.upper())
    return data


class Interop(unittest.TestCase):
    def test_python_server_v4_host_port(self):
        srv = Server(upper_echo)
        rc, out, err = sockit("connect", "127.0.0.1", str(srv.port), input=b"hello\n")
        self.assertEqual((rc, out, err), (0, b"HELLO\n", ""))
        self.assertEqual(srv.finish(), b"hello\n")

    def test_python_server_v6_bracket_form(self):
        srv = Server(upper_echo, family=socket.AF_INET6)
        rc, out, _ = sockit("connect", "[::1]:%d" % srv.port, input=b"six\n")
        self.assertEqual((rc, out), (0, b"SIX\n"))
        srv.finish()

    def test_host_colon_port_form(self):
        srv = Server(upper_echo)
        rc, out, _ = sockit("connect", "127.0.0.1:%d" % srv.port, input=b"x")
        self.assertEqual((rc, out), (0, b"X"))
        srv.finish()

    def test_unix_socket(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "s")
            srv = Server(upper_echo, family=socket.AF_UNIX, address=path)
            rc, out, _ = sockit("connect", "unix:" + path, input=b"unix\n")
            self.assertEqual((rc, out), (0, b"UNIX\n"))
            srv.finish()

    def test_binary_to_nc_listener_with_checksum(self):
        data = os.urandom(3 << 20)
        with tempfile.TemporaryFile() as got:
            nc = subprocess.Popen(["nc", "-lv", "127.0.0.1", "0"], stdin=subprocess.DEVNULL,
                                  stdout=got, stderr=subprocess.PIPE)
            try:
                port = int(nc.stderr.readline().split()[-1])
                rc, out, err = sockit("connect", "127.0.0.1", str(port), input=data)
                nc.wait(TIMEOUT)
            finally:
                nc.kill()
                nc.communicate(timeout=TIMEOUT)
            got.seek(0)
            self.assertEqual((rc, err), (0, ""))
            self.assertEqual(sha(got.read()), sha(data))

    def test_ncat_listener_gets_data_and_answers(self):
        # ncat prints no port for port 0: take one the kernel handed out.
        port = free_port()
        ncat = subprocess.Popen(["ncat", "-l", "-v", "127.0.0.1", str(port)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            while b"Listening on" not in ncat.stderr.readline():
                pass
            ncat.stdin.write(b"from ncat\n")
            ncat.stdin.close()
            ncat.stdin = None
            rc, out, _ = sockit("connect", "127.0.0.1", str(port), input=b"to ncat\n")
            got, _ = ncat.communicate(timeout=TIMEOUT)
        finally:
            ncat.kill()
        self.assertEqual((rc, out, got), (0, b"from ncat\n", b"to ncat\n"))

    def test_socat_exec_peer_answers_after_half_close(self):
        # tr answers only at end of input: the default half-close gets it.
        socat = subprocess.Popen(["socat", "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1",
                                  "EXEC:tr a-z A-Z"], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            line = socat.stderr.readline().decode()
            port = line.rsplit(":", 1)[1].strip()
            rc, out, _ = sockit("connect", "127.0.0.1", port, input=b"via socat\n")
        finally:
            socat.kill()
            socat.communicate(timeout=TIMEOUT)
        self.assertEqual((rc, out), (0, b"VIA SOCAT\n"))

    def test_sockit_to_sockit_both_ways_binary(self):
        up, down = os.urandom(2 << 20), os.urandom(2 << 20)
        with tempfile.TemporaryFile() as f:
            f.write(down)
            f.seek(0)
            lst = Listener("0", stdin=f)
            rc, out, _ = sockit("connect", "127.0.0.1", str(lst.port), input=up)
            lrc, lout, _ = lst.finish()
        self.assertEqual((rc, lrc), (0, 0))
        self.assertEqual(sha(out), sha(down))
        self.assertEqual(sha(lout), sha(up))

    def test_udp_to_python_echo(self):
        srv = UdpServer(lambda d: d.upper())
        try:
            rc, out, _ = sockit("connect", "-u", "--udp-wait", "0.3", "127.0.0.1",
                                str(srv.port), input=b"ping\n")
        finally:
            srv.stop()
        self.assertEqual((rc, out), (0, b"PING\n"))
        self.assertEqual(srv.got, [b"ping\n"])

    def test_udp_v6(self):
        srv = UdpServer(lambda d: b"six:" + d, host="::1")
        try:
            rc, out, _ = sockit("connect", "-6", "-u", "--udp-wait", "0.3", "::1",
                                str(srv.port), input=b"x")
        finally:
            srv.stop()
        self.assertEqual((rc, out), (0, b"six:x"))


class EndOfInput(unittest.TestCase):
    """One test per row of the man page's table."""

    def test_default_half_close_exits_when_peer_closes(self):
        srv = Server(lambda c: c.sendall(b"%d bytes\n" % len(recv_all(c))))
        rc, out, _ = sockit("connect", "127.0.0.1", str(srv.port), input=b"12345")
        self.assertEqual((rc, out), (0, b"5 bytes\n"))
        srv.finish()

    def test_close_exits_at_once_while_peer_stays(self):
        def hold(conn):
            data = recv_all(conn)  # EOF comes from sockit's close
            return data
        srv = Server(hold)
        t0 = time.monotonic()
        rc, _, _ = sockit("connect", "--eof=close", "127.0.0.1", str(srv.port), input=b"bye")
        self.assertEqual(rc, 0)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(srv.finish(), b"bye")

    def test_wait_gives_up_after_secs_when_peer_stays(self):
        def half_then_hold(conn):
            data = recv_all(conn)   # the half-close arrives...
            time.sleep(1)           # ...but this peer does not close in time
            return data
        srv = Server(half_then_hold)
        t0 = time.monotonic()
        rc, _, _ = sockit("connect", "--eof=wait:0.3", "127.0.0.1", str(srv.port), input=b"x")
        took = time.monotonic() - t0
        self.assertEqual(rc, 0)
        self.assertLess(took, 2.5)
        self.assertEqual(srv.finish(), b"x")

    def test_wait_ends_early_when_peer_closes(self):
        srv = Server(upper_echo)
        t0 = time.monotonic()
        rc, out, _ = sockit("connect", "--eof=wait:30", "127.0.0.1", str(srv.port), input=b"w")
        self.assertEqual((rc, out), (0, b"W"))
        self.assertLess(time.monotonic() - t0, 10)
        srv.finish()

    def test_peer_closing_first_does_not_cut_input(self):
        def greet_then_read(conn):
            conn.sendall(b"hello\n")
            conn.shutdown(socket.SHUT_WR)
            return len(recv_all(conn))
        srv = Server(greet_then_read)
        data = os.urandom(1 << 20)
        rc, out, _ = sockit("connect", "127.0.0.1", str(srv.port), input=data)
        self.assertEqual((rc, out), (0, b"hello\n"))
        self.assertEqual(srv.finish(), len(data))

    def test_udp_default_wait_then_exit(self):
        srv = UdpServer(lambda d: None)
        try:
            t0 = time.monotonic()
            rc, out, _ = sockit("connect", "-u", "127.0.0.1", str(srv.port), input=b"q")
            took = time.monotonic() - t0
        finally:
            srv.stop()
        self.assertEqual((rc, out), (0, b""))
        self.assertLess(took, 5)

    def test_udp_eof_close_exits_without_waiting(self):
        srv = UdpServer(lambda d: None)
        try:
            rc, _, _ = sockit("connect", "-u", "--eof=close", "127.0.0.1", str(srv.port),
                              input=b"q")
        finally:
            srv.stop()
        self.assertEqual(rc, 0)

    def test_send_with_crlf_probe(self):
        def http(conn):
            req = b""
            while not req.endswith(b"\r\n\r\n"):
                req += conn.recv(1024)
            conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
            return req
        srv = Server(http)
        rc, out, _ = sockit("connect", "--send", "HEAD / HTTP/1.0\n\n", "--crlf",
                            "127.0.0.1", str(srv.port), stdin=subprocess.DEVNULL)
        self.assertEqual((rc, out), (0, b"HTTP/1.0 200 OK\r\n\r\n"))
        self.assertEqual(srv.finish(), b"HEAD / HTTP/1.0\r\n\r\n")


class Diagnostics(unittest.TestCase):
    def test_refused_is_one_line_exit_1(self):
        port = free_port()
        rc, out, err = sockit("connect", "127.0.0.1", str(port))
        self.assertEqual((rc, out), (1, b""))
        self.assertEqual(err, "sockit: connect: 127.0.0.1:%d: connection refused\n" % port)

    def test_verbose_names_tries_and_winner(self):
        srv = Server(recv_all)
        rc, _, err = sockit("connect", "-v", "127.0.0.1", str(srv.port), input=b"v")
        srv.finish()
        self.assertEqual(rc, 0)
        self.assertIn("tried 127.0.0.1:%d at +" % srv.port, err)
        self.assertIn("connected to 127.0.0.1:%d from 127.0.0.1:" % srv.port, err)
        self.assertIn("sent 1 bytes, received 0 bytes", err)

    def test_idle_timeout_is_a_failure(self):
        srv = Server(lambda c: c.recv(1))  # silent until sockit leaves
        p = subprocess.Popen([SOCKIT, "connect", "-w", "0.3", "127.0.0.1", str(srv.port)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            p.wait(TIMEOUT)  # stdin stays open: only the timeout ends it
            err = p.stderr.read()
        finally:
            p.kill()
            p.communicate(timeout=TIMEOUT)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(err.decode(), r"^sockit: connect: 127\.0\.0\.1:\d+: idle for 0\.3 s: timed out\n$")
        srv.finish()

    def test_stdout_gone_is_reported(self):
        srv = Server(lambda c: c.sendall(b"z" * (8 << 20)))
        r, w = os.pipe()
        os.close(r)
        try:
            p = subprocess.run([SOCKIT, "connect", "127.0.0.1", str(srv.port)],
                               stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.PIPE,
                               timeout=TIMEOUT)
        finally:
            os.close(w)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.decode(), "sockit: connect: stdout: broken pipe\n")
        try:
            srv.finish()
        except OSError:
            pass  # the server's send may see the reset

    def test_source_address_and_port(self):
        port = free_port()
        srv = Server(recv_all)
        rc, _, _ = sockit("connect", "-s", "127.0.0.1", "--source-port", str(port),
                          "127.0.0.1", str(srv.port))
        srv.finish()
        self.assertEqual(rc, 0)
        self.assertEqual(srv.peer, ("127.0.0.1", port))


class BadInput(unittest.TestCase):
    """Each: exit 2, nothing on stdout, exactly one line on stderr."""

    def check(self, *args, want=None):
        rc, out, err = sockit("connect", *args)
        self.assertEqual((rc, out), (2, b""), args)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertTrue(err.startswith("sockit: connect: "), err)
        if want:
            self.assertIn(want, err)

    def test_missing_value(self):
        self.check("127.0.0.1", "80", "-w", want="'-w' needs a value")
        self.check("--eof", want="'--eof' needs a value")

    def test_bad_seconds(self):
        self.check("-w", "abc", "127.0.0.1", "80", want="'abc'")
        self.check("-w", "0", "127.0.0.1", "80", want="more than 0")
        self.check("--eof=wait:soon", "127.0.0.1", "80")
        self.check("-u", "--udp-wait", "-1", "127.0.0.1", "80")

    def test_bad_ports(self):
        for port in ("65536", "80-20", "0", "http-ish!"):
            self.check("127.0.0.1", port)
        self.check("127.0.0.1:65536")
        self.check("--source-port", "65536", "127.0.0.1", "80")

    def test_bad_addresses(self):
        self.check("[::1", "80")
        self.check("[::1:80")
        self.check("::1:80")
        self.check("-s", "not-an-ip", "127.0.0.1", "80", want="not-an-ip")
        self.check()

    def test_conflicts(self):
        self.check("-4", "-6", "localhost", "80", want="conflict")
        self.check("-u", "unix:/tmp/x", want="conflict")
        self.check("-4", "unix:/tmp/x", want="conflict")
        self.check("-s", "127.0.0.1", "unix:/tmp/x", want="conflict")
        self.check("-6", "-s", "127.0.0.1", "localhost", "80", want="conflict")
        self.check("--udp-wait", "1", "127.0.0.1", "80", want="needs -u")
        self.check("-u", "--eof=half", "127.0.0.1", "80", want="-u")
        self.check("-u", "--eof=close", "--udp-wait", "1", "127.0.0.1", "80", want="conflict")

    def test_unknown_options(self):
        self.check("--bogus", "127.0.0.1", "80", want="'--bogus'")
        self.check("-x", "127.0.0.1", "80", want="'-x'")
        self.check("--eof=sometimes", "127.0.0.1", "80", want="sometimes")
        self.check("--crlf=yes", "127.0.0.1", "80", want="'--crlf' takes no value")


if __name__ == "__main__":
    unittest.main()
