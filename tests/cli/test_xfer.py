"""test_xfer.py - `sockit send` and `sockit recv` (docs/transfer.md) as
real processes over real loopback sockets: sizes at the chunk edges, big
random and sparse files, a tree with links, modes, mtimes and odd names
(diff -r), corruption injected by a relay that flips a byte, kill -9 of
either side (at several points) then a resume that counts the bytes sent
again, a file changed on the sender (mtime, or its first chunk alone) sent
again from the start, a hostile
python sender (traversal, links, oversize heads), a full tmpfs, and no fd
left behind in `recv -k`.

Every listener is on 127.0.0.1 port 0; every wait has a timeout.
"""
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import json_schema
from clitest import SOCKIT, run

TIMEOUT = 60
CHUNK = 64 << 10


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def random_file(path, size):
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 8 << 20)
            f.write(os.urandom(n))
            left -= n


class Recv:
    """A `sockit recv ... 0` process; .port once it listens."""

    def __init__(self, *args, dir=None):
        self.p = subprocess.Popen([SOCKIT, "recv", "--dir", dir, *args, "0"],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.err = b""
        self.port = None
        self.ready = threading.Event()
        self.t = threading.Thread(target=self._pump, daemon=True)
        self.t.start()
        if not self.ready.wait(TIMEOUT) or self.port is None:
            self.p.kill()
            raise AssertionError("recv did not listen: %r" % self.err)

    def _pump(self):
        for line in self.p.stderr:
            self.err += line
            if self.port is None and b"listening on 127.0.0.1:" in line:
                self.port = int(line.rsplit(b":", 1)[1])
                self.ready.set()
        self.ready.set()

    def wait(self, timeout=TIMEOUT):
        # Its stdout is one JSON line at most: waiting first cannot fill
        # the pipe, and a receiver that never ends fails the test.
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(TIMEOUT)
            raise AssertionError("recv did not end in %ss: %r"
                                 % (timeout, self.err))
        out = self.p.stdout.read()
        self.t.join(timeout)
        return rc, out.decode(), self.err.decode()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(TIMEOUT)
        self.p.stdout.close()
        self.t.join(TIMEOUT)
        self.p.stderr.close()

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.p.pid))


class Relay:
    """127.0.0.1:0 -> port, both ways. flip: offset in the sender's
    stream whose byte is inverted; stall: forward this many bytes from the
    sender, then hold the rest. .count: sender bytes forwarded."""

    def __init__(self, port, flip=None, stall=None):
        self.port_to = port
        self.flip, self.stall = flip, stall
        self.count = 0
        self.stalled = threading.Event()
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1)
        self.port = self.ls.getsockname()[1]
        self.socks = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            a, _ = self.ls.accept()
        except OSError:
            return
        b = socket.create_connection(("127.0.0.1", self.port_to))
        self.socks += [a, b]
        threading.Thread(target=self._pipe, args=(b, a, False),
                         daemon=True).start()
        self._pipe(a, b, True)

    def _pipe(self, src, dst, forward):
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                if forward:
                    if self.stall is not None:
                        data = data[:max(0, self.stall - self.count)]
                    if self.flip is not None and \
                            self.count <= self.flip < self.count + len(data):
                        i = self.flip - self.count
                        data = data[:i] + bytes([data[i] ^ 0xff]) + \
                            data[i + 1:]
                    self.count += len(data)
                    if self.stall is not None and self.count >= self.stall:
                        dst.sendall(data)
                        self.stalled.set()
                        time.sleep(TIMEOUT)
                        return
                dst.sendall(data)
        except OSError:
            return

    def close(self):
        for s in self.socks + [self.ls]:
            try:
                s.close()
            except OSError:
                pass


def send(port, *args, timeout=TIMEOUT):
    return run("send", "127.0.0.1", str(port), *args, timeout=timeout)


