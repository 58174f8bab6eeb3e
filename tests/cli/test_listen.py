"""test_listen.py - `sockit listen` as a user drives it: python3, nc, ncat
and socat clients over v4, v6, Unix and UDP; -k; --allow/--deny with v4
and v4-mapped clients; the end-of-input table; bad input."""
import os
import socket
import subprocess
import tempfile
import time
import unittest

from bridgetest import TIMEOUT, Listener, read_line, recv_all, sha, tool
from clitest import SOCKIT


def client(port, data=b"", host="127.0.0.1", read=True):
    """A tutorial client: connect, send, half-close, read to the end."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT)
        s.connect((host, port))
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return recv_all(s) if read else b""


class Interop(unittest.TestCase):
    def test_prints_real_port_and_relays_python_client(self):
        lst = Listener("0")
        self.assertRegex(lst.addr, r"^127\.0\.0\.1:\d+$")
        self.assertNotEqual(lst.port, 0)
        client(lst.port, b"hi\n")
        rc, out, err = lst.finish()
        self.assertEqual((rc, out), (0, b"hi\n"))
        self.assertEqual(err.count("\n"), 1, err)

    def test_v6_host(self):
        lst = Listener("::1", "0")
        self.assertRegex(lst.addr, r"^\[::1\]:\d+$")
        client(lst.port, b"six", host="::1")
        self.assertEqual(lst.finish()[:2], (0, b"six"))

    def test_reply_reaches_client_then_client_data_reaches_stdout(self):
        with tempfile.TemporaryFile() as f:
            f.write(b"welcome\n")
            f.seek(0)
            lst = Listener("0", stdin=f)
            got = client(lst.port, b"thanks\n")
            rc, out, _ = lst.finish()
        self.assertEqual(got, b"welcome\n")
        self.assertEqual((rc, out), (0, b"thanks\n"))

    def test_nc_client_binary_with_checksum(self):
        data = os.urandom(3 << 20)
        lst = Listener("0")
        rc, _, _ = tool("nc", "-N", "127.0.0.1", str(lst.port), input=data)
        lrc, out, _ = lst.finish()
        self.assertEqual((rc, lrc), (0, 0))
        self.assertEqual(sha(out), sha(data))

    def test_ncat_client(self):
        lst = Listener("0")
        rc, _, _ = tool("ncat", "127.0.0.1", str(lst.port), input=b"from ncat\n")
        self.assertEqual(rc, 0)
        self.assertEqual(lst.finish()[:2], (0, b"from ncat\n"))

    def test_socat_client_gets_stdin(self):
        with tempfile.TemporaryFile() as f:
            f.write(b"to socat\n")
            f.seek(0)
            lst = Listener("0", stdin=f)
            rc, out, _ = tool("socat", "-", "TCP:127.0.0.1:%d" % lst.port, input=b"")
            lrc, _, _ = lst.finish()
        self.assertEqual((rc, lrc, out), (0, 0, b"to socat\n"))

    def test_unix_socket_file_is_removed_after(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "s")
            lst = Listener("-v", "--unix", path)
            self.assertEqual(lst.addr, "unix:" + path)
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(TIMEOUT)
                s.connect(path)
                s.sendall(b"over unix")
            rc, out, _ = lst.finish()
            self.assertEqual((rc, out), (0, b"over unix"))
            self.assertFalse(os.path.exists(path))

    def test_unix_socket_file_is_removed_on_sigterm(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "s")
            lst = Listener("-k", "-v", "unix:" + path)
            self.assertTrue(os.path.exists(path))
            lst.finish(terminate=True)
            self.assertFalse(os.path.exists(path))

    def test_keep_serves_two_clients_in_turn(self):
        lst = Listener("-k", "-v", "0")
        with socket.create_connection(("127.0.0.1", lst.port), TIMEOUT) as first:
            # The second waits in the backlog until the first is done.
            second = socket.create_connection(("127.0.0.1", lst.port), TIMEOUT)
            second.sendall(b"two\n")
            second.shutdown(socket.SHUT_WR)
            first.sendall(b"one\n")
        self.assertEqual(recv_all(second), b"")
        second.close()
        lines = read_line(lst.p.stdout) + read_line(lst.p.stdout)
        rc, out, err = lst.finish(terminate=True)
        self.assertEqual(lines, "one\ntwo\n")
        self.assertEqual(err.count("connection from 127.0.0.1:"), 2, err)

    def test_udp_replies_go_to_last_sender(self):
        lst = Listener("-u", "0", stdin=subprocess.PIPE)
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for s in (a, b):
                s.settimeout(TIMEOUT)
            a.sendto(b"from a\n", ("127.0.0.1", lst.port))
            self.assertEqual(read_line(lst.p.stdout), "from a\n")
            lst.p.stdin.write(b"to a\n")
            lst.p.stdin.flush()
            self.assertEqual(a.recv(100), b"to a\n")
            b.sendto(b"from b\n", ("127.0.0.1", lst.port))
            self.assertEqual(read_line(lst.p.stdout), "from b\n")
            lst.p.stdin.write(b"to b\n")
            lst.p.stdin.flush()
            self.assertEqual(b.recv(100), b"to b\n")
        finally:
            a.close()
            b.close()
            lst.p.stdin.close()
            lst.finish(terminate=True)

    def test_udp_wait_exits_after_stdin_ends(self):
        lst = Listener("-u", "--udp-wait", "0.2", "0")
        rc, out, _ = lst.finish()
        self.assertEqual((rc, out), (0, b""))


class AllowDeny(unittest.TestCase):
    def attempt(self, *args, host=None, refused=False):
        """Listen with args, connect once from 127.0.0.1 sending "x":
        (what the client read back or "reset", listener stdout, stderr).
        A refused client leaves the listener waiting for the next one."""
        lst = Listener("-v", *args, *([host] if host else []), "0")
        try:
            got = client(lst.port, b"x")
        except OSError:  # reset: refused at once, maybe mid-send
            got = "reset"
        line = read_line(lst.p.stderr) if refused else ""  # before SIGTERM
        rc, out, err = lst.finish(terminate=refused)
        return got, out, err + line

    def test_deny_v4_client(self):
        lst = Listener("-v", "--deny", "127.0.0.0/8", "0")
        try:
            client(lst.port, b"x")
            got = b""
        except OSError:  # reset: refused at once, maybe mid-send
            got = "reset"
        line = read_line(lst.p.stderr)
        if "listening on [::1]" in line:  # -v: the second loopback socket
            line = read_line(lst.p.stderr)
        rc, out, _ = lst.finish(terminate=True)
        self.assertIn(got, ("reset", b""))
        self.assertEqual(out, b"")
        self.assertRegex(line, r"^sockit: listen: 127\.0\.0\.1:\d+: refused by --allow/--deny\n$")

    def test_allow_other_range_refuses(self):
        _, out, err = self.attempt("--allow", "10.0.0.0/8", "--allow", "::1",
                                   refused=True)
        self.assertEqual(out, b"")
        self.assertIn("refused", err)

    def test_allow_v4_client(self):
        _, out, err = self.attempt("--allow", "127.0.0.1")
        self.assertEqual(out, b"x")
        self.assertIn("connection from 127.0.0.1:", err)

    def test_v4_mapped_client_matches_v4_rule(self):
        # A v6 socket on the mapped loopback: the v4 client arrives as
        # ::ffff:127.0.0.1, and a plain v4 rule must still hold it.
        _, out, err = self.attempt("--deny", "127.0.0.1", host="::ffff:127.0.0.1",
                                   refused=True)
        self.assertEqual(out, b"")
        self.assertIn("[::ffff:127.0.0.1]:", err)
        self.assertIn("refused", err)
        _, out, err = self.attempt("--allow", "127.0.0.0/8", host="::ffff:127.0.0.1")
        self.assertEqual(out, b"x")
        self.assertIn("connection from [::ffff:127.0.0.1]:", err)


class EndOfInput(unittest.TestCase):
    def test_default_half_close_then_waits_for_client(self):
        lst = Listener("0")  # stdin /dev/null: half-closed at once
        with socket.create_connection(("127.0.0.1", lst.port), TIMEOUT) as s:
            self.assertEqual(recv_all(s), b"")   # the half-close
            s.sendall(b"after your EOF\n")        # still delivered
        self.assertEqual(lst.finish()[:2], (0, b"after your EOF\n"))

    def test_close_exits_while_client_stays(self):
        lst = Listener("--eof=close", "--send", "bye\n", "0")
        with socket.create_connection(("127.0.0.1", lst.port), TIMEOUT) as s:
            rc, _, _ = lst.finish()
            self.assertEqual(recv_all(s), b"bye\n")
        self.assertEqual(rc, 0)

    def test_wait_gives_up_while_client_stays(self):
        lst = Listener("--eof=wait:0.3", "0")
        with socket.create_connection(("127.0.0.1", lst.port), TIMEOUT) as s:
            t0 = time.monotonic()
            rc, _, _ = lst.finish()
            self.assertLess(time.monotonic() - t0, 5)
            self.assertEqual(recv_all(s), b"")
        self.assertEqual(rc, 0)

    def test_send_goes_to_each_client_with_k(self):
        lst = Listener("-k", "--send", "banner\n", "--crlf", "0")
        try:
            for _ in range(2):
                self.assertEqual(client(lst.port), b"banner\r\n")
        finally:
            lst.finish(terminate=True)


class BadInput(unittest.TestCase):
    def check(self, *args, want=None):
        p = subprocess.run([SOCKIT, "listen", *args], capture_output=True,
                           timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        err = p.stderr.decode()
        self.assertEqual((p.returncode, p.stdout), (2, b""), args)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertTrue(err.startswith("sockit: listen: "), err)
        if want:
            self.assertIn(want, err)

    def test_ports(self):
        self.check()
        self.check("65536")
        self.check("80-20")
        self.check("127.0.0.1", "65536")
        self.check("[::1", "0")

    def test_values(self):
        self.check("-w", "abc", "0", want="'abc'")
        self.check("0", "-w", want="needs a value")
        self.check("--allow", "999.1.1.1", "0", want="999.1.1.1")
        self.check("--deny", "10.0.0.0/33", "0", want="10.0.0.0/33")
        self.check("--eof=never", "0")
        self.check("--unix", "", want="--unix")

    def test_conflicts(self):
        self.check("-4", "-6", "0", want="conflict")
        self.check("-u", "--unix", "/tmp/x", want="conflict")
        self.check("--unix", "/tmp/x", "80", want="conflict")
        self.check("--allow", "127.0.0.1", "--unix", "/tmp/x", want="conflict")
        self.check("--udp-wait", "1", "0", want="needs -u")

    def test_unknown_option(self):
        self.check("--bogus", "0", want="'--bogus'")
        self.check("-z", "0", want="'-z'")


if __name__ == "__main__":
    unittest.main()
