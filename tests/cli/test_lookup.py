"""test_lookup.py - sockit's top level, resolve, service, hostname."""
import json
import socket
import unittest

from clitest import ROOT, run


class Main(unittest.TestCase):
    def test_version(self):
        rc, out, _ = run("--version")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^sockit \d+\.\d+\.\d+\n$")

    def test_help_lists_commands(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        for cmd in ("resolve", "service", "hostname"):
            self.assertIn(cmd, out)

    def test_help_cmd_and_cmd_help_agree(self):
        rc1, out1, _ = run("help", "resolve")
        rc2, out2, _ = run("resolve", "--help")
        self.assertEqual((rc1, rc2), (0, 0))
        self.assertEqual(out1, out2)
        self.assertIn("usage: sockit resolve", out1)

    def test_no_command_is_usage_error(self):
        rc, _, err = run()
        self.assertEqual(rc, 2)
        self.assertIn("usage:", err)

    def test_unknown_command_is_usage_error(self):
        rc, out, err = run("frobnicate")
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertEqual(err.count("\n"), 1)
        self.assertIn("sockit: unknown command 'frobnicate'", err)


class Resolve(unittest.TestCase):
    def test_localhost_v4(self):
        rc, out, _ = run("resolve", "-4", "localhost")
        self.assertEqual(rc, 0)
        self.assertIn("127.0.0.1 ipv4", out)

    def test_json_lines_parse(self):
        rc, out, _ = run("resolve", "--json", "-4", "localhost")
        self.assertEqual(rc, 0)
        rows = [json.loads(l) for l in out.splitlines()]
        self.assertTrue(rows)
        self.assertEqual(rows[0]["address"], "127.0.0.1")
        self.assertEqual(rows[0]["family"], "ipv4")

    @unittest.skipUnless(ROOT, "needs root for a network namespace")
    def test_reverse_from_hosts_file(self):
        rc, out, _ = run("resolve", "127.0.0.1", netns=True)
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^127\.0\.0\.1 \S+\n$")

    @unittest.skipUnless(ROOT, "needs root for a network namespace")
    def test_failed_lookup_says_why(self):
        rc, out, err = run("resolve", "nonexistent.invalid", netns=True)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertTrue(err.startswith("sockit: resolve: nonexistent.invalid: "), err)
        self.assertEqual(err.count("\n"), 1)

    def test_conflicting_families(self):
        rc, _, err = run("resolve", "-4", "-6", "localhost")
        self.assertEqual(rc, 2)
        self.assertIn("conflict", err)

    def test_missing_name(self):
        rc, _, err = run("resolve")
        self.assertEqual(rc, 2)

    def test_unknown_option(self):
        rc, _, err = run("resolve", "--bogus", "localhost")
        self.assertEqual(rc, 2)
        self.assertIn("--bogus", err)


class Service(unittest.TestCase):
    def test_name_to_port(self):
        self.assertEqual(run("service", "http")[:2], (0, "http 80/tcp\n"))

    def test_port_to_name_udp(self):
        self.assertEqual(run("service", "53", "-u")[:2], (0, "domain 53/udp\n"))

    def test_matches_python(self):
        port = socket.getservbyname("ssh", "tcp")
        self.assertEqual(run("service", "ssh")[1], "ssh %d/tcp\n" % port)

    def test_unknown_name_fails(self):
        rc, out, err = run("service", "no-such-service")
        self.assertEqual(rc, 1)
        self.assertTrue(err.startswith("sockit: service: no-such-service: "))

    def test_bad_port_is_usage(self):
        for bad in ("65536", "80abc", "0"):
            rc, _, err = run("service", bad)
            self.assertEqual(rc, 2, bad)


class Hostname(unittest.TestCase):
    def test_matches_python(self):
        rc, out, _ = run("hostname")
        self.assertEqual((rc, out), (0, socket.gethostname() + "\n"))

    @unittest.skipUnless(ROOT, "needs root for a network namespace")
    def test_fqdn_without_resolver(self):
        rc, out, _ = run("hostname", "--fqdn", netns=True)
        self.assertEqual(rc, 0)
        self.assertTrue(out.strip())

    def test_extra_argument(self):
        self.assertEqual(run("hostname", "extra")[0], 2)