def summary(out):
    objs = [json.loads(line) for line in out.splitlines() if line]
    assert len(objs) == 1, out
    return objs[0]


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.src = os.path.join(self.tmp.name, "src")
        self.dst = os.path.join(self.tmp.name, "dst")
        os.mkdir(self.src)
        os.mkdir(self.dst)

    def tearDown(self):
        self.tmp.cleanup()

    def transfer(self, paths, send_opts=(), recv_opts=(), ok=True):
        r = Recv("--json", *recv_opts, dir=self.dst)
        try:
            rc, out, err = run("send", "--json", *send_opts, "127.0.0.1",
                               str(r.port), *paths, timeout=TIMEOUT)
            rrc, rout, rerr = r.wait()
        finally:
            r.kill()
        if ok:
            self.assertEqual((rc, rrc), (0, 0), err + rerr)
            s, rs = summary(out), summary(rout)
            self.assertEqual(json_schema.check("send", s), [])
            self.assertEqual(json_schema.check("recv", rs), [])
            self.assertEqual(s["root_hash"], rs["root_hash"])
            self.assertEqual(s["bytes"], rs["bytes"])
            return s, rs
        return (rc, out, err), (rrc, rout, rerr)


class Sizes(Base):
    def test_sizes_at_the_chunk_edges(self):
        sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK]
        paths = []
        for n in sizes:
            p = os.path.join(self.src, "f%d" % n)
            random_file(p, n)
            paths.append(p)
        for alg in ("xxh3", "sha256", "none"):
            with self.subTest(alg=alg):
                for f in os.listdir(self.dst):
                    os.unlink(os.path.join(self.dst, f))
                s, rs = self.transfer(paths, ("--verify", alg, "--chunk",
                                              "64k"))
                self.assertEqual(s["hash"], alg)
                self.assertEqual(rs["files"], len(sizes))
                self.assertEqual(s["verified"], alg != "none")
                self.assertEqual(s["root_hash"] is None, alg == "none")
                for n in sizes:
                    self.assertEqual(sha(os.path.join(self.dst, "f%d" % n)),
                                     sha(os.path.join(self.src, "f%d" % n)))
                self.assertEqual([f for f in os.listdir(self.dst)
                                  if ".part" in f], [])

    def test_large_random_file(self):
        p = os.path.join(self.src, "big")
        random_file(p, 96 << 20)
        s, rs = self.transfer([p])
        self.assertEqual(s["moved_bytes"], 96 << 20)
        self.assertEqual(sha(os.path.join(self.dst, "big")), sha(p))

    def test_sparse_file_stays_sparse_and_equal(self):
        p = os.path.join(self.src, "sparse")
        with open(p, "wb") as f:
            f.truncate(32 << 20)
            f.seek(10 << 20)
            f.write(os.urandom(100000))
            f.seek((32 << 20) - 1)
            f.write(b"\x01")
        self.transfer([p])
        q = os.path.join(self.dst, "sparse")
        self.assertEqual(sha(q), sha(p))
        self.assertEqual(os.path.getsize(q), 32 << 20)
        # Chunks of zeros are holes, not written zeros.
        self.assertLess(os.stat(q).st_blocks * 512, 4 << 20)


