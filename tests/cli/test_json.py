"""test_json.py - every command's real --json output against the one
schema (json_schema.py, which is docs/json.md as data): each line of each
command, on success and on failure, and the schema against the page.

Lookups meant to fail run in a fresh network namespace (no resolver can be
reached); the two-address cases in a mount namespace with its own hosts
file. Every server is on 127.0.0.1:0."""
import json
import os
import re
import signal
import socket
import subprocess
import unittest

import json_schema
from clitest import (HOSTS_BOTH, ROOT, SOCKIT, hosts_ns_missing, run,
                     run_hosts)
from servetest import Serve, connect, udp_ask

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "..", "..", "docs", "json.md")


def lines_of(text):
    return [json.loads(l) for l in text.splitlines()]


class Schema(unittest.TestCase):
    def assert_schema(self, command, text, types=None):
        """Every line of text is JSON that command's schema allows; types,
        when given, are the types the lines must have, in order."""
        rows = lines_of(text)
        self.assertTrue(rows, "no output")
        for row in rows:
            self.assertEqual(json_schema.check(command, row), [], row)
        if types is not None:
            self.assertEqual([r["type"] for r in rows], types)
        return rows

    def assert_failure(self, command, rc, out, err, code, what):
        self.assertEqual(rc, 1, err)
        (row,) = self.assert_schema(command, out, ["error"])
        self.assertEqual((row["error"]["code"], row["error"]["what"]),
                         (code, what))
        # The one-line message is still there for people.
        self.assertEqual(err, "sockit: %s: %s: %s\n"
                         % (command, what, row["error"]["message"]))
        return row


class Lookups(Schema):
    def test_resolve_forward(self):
        rc, out, _ = run("resolve", "--json", "localhost")
        self.assertEqual(rc, 0)
        rows = self.assert_schema("resolve", out)
        self.assertEqual({r["type"] for r in rows}, {"address"})

    def test_resolve_reverse(self):
        rc, out, _ = run("resolve", "--json", "127.0.0.1")
        self.assertEqual(rc, 0)
        self.assert_schema("resolve", out, ["name"])

    def test_resolve_failure(self):
        rc, out, err = run("resolve", "--json", "nonexistent.invalid",
                           netns=True)
        row = self.assert_failure("resolve", rc, out, err,
                                  json.loads(out)["error"]["code"],
                                  "nonexistent.invalid")
        self.assertTrue(row["error"]["code"].startswith("EAI_"), row)

    def test_service(self):
        for args in (["http"], ["-u", "53"], ["80"]):
            rc, out, _ = run("service", "--json", *args)
            self.assertEqual(rc, 0, args)
            (row,) = self.assert_schema("service", out, ["service"])
            self.assertEqual(row["transport"], "udp" if "-u" in args else "tcp")

    def test_service_failure(self):
        rc, out, err = run("service", "--json", "no-such-service")
        self.assert_failure("service", rc, out, err,
                            json.loads(out)["error"]["code"], "no-such-service")

    def test_hostname(self):
        rc, out, _ = run("hostname", "--json")
        self.assertEqual(rc, 0)
        (row,) = self.assert_schema("hostname", out, ["hostname"])
        self.assertEqual(row["fqdn"], False)

    def test_hostname_fqdn(self):
        """Either the name or the resolver's failure, each in the schema."""
        rc, out, _ = run("hostname", "--json", "--fqdn", netns=True)
        self.assertIn(rc, (0, 1))
        self.assert_schema("hostname", out, ["hostname" if rc == 0 else "error"])


