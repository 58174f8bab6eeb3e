"""test_stdout.py - a standard output that cannot be written: every
command run with stdout on /dev/full (a write fails with ENOSPC) exits 1
with one message naming stdout, never 0 as if its output had gone out;
stdout on a pipe whose reader has left says "broken pipe" the same way."""
import os
import socket
import subprocess
import unittest

from clitest import SOCKIT
from servetest import Serve

MESSAGE = "sockit: %s: stdout: no space left on device\n"


def run_full(*args, timeout=20):
    """sockit ARGS with stdout on /dev/full: (exit code, stderr)."""
    with open("/dev/full", "w") as full:
        p = subprocess.run([SOCKIT, *args], stdout=full,
                           stderr=subprocess.PIPE, text=True,
                           stdin=subprocess.DEVNULL, timeout=timeout)
    return p.returncode, p.stderr


@unittest.skipUnless(os.path.exists("/dev/full"), "needs /dev/full")
class DevFull(unittest.TestCase):
    def assert_full(self, cmd, *args):
        rc, err = run_full(cmd, *args)
        self.assertEqual((rc, err), (1, MESSAGE % cmd), args)

    def test_resolve(self):
        self.assert_full("resolve", "localhost")
        self.assert_full("resolve", "127.0.0.1")
        self.assert_full("resolve", "--json", "localhost")

    def test_service(self):
        self.assert_full("service", "http")

    def test_hostname(self):
        self.assert_full("hostname")

    def test_check(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        try:
            self.assert_full("check", "127.0.0.1", str(s.getsockname()[1]))
            self.assert_full("check", "--json", "127.0.0.1",
                             str(s.getsockname()[1]))
        finally:
            s.close()

    def test_scan(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        try:
            self.assert_full("scan", "127.0.0.1", str(s.getsockname()[1]))
        finally:
            s.close()

    def test_bench(self):
        with Serve("echo") as srv:
            self.assert_full("bench", "-q", "-n", "10", "-c", "1",
                             "127.0.0.1:%d" % srv.tcp)

    def test_connect(self):
        """The relay writes stdout itself and names it the same way."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        try:
            with open("/dev/full", "w") as full:
                p = subprocess.Popen([SOCKIT, "connect", "127.0.0.1",
                                      str(s.getsockname()[1])],
                                     stdin=subprocess.DEVNULL, stdout=full,
                                     stderr=subprocess.PIPE, text=True)
            c, _ = s.accept()
            c.sendall(b"hello\n")
            c.close()
            _, err = p.communicate(timeout=10)
            self.assertEqual(p.returncode, 1, err)
            self.assertEqual(err.count("\n"), 1, err)
            self.assertIn("stdout: no space left on device", err)
        finally:
            s.close()

    def test_top_level(self):
        for args in (["--version"], ["--help"], ["help", "scan"]):
            rc, err = run_full(*args)
            self.assertEqual(rc, 1, args)
            self.assertEqual(err, "sockit: stdout: no space left on device\n",
                             args)

    def test_nothing_written_is_no_error(self):
        """A failure that printed nothing has nothing to lose on stdout."""
        rc, err = run_full("check", "127.0.0.1")
        self.assertEqual(rc, 2, err)
        self.assertNotIn("stdout", err)


class BrokenPipe(unittest.TestCase):
    def test_reader_gone(self):
        r, w = os.pipe()
        os.close(r)
        try:
            p = subprocess.run([SOCKIT, "resolve", "localhost"], stdout=w,
                               stderr=subprocess.PIPE, text=True, timeout=10)
        finally:
            os.close(w)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr, "sockit: resolve: stdout: broken pipe\n")


if __name__ == "__main__":
    unittest.main()
