"""test_serve_limits.py - `sockit serve` at its limits: idle timeout,
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
import threading
import time
import unittest

from bridgetest import TIMEOUT, recv_all
from servetest import Serve, ask, connect, proc_stat, raise_fd_limit


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