class Trees(Base):
    def make_tree(self):
        t = os.path.join(self.src, "tree")
        os.makedirs(os.path.join(t, "a", "b", "c"))
        os.makedirs(os.path.join(t, "empty"))
        for i in range(300):
            d = os.path.join(t, "a", "b") if i % 3 else os.path.join(t, "a")
            with open(os.path.join(d, "small %03d" % i), "wb") as f:
                f.write(os.urandom(i * 7))
        for name in ("sp ace", "\u00fcml\u00e4ut", "new\nline"):
            with open(os.path.join(t, name), "w") as f:
                f.write(name)
        os.chmod(os.path.join(t, "sp ace"), 0o640)
        os.chmod(os.path.join(t, "a", "b", "c"), 0o700)
        os.utime(os.path.join(t, "a", "small 000"), (1e9, 1e9 + 0.5))
        os.symlink("b/small 001", os.path.join(t, "a", "link"))
        os.symlink("../empty", os.path.join(t, "a", "uplink"))
        return t

    def test_tree_arrives_identical(self):
        t = self.make_tree()
        s, rs = self.transfer([t])
        got = os.path.join(self.dst, "tree")
        d = subprocess.run(["diff", "-r", "--no-dereference", t, got],
                           capture_output=True, text=True)
        self.assertEqual(d.returncode, 0, d.stdout + d.stderr)
        self.assertEqual(os.readlink(os.path.join(got, "a", "link")),
                         "b/small 001")
        self.assertEqual(os.stat(os.path.join(got, "sp ace")).st_mode & 0o777,
                         0o640)
        self.assertEqual(
            os.stat(os.path.join(got, "a", "b", "c")).st_mode & 0o777, 0o700)
        self.assertEqual(os.stat(os.path.join(got, "a", "small 000")).st_mtime,
                         1e9 + 0.5)
        self.assertEqual(os.stat(os.path.join(got, "a")).st_mtime_ns,
                         os.stat(os.path.join(t, "a")).st_mtime_ns)
        self.assertTrue(os.path.isdir(os.path.join(got, "empty")))
        n = sum(len(ds) + len(fs) for _, ds, fs in os.walk(t)) + 1
        self.assertEqual(s["files"], n)

    def test_link_out_of_the_tree_is_left_out(self):
        t = os.path.join(self.src, "t")
        os.mkdir(t)
        os.symlink("/etc/passwd", os.path.join(t, "abs"))
        os.symlink("../../x", os.path.join(t, "up"))
        with open(os.path.join(t, "f"), "w") as f:
            f.write("x")
        r = Recv(dir=self.dst)
        try:
            rc, out, err = send(r.port, t)
            rrc, _, rerr = r.wait()
        finally:
            r.kill()
        self.assertEqual((rc, rrc), (0, 0), err + rerr)
        self.assertIn("abs: skipped: the link points out of the tree", err)
        self.assertIn("up: skipped", err)
        self.assertEqual(sorted(os.listdir(os.path.join(self.dst, "t"))),
                         ["f"])

    def test_existing_file_needs_overwrite(self):
        p = os.path.join(self.src, "f")
        with open(p, "w") as f:
            f.write("new")
        with open(os.path.join(self.dst, "f"), "w") as f:
            f.write("old")
        (rc, _, err), (rrc, _, rerr) = self.transfer([p], ok=False)
        self.assertEqual((rc, rrc), (1, 1))
        self.assertIn("f: exists", err)
        self.assertIn("f: exists", rerr)
        with open(os.path.join(self.dst, "f")) as f:
            self.assertEqual(f.read(), "old")
        self.transfer([p], recv_opts=("--overwrite",))
        with open(os.path.join(self.dst, "f")) as f:
            self.assertEqual(f.read(), "new")


class Corruption(Base):
    def test_flipped_byte_is_detected_naming_the_file(self):
        p = os.path.join(self.src, "victim.bin")
        random_file(p, 1 << 20)
        for alg in ("xxh3", "sha256"):
            with self.subTest(alg=alg):
                r = Recv(dir=self.dst)
                relay = Relay(r.port, flip=200000)
                try:
                    rc, _, err = send(relay.port, "--verify", alg,
                                      "--chunk", "64k", p)
                    rrc, _, rerr = r.wait()
                finally:
                    r.kill()
                    relay.close()
                self.assertEqual((rc, rrc), (1, 1), err + rerr)
                for e in (err, rerr):
                    self.assertIn("victim.bin: chunk 3 does not match its "
                                  "hash", e)
                self.assertFalse(os.path.exists(
                    os.path.join(self.dst, "victim.bin")))


