"""test_check.py - `sockit check HOST PORT...` against python3 listeners in
the tutorials' style (socket(), bind(('127.0.0.1', 0)), listen()) and
against ports that refuse: a socket bound but not listening holds its port,
so the kernel refuses every SYN and no other program can take it meanwhile.
Blackholed ports live in a network namespace the test makes (as root)."""
import json
import socket
import subprocess
import unittest

from clitest import HOSTS_BOTH, ROOT, SOCKIT, hosts_ns_missing, run, run_hosts


def listener(family=socket.AF_INET, host="127.0.0.1"):
    """The tutorials' server socket, ready to be connected to."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen()
    return s, s.getsockname()[1]


def refusing(family=socket.AF_INET, host="127.0.0.1"):
    """A port nobody listens on, held so that nobody else can."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    return s, s.getsockname()[1]


class Check(unittest.TestCase):
    def setUp(self):
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()

    def hold(self, pair):
        self.socks.append(pair[0])
        return pair[1]

    def test_open_port_exit_0(self):
        port = self.hold(listener())
        rc, out, err = run("check", "127.0.0.1", str(port))
        self.assertEqual((rc, err), (0, ""))
        self.assertRegex(out, r"^127\.0\.0\.1:%d open \(connected in [0-9.]+ ms\)\n$"
                         % port)

    def test_closed_port_exit_1_with_reason(self):
        port = self.hold(refusing())
        rc, out, err = run("check", "127.0.0.1", str(port))
        self.assertEqual(rc, 1)
        self.assertEqual(out, "127.0.0.1:%d closed (refused)\n" % port)
        self.assertEqual(err, "")

    def test_every_port_in_the_order_given(self):
        a = self.hold(listener())
        b = self.hold(refusing())
        c = self.hold(listener())
        rc, out, _ = run("check", "127.0.0.1", str(c), str(b), str(a), str(c))
        self.assertEqual(rc, 1)
        lines = out.splitlines()
        self.assertEqual([l.split()[0] for l in lines],
                         ["127.0.0.1:%d" % p for p in (c, b, a, c)])
        self.assertEqual([l.split()[1] for l in lines],
                         ["open", "closed", "open", "open"])

    def test_all_open_exit_0(self):
        ports = [str(self.hold(listener())) for _ in range(3)]
        rc, out, _ = run("check", "localhost", "-4", *ports)
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.count(" open "), 3)

    def test_ipv6(self):
        port = self.hold(listener(socket.AF_INET6, "::1"))
        rc, out, _ = run("check", "::1", str(port))
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith("[::1]:%d open" % port), out)

    def test_json_parses(self):
        o = self.hold(listener())
        c = self.hold(refusing())
        rc, out, _ = run("check", "--json", "127.0.0.1", str(o), str(c))
        self.assertEqual(rc, 1)
        rows = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(len(rows), 2)
        self.assertEqual((rows[0]["port"], rows[0]["state"], rows[0]["error"]),
                         (o, "open", None))
        self.assertEqual((rows[1]["port"], rows[1]["state"],
                          rows[1]["error"]["code"], rows[1]["reason"]),
                         (c, "closed", "ECONNREFUSED", "refused"))
        self.assertEqual(rows[0]["address"], "127.0.0.1")

    def test_service_name_as_port(self):
        rc, out, _ = run("check", "-w", "1", "127.0.0.1", "tcpmux")
        self.assertIn(rc, (0, 1))
        self.assertTrue(out.startswith("127.0.0.1:1 "), out)

    def test_timeout_options(self):
        port = self.hold(listener())
        for opt in (["-w", "0.5"], ["--timeout", "500"], ["-w", "3"]):
            rc, out, _ = run("check", *opt, "127.0.0.1", str(port))
            self.assertEqual(rc, 0, opt)

    @unittest.skipUnless(ROOT, "needs root for a network namespace")
    def test_blackhole_is_filtered(self):
        script = ("ip link set lo up && "
                  "iptables -A INPUT -p tcp --syn -j DROP && "
                  "exec \"$0\" check -w 0.3 127.0.0.1 8080")
        p = subprocess.run(["unshare", "-n", "sh", "-c", script, SOCKIT],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stdout, "127.0.0.1:8080 filtered (timed out)\n")

    @unittest.skipUnless(ROOT, "needs root for a network namespace")
    def test_self_connect_is_closed(self):
        """With the ephemeral range narrowed to one port P, a connect to
        127.0.0.1:P comes from P and meets itself: nobody listens."""
        script = ("ip link set lo up && "
                  "sysctl -qw net.ipv4.ip_local_port_range='40000 40000' && "
                  "exec \"$0\" check 127.0.0.1 40000")
        p = subprocess.run(["unshare", "-n", "sh", "-c", script, SOCKIT],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stdout, "127.0.0.1:40000 closed (self-connect)\n")


