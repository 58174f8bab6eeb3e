"""test_many_names.py - `sockit resolve` of several names at once, and
scan's port lists with service names, open-ended ranges and --top-ports.

Lookups use localhost and numeric addresses only; a name meant to fail is
looked up inside a fresh network namespace (no resolver reachable). Scans
of fixed ports (22, 80, the services database's first ones) run in a
network namespace of their own with only its loopback up (as root), so
they meet nobody's server; the tests check which ports were scanned."""
import json
import subprocess
import unittest

from clitest import ROOT, SOCKIT, run


def scan_alone(*args):
    """sockit scan ARGS in a fresh network namespace, loopback up (root),
    else on the shared loopback; (exit code, stdout, stderr)."""
    if not ROOT:
        return run("scan", *args)
    p = subprocess.run(["unshare", "-n", "sh", "-c",
                        'ip link set lo up && exec "$0" "$@"', SOCKIT,
                        "scan", *args], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def services(proto):
    """Distinct ports /etc/services names for proto, in its order."""
    out, seen = [], set()
    with open("/etc/services") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) < 2 or "/" not in line[1]:
                continue
            port, p = line[1].split("/", 1)
            if p == proto and int(port) not in seen and int(port) > 0:
                seen.add(int(port))
                out.append(int(port))
    return out


def scanned(out):
    """The ports a --json scan reported, as a set."""
    rows = [json.loads(l) for l in out.splitlines()]
    return {r["port"] for r in rows if r.get("type") == "port"}


class Resolve(unittest.TestCase):
    def test_several_names_each_printed(self):
        rc, out, err = run("resolve", "-4", "localhost", "127.0.0.1")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertTrue(any(l.startswith("127.0.0.1 ipv4") for l in lines), out)
        self.assertTrue(any(l.startswith("127.0.0.1 localhost") or
                            l.startswith("127.0.0.1 ") for l in lines[1:]), out)
        self.assertGreaterEqual(len(lines), 2)

    def test_several_names_json_one_entry_each(self):
        rc, out, err = run("resolve", "--json", "-4", "localhost", "127.0.0.1")
        self.assertEqual(rc, 0, err)
        rows = [json.loads(l) for l in out.splitlines()]
        names = [r.get("name") for r in rows]
        self.assertIn("localhost", names)
        self.assertTrue(any(r.get("address") == "127.0.0.1" for r in rows))

    def test_one_failure_exits_1_and_the_rest_is_printed(self):
        rc, out, err = run("resolve", "-4", "localhost", "nosuch.invalid",
                           "127.0.0.1", netns=True)
        self.assertEqual(rc, 1, err)
        self.assertIn("127.0.0.1 ipv4", out)
        self.assertIn("nosuch.invalid", err)
        self.assertEqual(err.count("\n"), 1, err)

    def test_one_failure_in_json_is_an_entry_too(self):
        rc, out, err = run("resolve", "--json", "-4", "nosuch.invalid",
                           "localhost", netns=True)
        self.assertEqual(rc, 1)
        rows = [json.loads(l) for l in out.splitlines()]
        # The error object every command prints (docs/json.md).
        self.assertEqual(rows[0]["type"], "error")
        self.assertEqual(rows[0]["error"]["what"], "nosuch.invalid")
        self.assertTrue(any(r.get("address") == "127.0.0.1" for r in rows[1:]))


class ScanPorts(unittest.TestCase):

    def scan(self, *args):
        rc, out, err = scan_alone("--json", "--timeout", "500",
                                  "127.0.0.1", *args)
        self.assertEqual(rc, 0, err)
        return scanned(out)

    def test_service_names(self):
        self.assertEqual(self.scan("ssh,http"), {22, 80})
        self.assertEqual(self.scan("http, 443"), {80, 443})

    def test_names_are_looked_up_for_the_transport(self):
        rc, out, err = scan_alone("-u", "--json", "--timeout", "200",
                                  "127.0.0.1", "domain")
        self.assertEqual(rc, 0, err)
        self.assertEqual(scanned(out), {53})

    def test_unknown_name_is_a_usage_error_naming_it(self):
        rc, _, err = run("scan", "127.0.0.1", "22,nosuchservice")
        self.assertEqual(rc, 2)
        self.assertIn("'nosuchservice'", err)
        self.assertIn("unknown service name", err)

    def test_open_ended_ranges(self):
        self.assertEqual(self.scan("65530-"), set(range(65530, 65536)))
        # A leading dash reads as an option: after "--", or in HOST:PORTS.
        self.assertEqual(self.scan("--", "-3"), {1, 2, 3})
        rc, out, err = scan_alone("--json", "127.0.0.1:-3")
        self.assertEqual(rc, 0, err)
        self.assertEqual(scanned(out), {1, 2, 3})

    def test_top_ports_from_the_services_database(self):
        for n in (1, 5, 20):
            self.assertEqual(self.scan("--top-ports", str(n)),
                             set(services("tcp")[:n]), n)

    def test_top_ports_udp(self):
        rc, out, err = scan_alone("-u", "--json", "--timeout", "200",
                                  "127.0.0.1", "--top-ports", "3")
        self.assertEqual(rc, 0, err)
        self.assertEqual(scanned(out), set(services("udp")[:3]))

    def test_top_ports_conflicts_and_bounds(self):
        rc, _, err = run("scan", "127.0.0.1", "22", "--top-ports", "5")
        self.assertEqual(rc, 2)
        self.assertIn("--top-ports", err)
        rc, _, err = run("scan", "127.0.0.1", "--top-ports", "0")
        self.assertEqual(rc, 2)
        rc, _, err = run("scan", "127.0.0.1", "--top-ports", "x")
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    unittest.main()
