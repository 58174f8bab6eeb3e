"""test_bridge_input.py - what connect sends and reads: --send's C
escapes, tested with the man page's own example as written, against a
python3 server that records the bytes; standard fds that start closed."""
import os
import re
import subprocess
import unittest

from bridgetest import TIMEOUT, Server, recv_all, sockit
from clitest import SOCKIT

HERE = os.path.dirname(os.path.abspath(__file__))
MAN = os.path.join(HERE, "..", "..", "docs", "sockit.1")


def recorder(reply=b""):
    """A handler that records everything until the client's half-close,
    then answers reply and closes."""
    def handle(conn):
        data = recv_all(conn)
        conn.sendall(reply)
        return data
    return handle


def man_example():
    """The --send example of the man page's EXAMPLES, as a user types it:
    roff's \\e is a backslash, \\- a dash."""
    with open(MAN) as f:
        for line in f:
            if line.startswith("$ sockit connect \\-\\-send 'HEAD"):
                text = line[2:].rstrip("\n").replace("\\-", "-").replace("\\e", "\\")
                return text
    raise AssertionError("no --send example in docs/sockit.1")


class SendEscapes(unittest.TestCase):
    def test_man_page_example_as_written(self):
        cmd = man_example()
        self.assertEqual(cmd, "sockit connect --send 'HEAD / HTTP/1.0\\n\\n' "
                         "--crlf localhost 80")
        m = re.match(r"^sockit connect --send '([^']*)' --crlf localhost 80$", cmd)
        srv = Server(recorder(b"HTTP/1.0 200 OK\r\n\r\n"))
        rc, out, err = sockit("connect", "--send", m.group(1), "--crlf",
                              "localhost", str(srv.port))
        self.assertEqual(srv.finish(), b"HEAD / HTTP/1.0\r\n\r\n")
        self.assertEqual((rc, out, err), (0, b"HTTP/1.0 200 OK\r\n\r\n", ""))

    def test_every_escape(self):
        srv = Server(recorder())
        rc, _, err = sockit("connect", "--send", r"a\tb\\c\x41\x7e\0z\r\n\x4",
                            "127.0.0.1", str(srv.port))
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(srv.finish(), b"a\tb\\cA~\x00z\r\n\x04")

    def test_bad_escape_is_a_usage_error(self):
        for bad in (r"a\q", "trailing\\", r"\xZZ"):
            rc, out, err = sockit("connect", "--send", bad, "127.0.0.1", "9")
            self.assertEqual((rc, out), (2, b""), bad)
            self.assertEqual(err.count("\n"), 1, err)
            self.assertIn("--send: bad escape", err)


class ClosedStdin(unittest.TestCase):
    """Issue 10 defect 3: with fd 0 closed, the socket must not become
    standard input (sockit would relay its socket into itself)."""

    def test_connect_with_stdin_closed(self):
        srv = Server(lambda conn: (conn.sendall(b"ping\n"), recv_all(conn))[1])
        try:
            p = subprocess.run([SOCKIT, "connect", "127.0.0.1", str(srv.port)],
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=TIMEOUT, preexec_fn=lambda: os.close(0))
        except subprocess.TimeoutExpired:
            self.fail("sockit relayed its own socket into itself (no end)")
        got = srv.finish()
        self.assertEqual(got, b"", "sockit sent back what it received")
        self.assertEqual((p.returncode, p.stdout), (0, b"ping\n"), p.stderr)

    def test_closed_stdout_and_stderr_are_not_sockets(self):
        # With fds 1 and 2 closed, neither the peer's data nor a message
        # may be written to the socket (stdout would be the socket).
        srv = Server(lambda conn: (conn.sendall(b"ping\n"), recv_all(conn))[1])
        p = subprocess.run([SOCKIT, "connect", "--send", "x", "127.0.0.1",
                            str(srv.port)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=TIMEOUT,
                           preexec_fn=lambda: (os.close(1), os.close(2)))
        self.assertEqual(srv.finish(), b"x")
        self.assertEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main()
