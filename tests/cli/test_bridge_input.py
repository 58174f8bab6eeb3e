"""test_bridge_input.py - what connect sends and reads: --send's C
escapes, tested with the man page's own example as written, against a
python3 server that records the bytes."""
import os
import re
import unittest

from bridgetest import TIMEOUT, Server, recv_all, sockit

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


if __name__ == "__main__":
    unittest.main()
