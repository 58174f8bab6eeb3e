"""test_listen_more.py - what `sockit listen` and `connect` learned from
ncat and redis: loopback on both families (127.0.0.1 and ::1 on one
port), -k --broker with several python3 clients and a slow reader cut
off, --exec / --sh-exec for one connection, Unix datagram sockets and
--unlink of a stale socket file. Only loopback and Unix sockets in
temporary directories; every wait has a timeout."""
import os
import socket
import subprocess
import sys
import tempfile
import unittest

from bridgetest import (TIMEOUT, Listener, Server, free_port, read_line,
                        recv_all, sockit)
from clitest import ROOT, SOCKIT

PY = sys.executable or "/usr/bin/python3"


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def client(port, data=b"", host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT)
        s.connect((host, port))
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return recv_all(s)


class Loopback(unittest.TestCase):
    @unittest.skipUnless(have_ipv6_loopback(), "no ::1 here")
    def test_port_0_binds_both_families_on_one_port(self):
        lst = Listener("-v", "0")
        self.assertRegex(lst.addr, r"^127\.0\.0\.1:\d+$")
        second = read_line(lst.p.stderr)
        self.assertEqual(second, "sockit: listen: listening on [::1]:%d\n"
                         % lst.port)
        client(lst.port, b"over six", host="::1")
        rc, out, err = lst.finish()
        self.assertEqual((rc, out), (0, b"over six"), err)

    @unittest.skipUnless(have_ipv6_loopback(), "no ::1 here")
    def test_given_port_binds_both_and_v4_client_works(self):
        port = free_port()
        p = subprocess.Popen([SOCKIT, "listen", "-v", str(port)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.assertIn("127.0.0.1:%d" % port, read_line(p.stderr))
        self.assertIn("[::1]:%d" % port, read_line(p.stderr))
        client(port, b"four")
        out, err = p.communicate(timeout=TIMEOUT)
        self.assertEqual((p.returncode, out), (0, b"four"), err)

    def test_without_v_one_line_as_before(self):
        lst = Listener("0")
        client(lst.port, b"x")
        rc, out, err = lst.finish()
        self.assertEqual((rc, out), (0, b"x"))
        self.assertEqual(err.count("\n"), 1, err)

    @unittest.skipUnless(ROOT, "needs root for a network namespace")
    def test_no_ipv6_means_127_0_0_1_alone_silently(self):
        script = ("ip link set lo up && "
                  "sysctl -qw net.ipv6.conf.lo.disable_ipv6=1 && "
                  "exec %s -c 'import subprocess, socket, sys\n"
                  "p = subprocess.Popen([\"%s\", \"listen\", \"-v\", \"0\"],"
                  " stdout=subprocess.PIPE, stderr=subprocess.PIPE,"
                  " stdin=subprocess.DEVNULL)\n"
                  "line = p.stderr.readline().decode()\n"
                  "port = int(line.rsplit(\":\", 1)[1])\n"
                  "c = socket.create_connection((\"127.0.0.1\", port), 10)\n"
                  "c.sendall(b\"ok\"); c.close()\n"
                  "out, err = p.communicate(timeout=10)\n"
                  "print(p.returncode, out.decode(), repr(line + err.decode()))'"
                  % (PY, os.path.abspath(SOCKIT)))
        p = subprocess.run(["unshare", "-n", "sh", "-c", script],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        rc, out, err = p.stdout.split(" ", 2)
        self.assertEqual((rc, out), ("0", "ok"), p.stdout)
        self.assertIn("listening on 127.0.0.1:", err)
        self.assertNotIn("::1", err)
        self.assertNotIn("error", err)

    def test_dash_4_and_dash_6_bind_one(self):
        lst = Listener("-4", "-v", "0")
        client(lst.port, b"4")
        rc, _, err = lst.finish()
        self.assertEqual(rc, 0)
        self.assertNotIn("::1", err)


class Broker(unittest.TestCase):
    def start(self, *args):
        return Listener("-k", "--broker", *args, "0")

    def member(self, port):
        s = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        return s

    def expect_connected(self, lst, n):
        """n "connected" lines, past the second listening line ([::1])."""
        while n > 0:
            line = read_line(lst.p.stderr)
            if "listening on [::1]" in line:
                continue
            self.assertIn("connected", line)
            n -= 1

    def read_exactly(self, s, n):
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def test_each_clients_bytes_go_to_all_the_others(self):
        lst = self.start("-v")
        try:
            a, b, c = (self.member(lst.port) for _ in range(3))
            self.expect_connected(lst, 3)
            a.sendall(b"from a\n")
            self.assertEqual(self.read_exactly(b, 7), b"from a\n")
            self.assertEqual(self.read_exactly(c, 7), b"from a\n")
            c.sendall(b"from c\n")
            self.assertEqual(self.read_exactly(a, 7), b"from c\n")
            self.assertEqual(self.read_exactly(b, 7), b"from c\n")
            # Nobody hears itself: a's next bytes are c's, not its own.
            b.sendall(b"b!")
            self.assertEqual(self.read_exactly(a, 2), b"b!")
            a.settimeout(0.2)
            with self.assertRaises(socket.timeout):
                a.recv(1)
            for s in (a, b, c):
                s.close()
        finally:
            rc, _, err = lst.finish(terminate=True)
        self.assertEqual(rc, 0, err)

    def test_a_slow_reader_is_cut_off_and_the_others_go_on(self):
        lst = self.start("-v")
        try:
            sender, reader, stalled = (self.member(lst.port)
                                       for _ in range(3))
            self.expect_connected(lst, 3)  # all admitted before a byte
            # In step: the reader takes each block before the next is
            # sent, so only the one that never reads falls behind.
            block = os.urandom(1 << 16)
            for _ in range(256):  # 16 MiB
                sender.sendall(block)
                self.assertEqual(self.read_exactly(reader, len(block)), block)
            # The one that never read was reset at the cap.
            stalled.settimeout(TIMEOUT)
            with self.assertRaises(ConnectionResetError):
                while stalled.recv(1 << 16):
                    pass
            for s in (sender, reader, stalled):
                s.close()
        finally:
            rc, _, err = lst.finish(terminate=True)
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"cut off: output cap of \d+ bytes")

    def test_usage_errors(self):
        for args in (["--broker", "-u", "0"], ["--broker", "--exec", "cat", "0"],
                     ["--broker", "--send", "x", "0"]):
            rc, _, err = sockit("listen", *args)
            self.assertEqual(rc, 2, args)
            self.assertIn("--broker", err)


class ExecOne(unittest.TestCase):
    def test_listen_k_exec_one_program_per_client(self):
        lst = Listener("-k", "0", "--exec", "cat")
        for i in range(3):
            msg = b"client %d\n" % i
            self.assertEqual(client(lst.port, msg), msg)
        rc, _, err = lst.finish(terminate=True)
        self.assertNotEqual(rc, 0)  # -k ends only by a signal

    def test_listen_exec_runs_the_program_for_the_client(self):
        lst = Listener("0", "--exec", "cat")
        self.assertEqual(client(lst.port, b"through cat\n"), b"through cat\n")
        rc, out, err = lst.finish()
        self.assertEqual((rc, out), (0, b""), err)

    def test_listen_exec_gives_the_peers_address(self):
        lst = Listener("0", "--sh-exec",
                       'echo "$REMOTE_ADDR $REMOTE_PORT"')
        with socket.create_connection(("127.0.0.1", lst.port), TIMEOUT) as s:
            me = s.getsockname()
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(recv_all(s), b"127.0.0.1 %d\n" % me[1])
        self.assertEqual(lst.finish()[0], 0)

    def test_listen_exec_no_shell_and_sh_exec(self):
        lst = Listener("0", "--exec", "echo $((1+1))  'a  b'")
        self.assertEqual(client(lst.port), b"$((1+1)) 'a b'\n")
        lst.finish()
        lst = Listener("0", "--sh-exec", "echo $((1+1))")
        self.assertEqual(client(lst.port), b"2\n")
        lst.finish()

    def test_program_failure_is_the_exit_status(self):
        lst = Listener("0", "--sh-exec", "exit 3")
        client(lst.port)
        rc, _, err = lst.finish()
        self.assertEqual(rc, 1)
        self.assertIn("exited with status 3", err)

    def test_connect_exec(self):
        def handler(conn):
            conn.sendall(b"hello\n")
            return recv_all(conn)
        srv = Server(handler)
        with tempfile.TemporaryDirectory() as d:
            script = os.path.join(d, "up.py")
            with open(script, "w") as f:
                f.write("import sys\nsys.stdout.write(sys.stdin.readline()"
                        ".upper())\n")
            rc, out, err = sockit("connect", "--exec", "%s %s" % (PY, script),
                                  "127.0.0.1", str(srv.port))
        self.assertEqual(rc, 0, err)
        self.assertEqual(srv.finish(), b"HELLO\n")

    def test_connect_sh_exec(self):
        srv = Server(lambda conn: recv_all(conn))
        rc, _, err = sockit("connect", "--sh-exec", "echo \"$REMOTE_PORT\"",
                            "127.0.0.1", str(srv.port))
        self.assertEqual(rc, 0, err)
        self.assertEqual(srv.finish(), b"%d\n" % srv.port)

    def test_exec_usage_errors(self):
        rc, _, err = sockit("connect", "--exec", "/no/such/thing", "127.0.0.1", "9")
        self.assertEqual(rc, 2)
        self.assertIn("no such program", err)
        rc, _, err = sockit("listen", "--exec", "cat", "--sh-exec", "cat", "0")
        self.assertEqual(rc, 2)
        rc, _, err = sockit("listen", "-u", "--exec", "cat", "0")
        self.assertEqual(rc, 2)
        rc, _, err = sockit("connect", "--send", "x", "--exec", "cat",
                            "127.0.0.1", "9")
        self.assertEqual(rc, 2)
        with socket.socket() as held:  # bound, not listening: refuses
            held.bind(("127.0.0.1", 0))
            port = str(held.getsockname()[1])
            rc, _, err = sockit("connect", "--exec", " ".join(["cat"] * 63),
                                "127.0.0.1", port)
        self.assertEqual(rc, 1, err)  # 63 words are taken
        self.assertIn("connection refused", err)
        rc, _, err = sockit("connect", "--exec", " ".join(["cat"] * 64),
                            "127.0.0.1", "9")
        self.assertEqual(rc, 2)
        self.assertIn("over 63 words", err)
        rc, _, err = sockit("connect", "--exec", "x" * 1024, "127.0.0.1", "9")
        self.assertEqual(rc, 2)
        self.assertIn("over 1023 bytes", err)


class UnixDgram(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def test_listen_hears_and_answers_a_datagram_client(self):
        path = self.path("srv")
        p = subprocess.Popen([SOCKIT, "listen", "-v", "unix-dgram:" + path],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.assertIn("listening on unix:" + path, read_line(p.stderr))
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as c:
            c.settimeout(TIMEOUT)
            c.bind(self.path("cli"))
            c.sendto(b"dgram one", path)
            self.assertEqual(os.read(p.stdout.fileno(), 100), b"dgram one")
            p.stdin.write(b"answer")
            p.stdin.flush()
            self.assertEqual(c.recv(100), b"answer")
        p.terminate()
        p.communicate(timeout=TIMEOUT)
        self.assertFalse(os.path.exists(path), "socket file left behind")

    def test_connect_sends_and_gets_the_reply(self):
        path = self.path("srv")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.bind(path)
            s.settimeout(TIMEOUT)
            p = subprocess.Popen([SOCKIT, "connect", "unix-dgram:" + path],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            p.stdin.write(b"ping")
            p.stdin.flush()
            data, sender = s.recvfrom(100)
            self.assertEqual(data, b"ping")
            s.sendto(b"pong", sender)
            self.assertEqual(os.read(p.stdout.fileno(), 100), b"pong")
            p.stdin.close()
            self.assertEqual(p.wait(TIMEOUT), 0, p.stderr.read())
            p.stdout.close()
            p.stderr.close()

    def test_connect_to_nobody_is_a_clear_error(self):
        rc, _, err = sockit("connect", "unix-dgram:" + self.path("none"))
        self.assertEqual(rc, 1)
        self.assertIn("no such file or directory", err)


class Unlink(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.path = os.path.join(self.dir.name, "s")

    def stale(self, kind=socket.SOCK_STREAM):
        s = socket.socket(socket.AF_UNIX, kind)
        s.bind(self.path)
        s.close()  # a server that died: the file stays

    def test_without_unlink_a_stale_file_is_in_use(self):
        self.stale()
        rc, _, err = sockit("listen", "--unix", self.path)
        self.assertEqual(rc, 1)
        self.assertIn("address already in use", err)
        self.assertIn("--unlink", err)

    def test_unlink_replaces_a_stale_file(self):
        self.stale()
        lst = Listener("-v", "--unlink", "--unix", self.path)
        with socket.socket(socket.AF_UNIX) as c:
            c.settimeout(TIMEOUT)
            c.connect(self.path)
            c.sendall(b"fresh")
            c.shutdown(socket.SHUT_WR)
        rc, out, err = lst.finish()
        self.assertEqual((rc, out), (0, b"fresh"), err)

    def test_unlink_refuses_when_someone_listens(self):
        with socket.socket(socket.AF_UNIX) as live:
            live.bind(self.path)
            live.listen()
            rc, _, err = sockit("listen", "--unlink", "--unix", self.path)
            self.assertEqual(rc, 1)
            self.assertIn("a live socket listens there", err)
            self.assertTrue(os.path.exists(self.path))

    def test_unlink_never_removes_a_plain_file(self):
        with open(self.path, "w") as f:
            f.write("precious")
        rc, _, err = sockit("listen", "--unlink", "--unix", self.path)
        self.assertEqual(rc, 1)
        self.assertIn("not a socket", err)
        with open(self.path) as f:
            self.assertEqual(f.read(), "precious")

    def test_unlink_for_datagram_sockets(self):
        self.stale(socket.SOCK_DGRAM)
        p = subprocess.Popen([SOCKIT, "listen", "-v", "--unlink",
                              "unix-dgram:" + self.path],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.assertIn("listening on", read_line(p.stderr))
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as c:
            c.sendto(b"dg", self.path)
        self.assertEqual(os.read(p.stdout.fileno(), 10), b"dg")
        p.terminate()
        p.communicate(timeout=TIMEOUT)

    def test_unlink_needs_a_unix_socket(self):
        rc, _, err = sockit("listen", "--unlink", "0")
        self.assertEqual(rc, 2)
        self.assertIn("--unlink", err)


if __name__ == "__main__":
    unittest.main()
