"""test_serve_limits.py - `sockit serve` at its limits: loopback on both
families, idle timeout,
--max-conns, --max-per-ip and --allow/--deny with their log lines; out of
fds under a low RLIMIT_NOFILE; readers that stop reading (chargen, echo)
with the server's memory watched; 1000 concurrent clients; SIGTERM with
1000 connections open and with a stalled reader; stats and JSON logs; the
poll backend.

Every server listens on 127.0.0.1:0 and the port it prints is read back;
every subprocess and socket has a timeout.
"""
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

from bridgetest import TIMEOUT, recv_all
from clitest import ROOT, SOCKIT
from servetest import Serve, ask, connect, proc_stat, raise_fd_limit


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Workers(unittest.TestCase):
    def test_range_in_the_message_is_the_range_taken(self):
        p = subprocess.run([SOCKIT, "serve", "echo", "--workers", "2000"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--workers '2000': want a number from 0 to 1024", p.stderr)
        for n in ("0", "1024"):  # both ends of it serve
            with Serve("echo", "--workers", n) as srv:
                self.assertEqual(ask(srv.port, b"w" + n.encode()), b"w" + n.encode())
                self.assertEqual(srv.stop()[0], 0)
        with Serve("chat", "--workers", "0") as srv:  # 0 is one for chat
            self.assertEqual(srv.stop()[0], 0)


class Loopback(unittest.TestCase):
    """No host given: 127.0.0.1 and ::1, one port, as localhost resolves."""

    @unittest.skipUnless(have_ipv6_loopback(), "no IPv6 loopback here")
    def test_no_host_listens_on_both_loopbacks_on_one_port(self):
        with Serve("echo", "--tcp", "--udp", listen="0") as srv:
            self.assertEqual(srv.tcp, srv.udp)
            for tr in ("tcp", "udp"):
                srv.wait_for(r"echo listening on 127\.0\.0\.1:%d/%s$" % (srv.tcp, tr))
                srv.wait_for(r"echo listening on \[::1\]:%d/%s$" % (srv.tcp, tr))
            for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                with connect(srv.tcp, fam, host) as s:
                    s.sendall(host.encode())
                    self.assertEqual(s.recv(100), host.encode())
                with socket.socket(fam, socket.SOCK_DGRAM) as u:
                    u.settimeout(TIMEOUT)
                    u.sendto(b"u" + host.encode(), (host, srv.udp))
                    self.assertEqual(u.recv(100), b"u" + host.encode())
            rc, err = srv.stop()
        self.assertEqual(rc, 0)
        self.assertIn("2 accepted", err)

    @unittest.skipUnless(have_ipv6_loopback(), "no IPv6 loopback here")
    def test_port_taken_on_v6_loopback_is_an_error_naming_it(self):
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as busy:
            busy.bind(("::1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            p = subprocess.run([SOCKIT, "serve", "echo", "--listen", str(port)],
                               capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr, "sockit: serve: [::1]:%d/tcp: address already "
                         "in use\n" % port)

    @unittest.skipUnless(ROOT, "needs root for a network namespace")
    def test_default_hello_is_reachable_as_localhost_over_v4_and_v6(self):
        # sockit serve hello, no --listen: its own port 8080, in a
        # namespace of its own so that the fixed port cannot collide.
        client = """
import socket, sys, time
for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    for i in range(100):
        try:
            s = socket.create_connection((host, 8080), timeout=5)
            break
        except OSError:
            time.sleep(0.05)
    s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
    print(host, s.recv(100).split(b"\\r\\n")[0].decode(), flush=True)
"""
        script = ('ip link set lo up && (%s serve hello 2>&1 & python3 -c "$0"; '
                  'kill $!; wait)' % SOCKIT)
        p = subprocess.run(["unshare", "-n", "sh", "-c", script, client],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertIn("hello listening on 127.0.0.1:8080/tcp\n", p.stdout)
        self.assertIn("hello listening on [::1]:8080/tcp\n", p.stdout)
        self.assertIn("127.0.0.1 HTTP/1.1 200 OK", p.stdout, p.stderr)
        self.assertIn("::1 HTTP/1.1 200 OK", p.stdout, p.stderr)

    @unittest.skipUnless(ROOT, "needs root for a network namespace")
    def test_without_ipv6_only_127_0_0_1(self):
        script = ("ip link set lo up && sysctl -qw net.ipv6.conf.lo.disable_ipv6=1"
                  " && exec %s serve echo --listen 0" % SOCKIT)
        p = subprocess.Popen(["unshare", "-n", "sh", "-c", script],
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             text=True)
        try:
            line = p.stderr.readline()
            self.assertRegex(line, r"^sockit: serve: echo listening on 127\.0\.0\.1:\d+/tcp$")
            p.send_signal(signal.SIGTERM)
            rest = p.stderr.read()
            self.assertEqual(p.wait(TIMEOUT), 0)
            self.assertNotIn("::1", rest)
            self.assertIn("stopped after", rest)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(TIMEOUT)
            p.stderr.close()


class Limits(unittest.TestCase):
    def test_idle_timeout_closes_with_a_log_line(self):
        with Serve("echo", "--idle-timeout", "0.3") as srv:
            s = connect(srv.port)
            t0 = time.monotonic()
            self.assertEqual(recv_all(s), b"")
            self.assertLess(time.monotonic() - t0, 3)
            s.close()
            srv.wait_for(r"echo: #1 127\.0\.0\.1:\d+ idle timeout: no traffic "
                         r"for 0\.3 s, closed")
            self.assertIn("1 timed out", srv.stop()[1])

    def refused(self, port):
        """Connect and read: turned away (reset, maybe even before connect
        returns, or an end of stream) rather than served?"""
        try:
            with connect(port) as s:
                s.sendall(b"?")
                return s.recv(10) == b""
        except ConnectionResetError:
            return True

    def test_max_conns(self):
        with Serve("echo", "--max-conns", "2", "--workers", "1") as srv:
            a, b = connect(srv.port), connect(srv.port)
            for s in (a, b):
                s.sendall(b"x")
                self.assertEqual(s.recv(1), b"x")
            self.assertTrue(self.refused(srv.port))
            srv.wait_for(r"127\.0\.0\.1:\d+ refused: --max-conns 2 reached")
            a.close()
            time.sleep(0.2)
            d = connect(srv.port)  # room again
            d.sendall(b"y")
            self.assertEqual(d.recv(1), b"y")
            for s in (b, d):
                s.close()
            srv.stop()

    def test_max_per_ip(self):
        with Serve("echo", "--max-per-ip", "1") as srv:
            a = connect(srv.port)
            a.sendall(b"x")
            self.assertEqual(a.recv(1), b"x")
            self.assertTrue(self.refused(srv.port))
            srv.wait_for(r"refused: --max-per-ip 1 reached")
            a.close()
            self.assertIn("1 refused", srv.stop()[1])

    def test_many_refusals_make_a_few_log_lines(self):
        n = 600
        with Serve("echo", "--max-per-ip", "1") as srv:
            held = connect(srv.port)
            held.sendall(b"x")
            self.assertEqual(held.recv(1), b"x")
            t0 = time.monotonic()
            for i in range(n):
                self.assertTrue(self.refused(srv.port))
                if i % 100 == 99:
                    time.sleep(0.3)  # spread over about two seconds
            took = time.monotonic() - t0
            held.close()
            rc, err = srv.stop()
        self.assertEqual(rc, 0)
        single = re.findall(r"refused: --max-per-ip 1 reached", err)
        repeated = [int(x.replace(",", "")) for x in re.findall(
            r"echo: refused ([\d,]+) more connections in the last 1 s: "
            r"--max-per-ip 1 reached", err)]
        # One line as it happens and one count a second, per reason.
        self.assertLessEqual(len(single) + len(repeated), 2 * (took + 2), err)
        self.assertEqual(len(single) + sum(repeated), n, err)
        self.assertIn("%d refused" % n, err)

    def test_allow_and_deny(self):
        with Serve("echo", "-v", "--deny", "127.0.0.0/8") as srv:
            self.assertTrue(self.refused(srv.port))
            srv.wait_for(r"refused: by --allow/--deny")
            srv.stop()
        with Serve("echo", "--allow", "127.0.0.1") as srv:
            s = connect(srv.port)
            s.sendall(b"in")
            self.assertEqual(s.recv(2), b"in")
            s.close()
            srv.stop()

    def test_out_of_fds_survives_without_spinning(self):
        with Serve("echo", "--workers", "1", fd_limit=64) as srv:
            clients = []
            for _ in range(200):
                s = socket.socket()
                s.settimeout(TIMEOUT)
                s.connect(("127.0.0.1", srv.port))  # the backlog takes it
                clients.append(s)
            srv.wait_for(r"accept: too many open files \(accepting paused")
            cpu0, _ = proc_stat(srv.p.pid)
            time.sleep(1)
            cpu1, _ = proc_stat(srv.p.pid)
            self.assertLess(cpu1 - cpu0, 0.2, "server spins while out of fds")
            for s in clients:
                s.close()
            deadline = time.monotonic() + 5
            while True:  # served again once the fds are back
                try:
                    s = connect(srv.port)
                    s.settimeout(1)
                    s.sendall(b"again")
                    if s.recv(5) == b"again":
                        s.close()
                        break
                except OSError:
                    pass
                s.close()
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)
            self.assertIsNone(srv.p.poll())
            self.assertEqual(srv.stop()[0], 0)

    def test_echo_client_that_does_not_read_bounds_memory(self):
        data = os.urandom(16 << 20)
        with Serve("echo", "--workers", "1") as srv:
            s = connect(srv.port)
            t = threading.Thread(target=s.sendall, args=(data,), daemon=True)
            _, rss0 = proc_stat(srv.p.pid)
            t.start()
            time.sleep(1)  # the server stops reading; TCP holds us back
            _, rss1 = proc_stat(srv.p.pid)
            self.assertTrue(t.is_alive(), "16 MiB went into the server")
            self.assertLess(rss1 - rss0, 2048, "RSS grew %d KiB" % (rss1 - rss0))
            got = bytearray()
            while len(got) < len(data):  # reading lets it go on
                got += s.recv(1 << 20)
            t.join(TIMEOUT)
            s.close()
            self.assertTrue(got == data)
            srv.stop()

    def test_chargen_reader_that_stops_reading_bounds_memory(self):
        with Serve("chargen", "--workers", "1") as srv:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
            s.settimeout(TIMEOUT)
            s.connect(("127.0.0.1", srv.port))
            s.recv(1000)  # then never again
            time.sleep(0.3)
            _, rss0 = proc_stat(srv.p.pid)
            time.sleep(2)
            _, rss1 = proc_stat(srv.p.pid)
            self.assertLess(rss1 - rss0, 1024, "RSS grew %d KiB" % (rss1 - rss0))
            srv.kill(signal.SIGUSR1)
            line = srv.wait_for(r"stats: 1 open")
            out = int(re.search(r"(\d+) bytes in, (\d+) out", line).group(2))
            self.assertLess(out, 8 << 20)  # flow control held it back
            s.close()
            srv.stop()


class Slowloris(unittest.TestCase):
    """Many connections that trickle a request head, one byte now and
    then, fill --max-conns: normal clients are still served, and the slow
    ones are reset at the header deadline however much they trickle."""
    N, SOURCES, HEADER_S = 2000, 8, 3

    def setUp(self):
        raise_fd_limit()

    def open_slow(self, port):
        slow = []
        for i in range(self.N):
            s = socket.socket()
            s.setblocking(True)
            s.settimeout(TIMEOUT)
            s.bind(("127.0.0.%d" % (2 + i % self.SOURCES), 0))
            s.connect(("127.0.0.1", port))
            s.send(b"G")
            slow.append(s)
        return slow

    def trickle(self, slow, stop):
        """One more byte of "GET /..." on each, every 0.5 s."""
        while not stop.wait(0.5):
            for s in slow:
                try:
                    s.send(b"E")
                except OSError:
                    pass

    def open_count(self, srv):
        srv.kill(signal.SIGUSR1)
        n = len(srv.lines)
        line = srv.wait_for(r"stats: \d+ open", start=n)
        return int(re.search(r"stats: (\d+) open", line).group(1))

    def normal_request(self, port):
        t0 = time.monotonic()
        with connect(port) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = recv_all(s)
        return time.monotonic() - t0, data

    def test_slow_heads_fill_max_conns_normal_client_still_served(self):
        with Serve("hello", "--max-conns", str(self.N), "--workers", "2",
                   "--header-timeout", str(self.HEADER_S)) as srv:
            slow = self.open_slow(srv.port)
            stop = threading.Event()
            t = threading.Thread(target=self.trickle, args=(slow, stop), daemon=True)
            t.start()
            try:
                deadline = time.monotonic() + TIMEOUT
                while self.open_count(srv) < self.N:
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.1)
                took = []
                for _ in range(20):
                    dt, data = self.normal_request(srv.port)
                    self.assertTrue(data.startswith(b"HTTP/1.1 200 OK"), data[:80])
                    took.append(dt)
                print("\n  slowloris %d from %d sources: 20 normal requests, "
                      "slowest %.1f ms, median %.1f ms" % (
                          self.N, self.SOURCES, max(took) * 1000,
                          sorted(took)[10] * 1000), end=" ")
                self.assertLess(max(took), 2.0)  # generous: sanity only
                # The header deadline ends the rest, trickling or not.
                t0 = time.monotonic()
                alive = list(slow)
                while alive and time.monotonic() - t0 < self.HEADER_S + 5:
                    still = []
                    for s in alive:
                        try:
                            s.setblocking(False)
                            if s.recv(1) != b"":
                                still.append(s)
                        except BlockingIOError:
                            still.append(s)
                        except OSError:
                            pass  # reset: closed
                    alive = still
                    time.sleep(0.2)
                self.assertEqual(len(alive), 0, "%d slow heads still open "
                                 "%.1f s later" % (len(alive), time.monotonic() - t0))
            finally:
                stop.set()
                t.join(TIMEOUT)
                for s in slow:
                    s.close()
            rc, err = srv.stop()
        self.assertEqual(rc, 0)
        self.assertRegex(err, r"header timeout: request head not complete in 3 s, closed")
        self.assertRegex(err, r"shed: waiting for a request head while --max-conns %d "
                         r"was full" % self.N)
        m = re.search(r"stopped after .* (\d+) timed out, \d+ cut off, (\d+) shed", err)
        self.assertEqual(int(m.group(1)) + int(m.group(2)), self.N)
        self.assertGreaterEqual(int(m.group(2)), 1)  # room made at least once


class UdpRate(unittest.TestCase):
    RATE = 100  # replies a second per source; the burst is twice that

    def flood(self, port, n, seconds):
        """n 1-byte datagrams from one socket over about seconds, the
        answers counted by a reader thread. Returns (answers, elapsed)."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("127.0.0.1", 0))
        got = [0]

        def read():
            s.settimeout(1)
            while True:
                try:
                    s.recv(65536)
                except OSError:  # quiet for 1 s: the flood is over
                    return
                got[0] += 1
        t = threading.Thread(target=read, daemon=True)
        t.start()
        t0 = time.monotonic()
        rounds = 20
        for r in range(rounds):
            for _ in range(n // rounds):
                s.sendto(b"x", ("127.0.0.1", port))
            time.sleep(seconds / rounds)
        elapsed = time.monotonic() - t0
        t.join(TIMEOUT)
        s.close()
        return got[0], elapsed

    def test_chargen_answers_one_flooding_source_at_the_rate(self):
        with Serve("chargen", "--udp", "--udp-rate", str(self.RATE)) as srv:
            answers, elapsed = self.flood(srv.udp, 4000, 1.0)
            print("\n  udp flood: 4000 datagrams in %.2f s, %d answered at "
                  "--udp-rate %d" % (elapsed, answers, self.RATE), end=" ")
            # At most a burst and the rate over the time taken (with a
            # second of slack for the reader); at least a burst's worth.
            self.assertLessEqual(answers, 2 * self.RATE + self.RATE * (elapsed + 1))
            self.assertGreaterEqual(answers, self.RATE)
            # Another source is not held back by the first one's flood.
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
                other.settimeout(TIMEOUT)
                other.bind(("127.0.0.2", 0))
                other.sendto(b"x", ("127.0.0.1", srv.udp))
                self.assertEqual(len(other.recv(65536)), 444)
            rc, err = srv.stop()
        self.assertEqual(rc, 0)
        m = re.search(r"stopped after .* (\d+) datagrams in, (\d+) out, (\d+) dropped "
                      r"\(over --udp-rate or 8192 bytes\)", err)
        self.assertIsNotNone(m, err)
        self.assertEqual(int(m.group(2)), answers + 1)
        self.assertEqual(int(m.group(2)) + int(m.group(3)), int(m.group(1)))


class UdpSize(unittest.TestCase):
    def test_datagram_over_the_served_size_is_dropped_not_an_error(self):
        with Serve("echo", "--udp", "-v") as srv:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.5)
                s.sendto(b"b" * 65507, ("127.0.0.1", srv.udp))
                srv.wait_for(r"echo: 127\.0\.0\.1:\d+ datagram over 8192 bytes dropped$")
                with self.assertRaises(socket.timeout):
                    s.recv(65536)
                s.settimeout(TIMEOUT)
                s.sendto(b"s" * 8192, ("127.0.0.1", srv.udp))  # the largest served
                self.assertEqual(s.recv(65536), b"s" * 8192)
            rc, err = srv.stop()
        self.assertEqual(rc, 0)
        self.assertNotIn("8192 bytes in, no answer", err)
        self.assertRegex(err, r"stopped after .* 0 errors, .* 2 datagrams in, 1 out, "
                         r"1 dropped \(over --udp-rate or 8192 bytes\)")


class Scale(unittest.TestCase):
    def setUp(self):
        raise_fd_limit()

    def test_1000_concurrent_echo_clients(self):
        with Serve("echo", "--max-per-ip", "0") as srv:
            async def one(i):
                r, w = await asyncio.open_connection("127.0.0.1", srv.port)
                msg = b"client %d says hello\n" % i * 20
                w.write(msg)
                await w.drain()
                got = await r.readexactly(len(msg))
                w.close()
                await w.wait_closed()
                return got == msg

            async def main():
                return await asyncio.wait_for(
                    asyncio.gather(*(one(i) for i in range(1000))), TIMEOUT)
            results = asyncio.run(main())
            self.assertEqual(results.count(True), 1000)
            rc, err = srv.stop()
            self.assertEqual(rc, 0)
            self.assertRegex(err, r"stopped after .*: 0 open, 1000 accepted, 0 refused")

    def test_sigterm_with_1000_open_connections(self):
        with Serve("echo", "--max-per-ip", "0") as srv:
            clients = []
            for _ in range(1000):
                s = connect(srv.port)
                s.sendall(b"?")
                clients.append(s)
            for s in clients:
                self.assertEqual(s.recv(1), b"?")
            t0 = time.monotonic()
            rc, err = srv.stop(signal.SIGTERM)
            self.assertEqual(rc, 0)
            self.assertLess(time.monotonic() - t0, 4)
            self.assertIn("SIGTERM: stopping; 1000 connections open", err)
            self.assertRegex(err, r"stopped after [\d.]+ s: 0 open, 1000 accepted")
            for s in clients[::100]:
                self.assertEqual(s.recv(1), b"")
                s.close()
            for s in clients:
                s.close()

    def test_sighup_stops_gracefully_like_sigterm(self):
        with Serve("echo") as srv:
            s = connect(srv.port)
            s.sendall(b"hup")
            self.assertEqual(s.recv(3), b"hup")
            rc, err = srv.stop(signal.SIGHUP)
            self.assertEqual(s.recv(1), b"")  # drained: an end of stream
            s.close()
        self.assertEqual(rc, 0)
        self.assertIn("echo: SIGHUP: stopping; 1 connection open", err)
        self.assertRegex(err, r"stopped after [\d.]+ s: 0 open, 1 accepted")

    def test_poll_backend(self):
        """The loop's portable backend serves as the default one does."""
        data = os.urandom(1 << 20)
        with Serve("echo", env={"SKT_LOOP_BACKEND": "poll"}) as srv:
            self.assertEqual(ask(srv.port, data), data)
            socks = [connect(srv.port) for _ in range(200)]
            for i, s in enumerate(socks):
                s.sendall(b"%d" % i)
            for i, s in enumerate(socks):
                self.assertEqual(s.recv(10), b"%d" % i)
                s.close()
            self.assertEqual(srv.stop()[0], 0)

    def test_sigterm_resets_a_stalled_reader_at_the_deadline(self):
        with Serve("chargen") as srv:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(TIMEOUT)
            s.connect(("127.0.0.1", srv.port))
            s.recv(100)  # then stalls: its queue can never drain
            time.sleep(0.2)
            t0 = time.monotonic()
            rc, err = srv.stop(signal.SIGTERM)
            took = time.monotonic() - t0
            s.close()
        self.assertEqual(rc, 0)
        self.assertTrue(1.5 < took < 4, took)
        self.assertRegex(err, r"#1 127\.0\.0\.1:\d+ reset: still open at the "
                         r"shutdown deadline")
        self.assertIn("1 reset at the shutdown deadline", err)

    def test_stats_and_json(self):
        with Serve("echo", "--json", "-v", "--stats", "0.2") as srv:
            s = connect(srv.port)
            s.sendall(b"json")
            s.recv(4)
            s.close()
            srv.wait_for(r'"type":"close".*"bytes_in":4')
            srv.wait_for(r'"type":"stats"')
            rc, err = srv.stop(signal.SIGINT)
        self.assertEqual(rc, 0)
        events = [json.loads(l) for l in err.splitlines()]
        kinds = [e["type"] for e in events]
        for k in ("listening", "open", "close", "stats", "stopping", "stopped"):
            self.assertIn(k, kinds)
        self.assertEqual(events[-1]["accepted"], 1)
        self.assertEqual(events[kinds.index("stopping")]["signal"], "SIGINT")


if __name__ == "__main__":
    unittest.main()