class BadInput(unittest.TestCase):
    def assert_usage(self, *args, needle=None):
        rc, out, err = run("check", *args)
        self.assertEqual(rc, 2, args)
        self.assertEqual(out, "", args)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertTrue(err.startswith("sockit: check: "), err)
        if needle:
            self.assertIn(needle, err)

    def test_bad_ports(self):
        for bad in ("65536", "0", "", "-1", "99999999999", "80-90",
                    "no-such-service"):
            self.assert_usage("127.0.0.1", bad, needle="'%s'" % bad)

    def test_missing_port(self):
        self.assert_usage("127.0.0.1")

    def test_conflicts(self):
        self.assert_usage("-4", "-6", "localhost", "80", needle="conflict")
        self.assert_usage("-w", "1", "--timeout", "100", "localhost", "80",
                          needle="conflict")

    def test_bad_timeouts(self):
        self.assert_usage("-w", "0", "127.0.0.1", "80")
        self.assert_usage("-w", "abc", "127.0.0.1", "80")
        self.assert_usage("--timeout", "0", "127.0.0.1", "80")
        self.assert_usage("--timeout", "1.5", "127.0.0.1", "80")
        self.assert_usage("127.0.0.1", "80", "-w", needle="needs a value")

    def test_unknown_option(self):
        self.assert_usage("--bogus", "127.0.0.1", "80", needle="--bogus")


if __name__ == "__main__":
    unittest.main()


@unittest.skipIf(hosts_ns_missing(), hosts_ns_missing())
class EveryAddress(unittest.TestCase):
    """localhost with both loopback lines, a server on one of them: check
    tries every address, as connect does, and names the one that answered."""

    def setUp(self):
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()

    def test_server_on_ipv4_only_is_open(self):
        s, port = listener()
        self.socks.append(s)
        rc, out, err = run_hosts(HOSTS_BOTH, "check", "localhost", str(port))
        self.assertEqual((rc, err), (0, ""), out)
        self.assertRegex(out, r"^127\.0\.0\.1:%d open \(connected in [0-9.]+ ms\)\n$"
                         % port)

    def test_server_on_ipv6_only_is_open(self):
        s, port = listener(socket.AF_INET6, "::1")
        self.socks.append(s)
        rc, out, err = run_hosts(HOSTS_BOTH, "check", "localhost", str(port))
        self.assertEqual((rc, err), (0, ""), out)
        self.assertTrue(out.startswith("[::1]:%d open" % port), out)

    def test_verbose_lists_every_attempt(self):
        s, port = listener()
        self.socks.append(s)
        rc, out, err = run_hosts(HOSTS_BOTH, "check", "-v", "localhost",
                                 str(port))
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"sockit: check: tried \[::1\]:%d at \+\d+ ms: "
                         r"connection refused after \d+ ms\n" % port)
        self.assertRegex(err, r"sockit: check: tried 127\.0\.0\.1:%d at \+\d+ ms: "
                         r"connected after \d+ ms\n" % port)

    def test_json_names_the_answering_address_and_the_others(self):
        s, port = listener()
        self.socks.append(s)
        rc, out, err = run_hosts(HOSTS_BOTH, "check", "--json", "localhost",
                                 str(port))
        self.assertEqual(rc, 0, err)
        row = json.loads(out)
        self.assertEqual((row["host"], row["address"], row["state"]),
                         ("localhost", "127.0.0.1", "open"))
        tried = [(a["address"], a["error"] and a["error"]["code"])
                 for a in row["attempts"]]
        self.assertEqual(tried, [("::1", "ECONNREFUSED"), ("127.0.0.1", None)])

    def test_nothing_listening_is_closed(self):
        s, port = refusing()
        self.socks.append(s)
        rc, out, _ = run_hosts(HOSTS_BOTH, "check", "localhost", str(port))
        self.assertEqual(rc, 1)
        self.assertRegex(out, r"^(\[::1\]|127\.0\.0\.1):%d closed \(refused\)\n$"
                         % port)

    def test_family_option_keeps_to_one(self):
        s, port = listener()
        self.socks.append(s)
        rc, out, _ = run_hosts(HOSTS_BOTH, "check", "-6", "localhost", str(port))
        self.assertEqual((rc, out), (1, "[::1]:%d closed (refused)\n" % port))