class Resume(Base):
    SIZE = 64 << 20
    CHUNK = 1 << 20

    def cut(self, kill_which, stall):
        """A first attempt through a relay that stops at stall bytes;
        kill -9 one side. Returns the bytes the relay forwarded."""
        r = Recv(dir=self.dst)
        relay = Relay(r.port, stall=stall)
        s = subprocess.Popen([SOCKIT, "send", "-q", "127.0.0.1",
                              str(relay.port), self.path],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            self.assertTrue(relay.stalled.wait(TIMEOUT))
            side = os.path.join(self.dst, "big.part.sxf")
            want = 64 + 16 * (stall // self.CHUNK - 2)
            deadline = time.time() + TIMEOUT
            while time.time() < deadline:
                if os.path.exists(side) and os.path.getsize(side) >= want:
                    break
                time.sleep(0.01)
            time.sleep(0.2)
            if kill_which == "recv":
                r.p.send_signal(signal.SIGKILL)
            else:
                s.send_signal(signal.SIGKILL)
            r.p.wait(TIMEOUT) if kill_which == "recv" else s.wait(TIMEOUT)
        finally:
            relay.close()
            s.kill()
            s.wait(TIMEOUT)
            r.kill()
        return relay.count

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.src, "big")
        random_file(self.path, self.SIZE)

    def check_resume(self, kill_which):
        forwarded = self.cut(kill_which, self.SIZE // 2)
        self.assertTrue(os.path.exists(os.path.join(self.dst, "big.part")))
        self.assertFalse(os.path.exists(os.path.join(self.dst, "big")))
        s, rs = self.transfer([self.path])
        self.assertEqual(sha(os.path.join(self.dst, "big")), sha(self.path))
        self.assertGreater(rs["resumed_bytes"], self.SIZE // 4)
        self.assertEqual(rs["resumed_bytes"], s["resumed_bytes"])
        self.assertEqual(s["moved_bytes"] + s["resumed_bytes"], self.SIZE)
        # Sent twice: what crossed in the first attempt but was not
        # verified. Less than a chunk plus what was in flight.
        resent = forwarded - rs["resumed_bytes"]
        self.assertGreaterEqual(resent, 0)
        self.assertLess(resent, self.CHUNK + (16 << 20))
        self.assertFalse(os.path.exists(
            os.path.join(self.dst, "big.part.sxf")))

    def test_resume_after_kill_9_of_the_receiver(self):
        self.check_resume("recv")

    def test_resume_after_kill_9_of_the_sender(self):
        self.check_resume("send")

    def test_changed_file_is_sent_from_the_start(self):
        self.cut("send", self.SIZE // 2)
        os.utime(self.path, (1e9, 1e9))
        s, rs = self.transfer([self.path])
        self.assertEqual(rs["resumed_bytes"], 0)
        self.assertEqual(sha(os.path.join(self.dst, "big")), sha(self.path))

    def test_first_chunk_changed_same_size_and_mtime_sent_again(self):
        self.cut("send", self.SIZE // 2)
        st = os.stat(self.path)
        with open(self.path, "r+b") as f:
            b = f.read(1)
            f.seek(0)
            f.write(bytes([b[0] ^ 1]))
        os.utime(self.path, ns=(st.st_atime_ns, st.st_mtime_ns))
        s, rs = self.transfer([self.path])
        self.assertEqual(rs["resumed_bytes"], 0)
        self.assertEqual(sha(os.path.join(self.dst, "big")), sha(self.path))

    def test_cut_at_several_points_then_resumed(self):
        for kill_which in ("recv", "send"):
            for stall in (100000, self.SIZE // 4, self.SIZE * 7 // 8):
                with self.subTest(kill=kill_which, stall=stall):
                    for f in os.listdir(self.dst):
                        os.unlink(os.path.join(self.dst, f))
                    forwarded = self.cut(kill_which, stall)
                    s, rs = self.transfer([self.path])
                    self.assertEqual(sha(os.path.join(self.dst, "big")),
                                     sha(self.path))
                    self.assertEqual(s["moved_bytes"] + s["resumed_bytes"],
                                     self.SIZE)
                    self.assertLess(forwarded - rs["resumed_bytes"],
                                    self.CHUNK + (16 << 20))
                    if stall > 4 * self.CHUNK:
                        self.assertGreater(rs["resumed_bytes"], 0)

    def test_no_resume_starts_over(self):
        self.cut("send", self.SIZE // 2)
        s, rs = self.transfer([self.path], recv_opts=("--no-resume",))
        self.assertEqual(rs["resumed_bytes"], 0)
        self.assertEqual(s["moved_bytes"], self.SIZE)


def frame(t, payload):
    return t + struct.pack(">I", len(payload)) + payload


def hello(files=1, size=1, alg=0):
    return frame(b"H", b"SKXF" + struct.pack(">BBHQQ", 1, alg, 0, files,
                                             size))


def entry(path, kind=1, size=0, link=b"", chunk=1 << 20):
    return frame(b"F", struct.pack(">BBHHBBIIIqQ", kind, 0, len(path),
                                   len(link), 0, 0, 0o644, chunk, 0,
                                   1700000000, size) + path + link)


class Hostile(Base):
    def hostile(self, data, *recv_opts, read_reply=True):
        r = Recv(*recv_opts, dir=self.dst)
        try:
            c = socket.create_connection(("127.0.0.1", r.port))
            c.settimeout(TIMEOUT)
            try:
                c.sendall(data)
                c.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            reply = b""
            try:
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    reply += b
            except OSError:
                pass
            c.close()
            rc, _, err = r.wait()
        finally:
            r.kill()
        return rc, err, reply

    def assert_nothing_outside(self):
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["dst", "src"])
        self.assertEqual(os.listdir(self.src), [])

    def test_traversal_refused(self):
        for path in (b"../evil", b"a/../../evil", b"/tmp/evil", b"a//b",
                     b"./x"):
            with self.subTest(path=path):
                rc, err, reply = self.hostile(hello() + entry(path, size=1) +
                                              frame(b"D", b"x"))
                self.assertEqual(rc, 1, err)
                self.assertIn("bad path", err)
                self.assertEqual(reply[:1], b"X")
                self.assert_nothing_outside()
                self.assertEqual(os.listdir(self.dst), [])

    def test_link_then_path_through_it_refused(self):
        data = hello(files=2) + entry(b"l", kind=3, link=b".") + \
            entry(b"l/x", size=1) + frame(b"D", b"x")
        rc, err, _ = self.hostile(data)
        self.assertEqual(rc, 1)
        self.assertIn("l/x: a component is not a directory", err)
        self.assertFalse(os.path.exists(os.path.join(self.dst, "x")))

    def test_planted_link_in_dir_not_followed(self):
        os.symlink(self.src, os.path.join(self.dst, "out"))
        rc, err, _ = self.hostile(hello() + entry(b"out/x", size=1) +
                                  frame(b"D", b"x"))
        self.assertEqual(rc, 1)
        self.assertIn("links are not followed", err)
        self.assertEqual(os.listdir(self.src), [])

    def test_link_target_out_of_the_tree_refused(self):
        rc, err, _ = self.hostile(hello() + entry(b"l", kind=3,
                                                  link=b"../x"))
        self.assertEqual(rc, 1)
        self.assertFalse(os.path.lexists(os.path.join(self.dst, "l")))

    def test_oversize_frame_refused_before_reading_it(self):
        rc, err, reply = self.hostile(hello() + entry(b"f", size=1) +
                                      b"D" + struct.pack(">I", 0xffffffff))
        self.assertEqual(rc, 1)
        self.assertIn("malformed", err)
        self.assertIn(b"X", reply)

    def test_claimed_sizes_over_the_caps_refused(self):
        rc, err, _ = self.hostile(hello(size=1 << 60) + entry(b"f", size=1),
                                  "--max-size", "1M")
        self.assertEqual(rc, 1)
        self.assertIn("--max-size", err)
        rc, err, _ = self.hostile(hello(size=1) + entry(b"f", size=1 << 40),
                                  "--max-size", "1M")
        self.assertEqual(rc, 1)
        self.assertIn("f: more than 1048576 bytes", err)
        rc, err, _ = self.hostile(hello(files=5, size=0) +
                                  b"".join(entry(b"f%d" % i)
                                           for i in range(5)),
                                  "--max-files", "3")
        self.assertEqual(rc, 1)
        self.assertIn("--max-files", err)

    def test_not_a_transfer(self):
        rc, err, _ = self.hostile(b"GET / HTTP/1.1\r\n\r\n")
        self.assertEqual(rc, 1)
        self.assertIn("malformed", err)

    def test_sender_gone_midway_keeps_the_part(self):
        rc, err, _ = self.hostile(hello(size=3 << 20) +
                                  entry(b"f", size=3 << 20) +
                                  frame(b"D", b"\x07" * (1 << 20)))
        self.assertEqual(rc, 1)
        self.assertIn("closed the connection", err)
        self.assertTrue(os.path.exists(os.path.join(self.dst, "f.part")))


class DiskFull(Base):
    def test_disk_full_is_a_clean_error(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                            self.dst], capture_output=True, text=True)
        if m.returncode != 0:
            self.skipTest("cannot mount a tmpfs: " + m.stderr.strip())
        try:
            p = os.path.join(self.src, "big")
            random_file(p, 8 << 20)
            (rc, _, err), (rrc, _, rerr) = self.transfer([p], ok=False)
            self.assertEqual((rc, rrc), (1, 1))
            for e in (err, rerr):
                self.assertIn("big: no space left on device", e)
            self.assertTrue(os.path.exists(os.path.join(self.dst,
                                                        "big.part")))
        finally:
            subprocess.run(["umount", self.dst])


class Leaks(Base):
    def test_recv_k_keeps_no_fd(self):
        p = os.path.join(self.src, "f")
        random_file(p, 200000)
        r = Recv("-k", "--overwrite", dir=self.dst)
        try:
            before = r.fds()
            rc, _, err = send(r.port, p)
            self.assertEqual(rc, 0, err)
            for i in range(5):
                self.assertEqual(send(r.port, p)[0], 0)
                relay = Relay(r.port, flip=1000)
                self.assertEqual(send(relay.port, "--chunk", "64k", p)[0], 1)
                relay.close()
                c = socket.create_connection(("127.0.0.1", r.port))
                c.sendall(hello() + entry(b"../x", size=1))
                c.settimeout(TIMEOUT)
                while c.recv(4096):
                    pass
                c.close()
            # The last exchange may still be closing in recv.
            deadline = time.time() + 10
            while r.fds() != before and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(r.fds(), before)
            self.assertIsNone(r.p.poll())
        finally:
            r.kill()


class Terminal(Base):
    def test_progress_on_a_tty_and_not_with_q(self):
        import pty
        p = os.path.join(self.src, "f")
        random_file(p, 4 << 20)
        for quiet in (False, True):
            with self.subTest(quiet=quiet):
                r = Recv("--overwrite", dir=self.dst)
                master, slave = pty.openpty()
                try:
                    args = [SOCKIT, "send"] + (["-q"] if quiet else []) + \
                        ["127.0.0.1", str(r.port), p]
                    s = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=slave)
                    os.close(slave)
                    rc = s.wait(TIMEOUT)
                    out = b""
                    while True:
                        try:
                            b = os.read(master, 4096)
                        except OSError:
                            break
                        if not b:
                            break
                        out += b
                    self.assertEqual(r.wait()[0], 0)
                finally:
                    os.close(master)
                    r.kill()
                self.assertEqual(rc, 0)
                if quiet:
                    self.assertEqual(out, b"")
                else:
                    self.assertIn(b"1/1 files, 4.0 MiB of 4.0 MiB", out)
                    self.assertIn(b"\r", out)

    def test_no_progress_when_not_a_tty(self):
        p = os.path.join(self.src, "f")
        random_file(p, 1 << 20)
        r = Recv(dir=self.dst)
        try:
            rc, _, err = send(r.port, p)
            r.wait()
        finally:
            r.kill()
        self.assertEqual(rc, 0)
        self.assertNotIn("\r", err)
        self.assertIn("1 entries, 1048576 bytes", err)


class Listen(Base):
    def test_star_listens_on_every_address(self):
        p = subprocess.Popen([SOCKIT, "recv", "--dir", self.dst, "*", "0"],
                             stderr=subprocess.PIPE)
        try:
            line = p.stderr.readline()
            self.assertIn(b"listening on [::]:", line)
        finally:
            p.kill()
            p.wait(TIMEOUT)
            p.stderr.close()

    def test_loopback_by_default(self):
        r = Recv(dir=self.dst)
        try:
            self.assertIn("listening on 127.0.0.1:", r.err.decode())
            self.assertNotIn("0.0.0.0", r.err.decode())
        finally:
            r.kill()


class Usage(unittest.TestCase):
    def test_bad_options(self):
        for args, msg in ((("send", "--verify", "md5", "h", "1", "f"),
                           "--verify 'md5'"),
                          (("send", "--chunk", "3000", "h", "1", "f"),
                           "--chunk"),
                          (("send", "127.0.0.1", "1"), "no FILE"),
                          (("recv", "1", "2", "3"), "[HOST] PORT")):
            with self.subTest(args=args):
                rc, _, err = run(*args)
                self.assertEqual(rc, 2, err)
                self.assertIn(msg, err)

    def test_connection_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        rc, _, err = run("send", "127.0.0.1", str(port), "/etc/hostname")
        self.assertEqual(rc, 1)
        self.assertIn("connection refused", err)


if __name__ == "__main__":
    unittest.main()
