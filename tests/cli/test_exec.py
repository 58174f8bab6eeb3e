"""test_exec.py - `sockit serve exec -- CMD [ARGS]`: a program per
connection on its stdin and stdout, as inetd's nowait and tcpserver run
them. Shell-free programs (cat, python3 scripts) serve real clients; the
client's address reaches the child's environment; hostile input (a
client that sends nothing, a program that exits at once, 1000 clients
under --max-conns 50) leaves no zombie and no fd behind in serve; the
stop ends every child, SIGKILL for one that ignores SIGTERM.

Every server listens on 127.0.0.1:0; every wait has a timeout.
"""
import errno
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import unittest

from bridgetest import TIMEOUT, recv_all
from clitest import run
from servetest import Serve, ask, connect, raise_fd_limit

PY = sys.executable or "/usr/bin/python3"
ENV_SCRIPT = ("import os\n"
              "for k in ('REMOTE_ADDR', 'REMOTE_PORT', 'PROTO', 'TCPREMOTEIP',"
              " 'TCPREMOTEPORT', 'TCPLOCALIP', 'TCPLOCALPORT'):\n"
              "    print(k + '=' + os.environ.get(k, '-'))\n")
FD_SCRIPT = ("import os\n"
             "open_fds = []\n"
             "for fd in range(3, 1024):\n"
             "    try:\n"
             "        os.fstat(fd)\n"
             "        open_fds.append(fd)\n"
             "    except OSError:\n"
             "        pass\n"
             "print('fds', open_fds)\n")
PID_SLEEP = ("import os, sys, time\n"
             "print(os.getpid(), flush=True)\n"
             "time.sleep(60)\n")
PID_STUBBORN = ("import os, signal, time\n"
                "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                "print(os.getpid(), flush=True)\n"
                "time.sleep(60)\n")


def exec_serve(*cmd, opts=()):
    return Serve(*opts, "--listen", "127.0.0.1:0", "exec", "--", *cmd,
                 listen=None)