class Ports(Schema):
    def setUp(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.refuser = socket.socket()
        self.refuser.bind(("127.0.0.1", 0))
        self.open = self.listener.getsockname()[1]
        self.closed = self.refuser.getsockname()[1]

    def tearDown(self):
        self.listener.close()
        self.refuser.close()

    def test_check(self):
        rc, out, _ = run("check", "--json", "127.0.0.1", str(self.open),
                         str(self.closed))
        self.assertEqual(rc, 1)
        rows = self.assert_schema("check", out, ["port", "port"])
        self.assertEqual([r["state"] for r in rows], ["open", "closed"])
        self.assertIsNone(rows[0]["error"])
        self.assertEqual(rows[1]["error"]["code"], "ECONNREFUSED")

    def test_check_failure(self):
        rc, out, err = run("check", "--json", "nonexistent.invalid", "80",
                           netns=True)
        self.assert_failure("check", rc, out, err,
                            json.loads(out)["error"]["code"],
                            "nonexistent.invalid")

    def test_scan(self):
        ports = "%d,%d" % (self.open, self.closed)
        rc, out, _ = run("scan", "--json", "127.0.0.1", ports)
        self.assertEqual(rc, 0)
        rows = self.assert_schema("scan", out,
                                  ["scan", "port", "port", "summary"])
        self.assertEqual(rows[-1]["other_addresses"], [])

    def test_scan_udp(self):
        ports = "%d,%d" % (self.open, self.closed)
        rc, out, _ = run("scan", "-u", "--json", "--timeout", "200",
                         "127.0.0.1", ports)
        self.assertEqual(rc, 0)
        rows = self.assert_schema("scan", out,
                                  ["scan", "port", "port", "summary"])
        self.assertEqual({r["transport"] for r in rows[1:]}, {"udp"})

    def test_scan_failure(self):
        rc, out, err = run("scan", "--json", "nonexistent.invalid", "80",
                           netns=True)
        self.assert_failure("scan", rc, out, err,
                            json.loads(out)["error"]["code"],
                            "nonexistent.invalid")

    @unittest.skipIf(hosts_ns_missing(), hosts_ns_missing())
    def test_two_addresses(self):
        rc, out, err = run_hosts(HOSTS_BOTH, "check", "--json", "localhost",
                                 str(self.open))
        self.assertEqual(rc, 0, err)
        (row,) = self.assert_schema("check", out, ["port"])
        self.assertEqual(len(row["attempts"]), 2)
        rc, out, err = run_hosts(HOSTS_BOTH, "scan", "--json", "localhost",
                                 str(self.open))
        self.assertEqual(rc, 0, err)
        rows = self.assert_schema("scan", out, ["scan", "port", "summary"])
        self.assertEqual(rows[-1]["other_addresses"], ["127.0.0.1"])


class Serving(Schema):
    def test_every_event(self):
        with Serve("echo", "--json", "-v", "--tcp", "--udp", "--stats",
                   "0.2", "--max-conns", "1") as srv:
            a = connect(srv.tcp)
            a.sendall(b"x")
            a.recv(1)
            try:
                # Over --max-conns: refused, by a reset that may come
                # before connect returns.
                connect(srv.tcp).close()
            except ConnectionResetError:
                pass
            srv.wait_for(r'"type":"refused"')
            a.close()
            srv.wait_for(r'"type":"close"')
            self.assertEqual(udp_ask(srv.udp, b"ping"), b"ping")
            srv.wait_for(r'"type":"datagram"')
            srv.wait_for(r'"type":"stats"')
            rc, err = srv.stop(signal.SIGINT)
        self.assertEqual(rc, 0)
        rows = self.assert_schema("serve", err)
        self.assertEqual({r["type"] for r in rows},
                         {"listening", "open", "close", "refused", "datagram",
                          "stats", "stopping", "stopped"})

    def test_failure_is_json_on_the_log(self):
        """serve's stderr is its JSON log: the failure is a line of it."""
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        held.listen()
        try:
            port = held.getsockname()[1]
            rc, out, err = run("serve", "echo", "--json", "--listen",
                               "127.0.0.1:%d" % port)
        finally:
            held.close()
        self.assertEqual((rc, out), (1, ""))
        (row,) = self.assert_schema("serve", err, ["error"])
        self.assertEqual((row["error"]["code"], row["error"]["what"]),
                         ("EADDRINUSE", "127.0.0.1:%d/tcp" % port))


    def test_file_failure_is_json_too(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            rc, out, err = run("serve", "qotd", "--json", "--file", f.name,
                               "--listen", "127.0.0.1:0")
        self.assertEqual((rc, out), (1, ""))
        (row,) = self.assert_schema("serve", err, ["error"])
        self.assertEqual((row["error"]["message"], row["error"]["what"]),
                         ("no quote in it", f.name))


class Benching(Schema):
    def test_report(self):
        with Serve("echo") as srv:
            rc, out, _ = run("bench", "--json", "-q", "-n", "50", "-c", "2",
                             "127.0.0.1:%d" % srv.tcp, timeout=30)
        self.assertEqual(rc, 0)
        (row,) = self.assert_schema("bench", out, ["report"])
        self.assertEqual((row["address"], row["requests"]), ("127.0.0.1", 50))
        self.assertGreater(row["latency_s"]["p50"], 0)

    def test_nothing_completed_is_null_not_zero(self):
        refuser = socket.socket()
        refuser.bind(("127.0.0.1", 0))
        try:
            rc, out, _ = run("bench", "--json", "-q", "-n", "3", "-c", "1",
                             "-d", "1", "127.0.0.1:%d"
                             % refuser.getsockname()[1], timeout=30)
        finally:
            refuser.close()
        self.assertEqual(rc, 1)
        (row,) = self.assert_schema("bench", out, ["report"])
        self.assertEqual(set(row["latency_s"].values()), {None})

    def test_failure(self):
        rc, out, err = run("bench", "--json", "-q", "-n", "1",
                           "nonexistent.invalid:80", netns=True)
        self.assert_failure("bench", rc, out, err,
                            json.loads(out)["error"]["code"],
                            "nonexistent.invalid")


class Document(unittest.TestCase):
    """docs/json.md and json_schema.py name the same keys, command by
    command, so that neither can drift from the other unseen."""

    def doc_keys(self):
        keys, section, col = {}, None, None
        with open(DOC) as f:
            text = f.read()
        for line in text.splitlines():
            m = re.match(r"^##+ (.*)", line)
            if m:
                section, col = m.group(1).strip(), None
                continue
            if not line.startswith("|") or section is None:
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if "Key" in cells:
                col = cells.index("Key")
                continue
            separator = all(c and set(c) <= set("-:") for c in cells)
            if col is None or col >= len(cells) or separator:
                continue
            keys.setdefault(section, set()).update(
                re.findall(r"`([a-z_]+)`", cells[col]))
        return keys

    def test_every_command_documented_as_checked(self):
        doc = self.doc_keys()
        for command in json_schema.COMMANDS:
            self.assertEqual(doc.get(command), json_schema.top_keys(command),
                             command)
        self.assertEqual(doc.get("Failures"), set(json_schema.FAILURE))


if __name__ == "__main__":
    unittest.main()
