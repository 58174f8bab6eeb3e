"""test_serve_unix.py - `sockit serve SERVICE --listen unix:PATH` and
unix:@name as a user drives it: python3's socket as the client for echo
and hello, the file's mode (--unix-mode) read back with os.stat, a stale
socket file replaced, a live one and a regular file refused and left as
they were, the file gone after a stop, the log's peer for Unix clients,
--allow/--deny and --max-per-ip as documented for them, and no fd left
open in the server after its clients went.

Every socket lives in a fresh temporary directory; every wait has a
timeout.
"""
import json
import os
import signal
import socket
import stat
import tempfile
import time
import unittest

import json_schema
from bridgetest import TIMEOUT, recv_all
from clitest import SOCKIT, run
from servetest import Serve

def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def uconnect(addr):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(addr)
    return s


def uask(addr, data):
    with uconnect(addr) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return recv_all(s)


def start(*args, listen):
    """A server on a unix: address, its listening line read back."""
    ips = sum(1 for a in args if a == "--listen")
    srv = Serve(*args, "--listen", listen, listen="", want=ips)
    srv.wait_for(r'listening on unix:|"transport":"unix"')
    return srv


class Unix(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "s.sock")

    def tearDown(self):
        self.dir.cleanup()

    def test_echo_over_a_path_and_the_file_goes_at_stop(self):
        with start("echo", "--workers", "2", listen="unix:" + self.path) as srv:
            self.assertTrue(stat.S_ISSOCK(os.lstat(self.path).st_mode))
            for i in range(6):  # several, so both workers take some
                self.assertEqual(uask(self.path, b"hi %d\n" % i),
                                 b"hi %d\n" % i)
            rc, log = srv.stop()
        self.assertEqual(rc, 0, log)
        self.assertIn("echo listening on unix:%s\n" % self.path, log + "\n")
        self.assertFalse(os.path.exists(self.path), "socket file left behind")

    def test_hello_over_an_abstract_name(self):
        name = "sockit-test-%d" % os.getpid()
        with start("hello", listen="unix:@" + name) as srv:
            got = uask("\0" + name, b"GET / HTTP/1.0\r\n\r\n")
            self.assertTrue(got.startswith(b"HTTP/1.0 200") or
                            got.startswith(b"HTTP/1.1 200"), got[:80])
            self.assertEqual(srv.stop()[0], 0)

    def test_unix_mode_sets_the_file_permissions(self):
        for mode in (0o600, 0o660, 0o666):
            with start("echo", "--unix-mode", "%o" % mode,
                       listen="unix:" + self.path) as srv:
                self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode),
                                 mode)
                self.assertEqual(uask(self.path, b"x"), b"x")
                self.assertEqual(srv.stop()[0], 0)

    def test_a_stale_socket_file_is_replaced(self):
        dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        dead.bind(self.path)  # bound, never listening: what a crash leaves
        dead.close()
        self.assertTrue(stat.S_ISSOCK(os.lstat(self.path).st_mode))
        # bind(2) fails on any existing file: serving proves it went
        with start("echo", listen="unix:" + self.path) as srv:
            self.assertEqual(uask(self.path, b"again"), b"again")
            self.assertEqual(srv.stop()[0], 0)

    def test_a_live_listener_is_refused_and_kept(self):
        live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        live.bind(self.path)
        live.listen(4)
        try:
            ino = os.lstat(self.path).st_ino
            rc, out, err = run("serve", "echo", "--listen",
                               "unix:" + self.path)
            self.assertEqual(rc, 1, err)
            self.assertEqual(err, "sockit: serve: unix:%s: address already "
                             "in use\n" % self.path)
            self.assertEqual(os.lstat(self.path).st_ino, ino)
            # still the live one's: a client reaches it
            c = uconnect(self.path)
            a, _ = live.accept()
            a.close()
            c.close()
        finally:
            live.close()

    def test_a_regular_file_is_refused_and_left_alone(self):
        with open(self.path, "w") as f:
            f.write("precious\n")
        rc, out, err = run("serve", "echo", "--listen", "unix:" + self.path)
        self.assertEqual(rc, 1, err)
        self.assertEqual(err, "sockit: serve: unix:%s: exists and is not a "
                         "socket (left alone)\n" % self.path)
        with open(self.path) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_json_log_names_unix_peers(self):
        with start("echo", "--json", "-v", listen="unix:" + self.path) as srv:
            self.assertEqual(uask(self.path, b"j"), b"j")
            srv.wait_for(r'"type":"close"')
            rc, log = srv.stop()
        rows = [json.loads(l) for l in log.splitlines()]
        for row in rows:
            self.assertEqual(json_schema.check("serve", row), [], row)
        listening = [r for r in rows if r["type"] == "listening"][0]
        self.assertEqual((listening["address"], listening["port"],
                          listening["transport"]),
                         ("unix:" + self.path, None, "unix"))
        opened = [r for r in rows if r["type"] == "open"][0]
        self.assertEqual((opened["peer_address"], opened["peer_port"]),
                         ("unix:" + self.path, None))

    def test_a_client_that_bound_is_logged_by_its_own_name(self):
        with start("echo", "-v", listen="unix:" + self.path) as srv:
            mine = os.path.join(self.dir.name, "client.sock")
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(TIMEOUT)
            c.bind(mine)
            c.connect(self.path)
            c.sendall(b"me")
            self.assertEqual(c.recv(10), b"me")
            c.close()
            srv.wait_for(r"#1 unix:%s closed" % mine)
            self.assertEqual(srv.stop()[0], 0)

    def test_allow_deny_and_max_per_ip_leave_unix_clients_alone(self):
        # --allow/--deny match IP addresses; the file's mode admits Unix
        # clients. --max-per-ip 1 would refuse the second of these if
        # they were counted under one key.
        with start("echo", "-v", "--allow", "10.9.9.9/32", "--deny", "0.0.0.0/0",
                   "--max-per-ip", "1", "--listen", "127.0.0.1:0",
                   listen="unix:" + self.path) as srv:
            a, b = uconnect(self.path), uconnect(self.path)
            for s in (a, b):
                s.sendall(b"ok")
                self.assertEqual(s.recv(10), b"ok")
            a.close()
            b.close()
            port = srv.tcp
            try:  # denied by --deny: closed or reset at once
                ip = socket.create_connection(("127.0.0.1", port), TIMEOUT)
                self.assertEqual(recv_all(ip), b"")
                ip.close()
            except ConnectionResetError:
                pass
            srv.wait_for("refused")
            rc, log = srv.stop()
        self.assertIn("refused: by --allow/--deny", log)
        self.assertEqual(log.count(" refused: "), 1, log)
        self.assertIn(" 2 accepted, 1 refused,", log)

    def test_max_conns_counts_unix_clients(self):
        with start("echo", "--max-conns", "1", listen="unix:" + self.path) as srv:
            a = uconnect(self.path)
            a.sendall(b"1")
            self.assertEqual(a.recv(1), b"1")
            b = uconnect(self.path)
            self.assertEqual(recv_all(b), b"")
            a.close()
            b.close()
            rc, log = srv.stop()
        self.assertIn("--max-conns 1 reached", log)

    def test_no_fd_left_open_after_clients(self):
        with start("echo", "--workers", "2", listen="unix:" + self.path) as srv:
            uask(self.path, b"warm")
            time.sleep(0.2)
            before = fds(srv.p.pid)
            socks = [uconnect(self.path) for _ in range(40)]
            for s in socks:
                s.sendall(b"y")
                self.assertEqual(s.recv(1), b"y")
            for s in socks:
                s.close()
            deadline = time.monotonic() + TIMEOUT
            while fds(srv.p.pid) != before and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(fds(srv.p.pid), before)
            self.assertEqual(srv.stop()[0], 0)

    def test_bad_usage(self):
        cases = [
            (["echo", "--unix-mode", "600"], "--unix-mode needs"),
            (["echo", "--unix-mode", "9", "--listen", "unix:" + self.path],
             "expected octal"),
            (["echo", "--unix-mode", "0", "--listen", "unix:" + self.path],
             "expected octal"),
            (["echo", "--unix-mode", "1000", "--listen", "unix:" + self.path],
             "expected octal"),
            (["echo", "--unix-mode", "600", "--listen", "unix:@x"],
             "has no file"),
            (["echo", "--udp", "--listen", "unix:" + self.path],
             "not with --udp"),
        ]
        for args, msg in cases:
            rc, out, err = run("serve", *args)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn(msg, err, args)
            self.assertFalse(os.path.exists(self.path), args)


if __name__ == "__main__":
    unittest.main()
