"""test_xfer_auth.py - `sockit send` / `sockit recv` with --tls (the
receiver's ephemeral identity, pinned by the fingerprint it prints) and
with --secret (HMAC-SHA256 proofs and transcript MACs, docs/transfer.md):
a file and a tree arrive, a wrong pin or secret is refused on both sides
before anything is written, a relay that flips one byte is caught by the
MAC even with --verify none, a cut TLS transfer is an error (no
close_notify) and resumes, and both together work. Real processes on
127.0.0.1 port 0; every wait has a timeout.
"""
import os
import re
import signal
import socket
import subprocess
import time
import unittest

import json_schema
from clitest import SOCKIT, run
from test_xfer import TIMEOUT, Base, Recv, Relay, random_file, sha, summary

BAD_PIN = "sha256:" + "00" * 32


def pin_of(r):
    m = re.search(rb"--pin (sha256:[0-9a-f]{64})", r.err)
    assert m is not None, r.err
    return m.group(1).decode()


class Auth(Base):
    def both(self, send_opts, recv_opts, paths, port_of=None):
        """One transfer; send_opts may hold "PIN", replaced by the pin
        recv printed. Returns (rc, out, err) of each."""
        r = Recv("--json", *recv_opts, dir=self.dst)
        relay = port_of(r.port) if port_of else None
        try:
            opts = [pin_of(r) if o == "PIN" else o for o in send_opts]
            port = relay.port if relay else r.port
            sres = run("send", "--json", *opts, "127.0.0.1", str(port),
                       *paths, timeout=TIMEOUT)
            rres = r.wait()
        finally:
            r.kill()
            if relay:
                relay.close()
        return sres, rres

    def ok(self, sres, rres):
        (rc, out, err), (rrc, rout, rerr) = sres, rres
        self.assertEqual((rc, rrc), (0, 0), err + rerr)
        s, rs = summary(out), summary(rout)
        self.assertEqual(json_schema.check("send", s), [])
        self.assertEqual(json_schema.check("recv", rs), [])
        self.assertEqual(s["root_hash"], rs["root_hash"])
        return s, rs

    def tree(self):
        t = os.path.join(self.src, "tree")
        os.makedirs(os.path.join(t, "a", "b"))
        os.makedirs(os.path.join(t, "empty"))
        for i in range(40):
            with open(os.path.join(t, "a", "b" if i % 2 else "",
                                   "f%02d" % i), "wb") as f:
                f.write(os.urandom(i * 301))
        random_file(os.path.join(t, "big"), 3 << 20)
        os.symlink("a/f00", os.path.join(t, "link"))
        return t

    def same_tree(self, t):
        d = subprocess.run(["diff", "-r", "--no-dereference", t,
                            os.path.join(self.dst, "tree")],
                           capture_output=True, text=True)
        self.assertEqual(d.returncode, 0, d.stdout + d.stderr)

    def empty_dst(self):
        self.assertEqual(os.listdir(self.dst), [])

    def clear(self):
        subprocess.run(["rm", "-rf", self.dst], check=True)
        os.mkdir(self.dst)