def children(pid):
    """pids (and states) of pid's children, from /proc."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append((int(d), fields[0]))
    return out


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def settle(what, cond, timeout=TIMEOUT):
    """Wait for cond() to hold (the children's ends are asynchronous)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("still not so after %ss: %s" % (timeout, what))
        time.sleep(0.05)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Exec(unittest.TestCase):
    def test_cat_serves_a_client(self):
        with exec_serve("cat") as srv:
            self.assertEqual(ask(srv.port, b"hello\nworld\n"), b"hello\nworld\n")
            big = os.urandom(1 << 20)
            self.assertEqual(ask(srv.port, big), big)
            rc, log = srv.stop()
            self.assertEqual(rc, 0, log)
            self.assertIn("2 accepted", log)

    def test_child_sees_the_clients_address(self):
        with exec_serve(PY, "-c", ENV_SCRIPT) as srv:
            with connect(srv.port) as s:
                me = s.getsockname()
                s.shutdown(socket.SHUT_WR)
                out = recv_all(s).decode()
            env = dict(l.split("=", 1) for l in out.splitlines())
            self.assertEqual(env["REMOTE_ADDR"], "127.0.0.1")
            self.assertEqual(env["REMOTE_PORT"], str(me[1]))
            self.assertEqual(env["PROTO"], "TCP")
            self.assertEqual(env["TCPREMOTEIP"], "127.0.0.1")
            self.assertEqual(env["TCPREMOTEPORT"], str(me[1]))
            self.assertEqual(env["TCPLOCALIP"], "127.0.0.1")
            self.assertEqual(env["TCPLOCALPORT"], str(srv.port))

    def test_inherited_address_variables_are_replaced(self):
        env = {"REMOTE_ADDR": "6.6.6.6", "TCPREMOTEIP": "6.6.6.6"}
        with Serve("--listen", "127.0.0.1:0", "exec", "--", PY, "-c",
                   ENV_SCRIPT, listen=None, env=env) as srv:
            out = ask(srv.port).decode()
            self.assertIn("REMOTE_ADDR=127.0.0.1\n", out)
            self.assertNotIn("6.6.6.6", out)

    def test_no_shell_unless_asked(self):
        with exec_serve("echo", "$HOME;", "`id`") as srv:
            self.assertEqual(ask(srv.port), b"$HOME; `id`\n")
        with Serve("--listen", "127.0.0.1:0", "exec", "--sh-exec",
                   "echo $((6 * 7)); echo \"$REMOTE_ADDR\"", listen=None) as srv:
            self.assertEqual(ask(srv.port), b"42\n127.0.0.1\n")

    def test_only_fds_0_to_2_reach_the_child(self):
        with exec_serve(PY, "-c", FD_SCRIPT) as srv:
            for _ in range(3):  # with other connections open meanwhile
                keep = connect(srv.port)
                self.assertEqual(ask(srv.port), b"fds []\n")
                keep.close()

    def test_stderr_is_passed_through(self):
        with exec_serve(PY, "-c", "import sys; sys.stderr.write('oops\\n')") as srv:
            ask(srv.port)
            srv.wait_for(r"^oops$")

    def test_client_that_sends_nothing_and_closes(self):
        with exec_serve("cat") as srv:
            before = fd_count(srv.p.pid)
            for _ in range(20):
                s = connect(srv.port)
                s.close()
            self.assertEqual(ask(srv.port, b"still here\n"), b"still here\n")
            settle("children reaped", lambda: children(srv.p.pid) == [])
            settle("fds back to %d" % before,
                   lambda: fd_count(srv.p.pid) == before)

    def test_program_that_exits_at_once(self):
        with exec_serve("true") as srv:
            before = fd_count(srv.p.pid)
            for _ in range(50):
                with connect(srv.port) as s:
                    try:
                        s.sendall(b"ignored\n")
                        self.assertEqual(recv_all(s), b"")
                    except (ConnectionResetError, BrokenPipeError):
                        pass  # closed with our bytes unread: a reset
            settle("children reaped", lambda: children(srv.p.pid) == [])
            settle("fds back", lambda: fd_count(srv.p.pid) == before)
            rc, log = srv.stop()
            self.assertEqual(rc, 0, log)
            self.assertIn("50 accepted", log)

    def test_1000_clients_under_max_conns_50(self):
        raise_fd_limit()
        with exec_serve("cat", opts=("--max-conns", "50", "--max-per-ip",
                                     "0")) as srv:
            before = fd_count(srv.p.pid)
            served, refused, wrong = [0], [0], []
            lock = threading.Lock()

            def client(i):
                msg = b"client %d\n" % i
                try:
                    with connect(srv.port) as s:
                        s.sendall(msg)
                        s.shutdown(socket.SHUT_WR)
                        got = recv_all(s)
                except (ConnectionResetError, BrokenPipeError):
                    got = None
                except OSError as e:  # ENOTCONN: reset before shutdown
                    if e.errno != errno.ENOTCONN:
                        raise
                    got = None
                with lock:
                    if got == msg:
                        served[0] += 1
                    elif got in (None, b""):
                        refused[0] += 1
                    else:
                        wrong.append(got)

            def batch(lo):
                for i in range(lo, lo + 10):
                    client(i)

            threads = [threading.Thread(target=batch, args=(k * 10,))
                       for k in range(100)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(TIMEOUT * 6)
            self.assertEqual(wrong, [])
            self.assertEqual(served[0] + refused[0], 1000)
            self.assertGreaterEqual(served[0], 50)
            settle("children reaped", lambda: children(srv.p.pid) == [])
            settle("fds back to %d" % before,
                   lambda: fd_count(srv.p.pid) == before)
            rc, log = srv.stop()
            self.assertEqual(rc, 0, log)
            self.assertIn("%d accepted, %d refused" % (served[0], refused[0]),
                          log)

    def test_max_conns_counts_running_programs(self):
        with exec_serve(PY, "-c", PID_SLEEP, opts=("--max-conns", "2")) as srv:
            a, b = connect(srv.port), connect(srv.port)
            pids = [int(s.makefile().readline()) for s in (a, b)]
            try:
                with connect(srv.port) as c:
                    c.sendall(b"?")
                    self.assertEqual(c.recv(10), b"")
            except ConnectionResetError:
                pass
            srv.wait_for(r"refused: --max-conns 2 reached")
            os.kill(pids[0], signal.SIGKILL)  # one program ends: room again
            settle("a slot freed", lambda: len(children(srv.p.pid)) == 1)
            d = connect(srv.port)
            self.assertTrue(int(d.makefile().readline()) > 0)
            rc, log = srv.stop()  # ends the programs still sleeping
            self.assertEqual(rc, 0, log)
            for s in (a, b, d):
                s.close()

    def test_per_ip_cap_and_deny_apply_to_programs(self):
        with exec_serve(PY, "-c", PID_SLEEP, opts=("--max-per-ip", "1")) as srv:
            a = connect(srv.port)
            self.assertGreater(int(a.makefile().readline()), 0)
            try:
                with connect(srv.port) as b:
                    b.sendall(b"?")
                    self.assertEqual(b.recv(10), b"")
            except ConnectionResetError:
                pass
            srv.wait_for(r"refused: --max-per-ip 1 reached")
            self.assertEqual(len(children(srv.p.pid)), 1)
            rc, log = srv.stop()
            self.assertEqual(rc, 0, log)
            a.close()
        with exec_serve("cat", opts=("--deny", "127.0.0.0/8")) as srv:
            try:
                got = ask(srv.port, b"x")
            except ConnectionResetError:
                got = b""
            self.assertEqual(got, b"")
            rc, log = srv.stop()
            self.assertIn("0 accepted, 1 refused", log)

    def test_stop_ends_every_child(self):
        with exec_serve(PY, "-c", PID_SLEEP) as srv:
            socks = [connect(srv.port) for _ in range(3)]
            pids = [int(s.makefile().readline()) for s in socks]
            rc, log = srv.stop()
            self.assertEqual(rc, 0, log)
            for p in pids:
                self.assertFalse(alive(p), "child %d outlived serve" % p)
            for s in socks:
                s.close()

    def test_child_ignoring_sigterm_is_killed_after_the_drain(self):
        with exec_serve(PY, "-c", PID_STUBBORN) as srv:
            s = connect(srv.port)
            pid = int(s.makefile().readline())
            t0 = time.monotonic()
            rc, log = srv.stop()
            self.assertEqual(rc, 0, log)
            self.assertFalse(alive(pid), "child %d outlived serve" % pid)
            self.assertIn("1 reset at the shutdown deadline", log)
            self.assertLess(time.monotonic() - t0, TIMEOUT)
            s.close()

    def test_program_gone_at_spawn_is_reported(self):
        with tempfile.TemporaryDirectory() as d:
            prog = os.path.join(d, "prog")
            with open(prog, "w") as f:
                f.write("#!/bin/sh\necho hi\n")
            os.chmod(prog, 0o755)
            with exec_serve(prog) as srv:
                self.assertEqual(ask(srv.port), b"hi\n")
                os.unlink(prog)
                try:
                    got = ask(srv.port)
                except ConnectionResetError:
                    got = b""
                self.assertEqual(got, b"")
                srv.wait_for(r"exec: open: no such file or directory")
                rc, log = srv.stop()
                self.assertEqual(rc, 0, log)
                self.assertIn("1 errors", log)

    def test_usage_errors(self):
        rc, _, err = run("serve", "exec")
        self.assertEqual(rc, 2)
        self.assertIn("exec: expected -- CMD [ARGS] or --sh-exec", err)
        rc, _, err = run("serve", "exec", "--", "/no/such/program")
        self.assertEqual(rc, 2)
        self.assertIn("'/no/such/program': no such program", err)
        rc, _, err = run("serve", "exec", "--", "no-such-program-here")
        self.assertEqual(rc, 2)
        rc, _, err = run("serve", "--sh-exec", "true", "echo")
        self.assertEqual(rc, 2)
        self.assertIn("--sh-exec is for exec", err)
        rc, _, err = run("serve", "echo", "--", "cat")
        self.assertEqual(rc, 2)
        rc, _, err = run("serve", "--idle-timeout", "5", "exec", "--", "cat")
        self.assertEqual(rc, 2)
        self.assertIn("--idle-timeout does not apply to exec", err)


if __name__ == "__main__":
    unittest.main()