class Tls(Auth):
    def test_file_and_tree_over_tls_with_the_printed_pin(self):
        t = self.tree()
        for alg in ("xxh3", "none"):
            with self.subTest(alg=alg):
                self.clear()
                s, rs = self.ok(*self.both(
                    ("--tls", "--pin", "PIN", "--verify", alg, "--chunk",
                     "64k"), ("--tls",), [t]))
                self.assertTrue(s["tls"] and rs["tls"])
                self.assertFalse(s["authenticated"])
                self.same_tree(t)

    def test_wrong_pin_is_refused_and_nothing_written(self):
        p = os.path.join(self.src, "f")
        random_file(p, 100000)
        (rc, _, err), (rrc, _, rerr) = self.both(
            ("--tls", "--pin", BAD_PIN), ("--tls",), [p])
        self.assertEqual((rc, rrc), (1, 1), err + rerr)
        self.assertIn("pin", err)
        self.empty_dst()

    def test_plain_sender_to_a_tls_receiver_fails(self):
        p = os.path.join(self.src, "f")
        random_file(p, 1000)
        (rc, _, err), (rrc, _, rerr) = self.both((), ("--tls",), [p])
        self.assertEqual((rc, rrc), (1, 1), err + rerr)
        self.empty_dst()

    def test_tls_options_need_tls(self):
        rc, _, err = run("send", "--pin", BAD_PIN, "127.0.0.1", "1", "x")
        self.assertEqual(rc, 2)
        self.assertIn("--pin needs --tls", err)
        rc, _, err = run("recv", "--tls", "--pin", BAD_PIN, "0")
        self.assertEqual(rc, 2)

    def test_cut_without_close_notify_is_an_error_then_resumes(self):
        size, chunk = 32 << 20, 1 << 20
        path = os.path.join(self.src, "big")
        random_file(path, size)
        r = Recv("--tls", dir=self.dst)
        relay = Relay(r.port, stall=size // 2)
        s = subprocess.Popen([SOCKIT, "send", "-q", "--tls", "--pin",
                              pin_of(r), "127.0.0.1", str(relay.port),
                              path], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            self.assertTrue(relay.stalled.wait(TIMEOUT))
            side = os.path.join(self.dst, "big.part.sxf")
            deadline = time.time() + TIMEOUT
            while time.time() < deadline and not (
                    os.path.exists(side) and os.path.getsize(side) > 64):
                time.sleep(0.01)
            time.sleep(0.3)
            s.send_signal(signal.SIGKILL)
            s.wait(TIMEOUT)
            # The receiver sees a FIN, no close_notify (shutdown: a close
            # alone would wait for the relay's threads).
            for sk in relay.socks:
                try:
                    sk.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            rrc, _, rerr = r.wait()
        finally:
            relay.close()
            s.kill()
            s.wait(TIMEOUT)
            r.kill()
        self.assertEqual(rrc, 1, rerr)
        self.assertIn("close_notify", rerr)
        self.assertTrue(os.path.exists(os.path.join(self.dst, "big.part")))
        self.assertFalse(os.path.exists(os.path.join(self.dst, "big")))
        s, rs = self.ok(*self.both(("--tls", "--pin", "PIN"), ("--tls",),
                                   [path]))
        self.assertGreater(rs["resumed_bytes"], 4 * chunk)
        self.assertEqual(s["moved_bytes"] + s["resumed_bytes"], size)
        self.assertEqual(sha(os.path.join(self.dst, "big")), sha(path))


class Secret(Auth):
    def test_right_secret_file_and_tree(self):
        t = self.tree()
        sf = os.path.join(self.tmp.name, "secret")
        with open(sf, "w") as f:
            f.write("correct horse battery staple\n")
        for alg in ("xxh3", "none"):
            with self.subTest(alg=alg):
                self.clear()
                s, rs = self.ok(*self.both(
                    ("--secret-file", sf, "--verify", alg, "--chunk", "64k"),
                    ("--secret", "correct horse battery staple"), [t]))
                self.assertTrue(s["authenticated"] and rs["authenticated"])
                self.assertFalse(s["tls"])
                self.same_tree(t)

    def test_wrong_or_missing_secret_refused_before_anything_is_written(self):
        t = self.tree()
        cases = [(("--secret", "one"), ("--secret", "two"), "secret"),
                 (("--secret", "one"), (), "--secret"),
                 ((), ("--secret", "two"), "--secret")]
        for sopts, ropts, word in cases:
            with self.subTest(send=sopts, recv=ropts):
                (rc, _, err), (rrc, _, rerr) = self.both(sopts, ropts, [t])
                self.assertEqual((rc, rrc), (1, 1), err + rerr)
                self.assertIn(word, err)
                self.assertIn(word, rerr)
                self.empty_dst()

    def test_flipped_byte_is_caught_by_the_mac(self):
        p = os.path.join(self.src, "victim.bin")
        random_file(p, 1 << 20)
        # In a chunk's bytes (verify none: only the MAC can tell), and in
        # the first file's ENTRY (its path).
        for flip, alg in ((200000, "none"), (200000, "xxh3"), (140, "none")):
            with self.subTest(flip=flip, alg=alg):
                self.clear()
                (rc, _, err), (rrc, _, rerr) = self.both(
                    ("--secret", "s3cret", "--verify", alg, "--chunk",
                     "64k"), ("--secret", "s3cret"), [p],
                    port_of=lambda port: Relay(port, flip=flip))
                self.assertEqual((rc, rrc), (1, 1), err + rerr)
                self.assertRegex(rerr, "MAC does not match|does not match "
                                 "its hash|bad path|malformed")
                self.assertFalse(os.path.exists(
                    os.path.join(self.dst, "victim.bin")))

    def test_secret_over_tls(self):
        t = self.tree()
        s, rs = self.ok(*self.both(
            ("--tls", "--pin", "PIN", "--secret", "x" * 40),
            ("--tls", "--secret", "x" * 40), [t]))
        self.assertTrue(s["tls"] and s["authenticated"])
        self.same_tree(t)
        self.clear()
        (rc, _, err), (rrc, _, rerr) = self.both(
            ("--tls", "--pin", "PIN", "--secret", "a"),
            ("--tls", "--secret", "b"), [t])
        self.assertEqual((rc, rrc), (1, 1), err + rerr)
        self.empty_dst()

    def test_bad_secret_options(self):
        rc, _, err = run("send", "--secret", "", "127.0.0.1", "1", "x")
        self.assertEqual(rc, 2)
        rc, _, err = run("recv", "--secret", "a", "--secret-file", "/x",
                         "0")
        self.assertEqual(rc, 2)
        rc, _, err = run("recv", "--secret-file", "/nonexistent/s", "0")
        self.assertEqual(rc, 1)
        self.assertIn("/nonexistent/s", err)


class Leaks(Auth):
    def test_recv_k_tls_secret_keeps_no_fd(self):
        p = os.path.join(self.src, "f")
        random_file(p, 300000)
        r = Recv("-k", "--overwrite", "--tls", "--secret", "k", dir=self.dst)
        try:
            pin = pin_of(r)
            ok = ("--tls", "--pin", pin, "--secret", "k", "--chunk", "64k",
                  "127.0.0.1", str(r.port), p)
            self.assertEqual(run("send", *ok)[0], 0)
            before = r.fds()
            for _ in range(3):
                self.assertEqual(run("send", *ok)[0], 0)
                self.assertEqual(run("send", "--tls", "--pin", BAD_PIN,
                                     "127.0.0.1", str(r.port), p)[0], 1)
                self.assertEqual(run("send", "--tls", "--pin", pin,
                                     "--secret", "no", "127.0.0.1",
                                     str(r.port), p)[0], 1)
                self.assertEqual(run("send", "127.0.0.1", str(r.port),
                                     p)[0], 1)
            deadline = time.time() + 10
            while r.fds() != before and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(r.fds(), before)
            self.assertIsNone(r.p.poll())
        finally:
            r.kill()


if __name__ == "__main__":
    unittest.main()
