"""test_args.py - what every command shares in reading its arguments: one
reporter that names the option as the user wrote it, one duration, size
and count parser with units, one worker count, one target parser (HOST
PORT, HOST:PORT, [V6]:PORT) with one set of messages, and serve's table
of services made from the services themselves."""
import json
import re
import socket
import unittest

from clitest import run
from servetest import SERVICES, Serve


def usage_line(cmd, *args):
    """sockit CMD ARGS that must fail as a usage error: exit 2, nothing on
    stdout, one line on stderr; returns that line without the
    "sockit: CMD: " prefix and the help hint."""
    rc, out, err = run(cmd, *args)
    assert (rc, out) == (2, ""), (cmd, args, rc, out, err)
    assert err.count("\n") == 1, err
    prefix = "sockit: %s: " % cmd
    assert err.startswith(prefix), err
    hint = " (see 'sockit help %s')\n" % cmd
    assert err.endswith(hint), err
    return err[len(prefix):-len(hint)]


def listener(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen()
    return s, s.getsockname()[1]


class OptionNames(unittest.TestCase):
    """Issue 10 defect 10, issue 12: the bad option, not a neighbour."""

    def test_cluster_names_the_bad_letter_in_every_command(self):
        for cmd in ("scan", "connect", "check", "resolve", "listen", "bench"):
            msg = usage_line(cmd, "-4x", "127.0.0.1", "80")
            self.assertEqual(msg, "unknown option '-x' (in '-4x')", cmd)

    def test_long_option_of_a_command_without_it(self):
        self.assertEqual(usage_line("service", "--open", "http"),
                         "unknown option '--open'")

    def test_json_and_bench_options_go_through_the_one_reporter(self):
        self.assertEqual(usage_line("bench", "http://127.0.0.1:1/", "-X"),
                         "option '-X' needs a value")
        self.assertEqual(usage_line("bench", "--method", "A B",
                                    "http://127.0.0.1:1/"),
                         "--method 'A B': want a token such as GET or POST")
        self.assertEqual(usage_line("check", "-v4x", "127.0.0.1", "80"),
                         "unknown option '-x' (in '-v4x')")
        self.assertEqual(usage_line("hostname", "--json=1"),
                         "option '--json' takes no value")
        self.assertEqual(usage_line("service", "-ux", "53"),
                         "unknown option '-x' (in '-ux')")

    def test_dash_address_is_named_not_the_command(self):
        self.assertEqual(usage_line("check", "-1.2.3.4", "80"),
                         "unknown option '-1' (in '-1.2.3.4')")

    def test_dash_port_is_named_not_the_host(self):
        self.assertEqual(usage_line("scan", "127.0.0.1", "-22"),
                         "unknown option '-2' (in '-22')")

    def test_dash_target_is_named_not_the_option_before(self):
        self.assertEqual(usage_line("bench", "-n1", "-q", "-1.2.3.4:80"),
                         "unknown option '-1' (in '-1.2.3.4:80')")

    def test_missing_value_in_a_cluster(self):
        self.assertEqual(usage_line("connect", "127.0.0.1", "80", "-vw"),
                         "option '-w' (in '-vw') needs a value")
        self.assertEqual(usage_line("bench", "127.0.0.1:7", "--timeout"),
                         "option '--timeout' needs a value")

    def test_ambiguous_abbreviation(self):
        self.assertEqual(usage_line("bench", "--s", "1", "127.0.0.1:7"),
                         "ambiguous option '--s'")


class Units(unittest.TestCase):
    """One duration parser: units everywhere, a bare number in each
    option's documented unit; one size parser; one count parser."""

    def setUp(self):
        self.sock, self.port = listener()

    def tearDown(self):
        self.sock.close()

    def test_durations_take_units(self):
        for opt in (["-w", "500ms"], ["-w", "1m"], ["--timeout", "2s"],
                    ["--timeout", "1500"], ["-w", "0.5"]):
            rc, out, err = run("check", *opt, "127.0.0.1", str(self.port))
            self.assertEqual((rc, err), (0, ""), opt)

    def test_bad_durations_name_option_and_value(self):
        self.assertIn("-w '5x'", usage_line("check", "-w", "5x", "127.0.0.1", "80"))
        self.assertIn("(a bare number is milliseconds)",
                      usage_line("bench", "--timeout", "1.5", "127.0.0.1:7"))
        self.assertIn("(a bare number is seconds)",
                      usage_line("bench", "--duration", "soon", "127.0.0.1:7"))
        self.assertEqual(usage_line("connect", "-w", "0ms", "127.0.0.1", "80"),
                         "-w '0ms': must be more than 0")
        self.assertEqual(usage_line("scan", "--timeout", "2h", "127.0.0.1", "80"),
                         "--timeout '2h': want 1ms to 1h")

    def test_bench_units_and_sizes(self):
        with Serve("echo") as srv:
            rc, out, err = run("bench", "--json", "-q", "-n", "20", "-c", "2",
                               "-s", "1k", "--timeout", "5s", "--ramp", "0ms",
                               "-t", "0", "127.0.0.1:%d" % srv.port, timeout=30)
            srv.stop()
        self.assertEqual(rc, 0, err)
        r = json.loads(out)
        self.assertEqual((r["requests"], r["errors"]), (20, 0))
        self.assertEqual(r["bytes_in"], 20 * 1024)
        self.assertGreaterEqual(r["threads"], 1)

    def test_bad_size_and_count(self):
        self.assertIn("--size '1x'", usage_line("bench", "-s", "1x", "127.0.0.1:7"))
        self.assertEqual(usage_line("bench", "-c", "0", "127.0.0.1:7"),
                         "--connections '0': want a number from 1 to 1000000")
        self.assertIn("'2000'", usage_line("serve", "echo", "--workers", "2000"))


class Workers(unittest.TestCase):
    def test_serve_workers_zero_is_one_per_cpu(self):
        with Serve("echo", "--workers", "0") as srv:
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as c:
                c.sendall(b"ping\n")
                self.assertEqual(c.recv(16), b"ping\n")
            srv.stop()


class Targets(unittest.TestCase):
    """Issue 10 defect 11: one target parser, one set of messages."""

    def setUp(self):
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()

    def hold(self, pair):
        self.socks.append(pair[0])
        return pair[1]

    def test_check_takes_host_colon_port(self):
        a = self.hold(listener())
        b = self.hold(listener())
        rc, out, err = run("check", "127.0.0.1:%d" % a, str(b))
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual([l.split()[0] for l in out.splitlines()],
                         ["127.0.0.1:%d" % a, "127.0.0.1:%d" % b])

    def test_check_takes_bracketed_v6(self):
        p = self.hold(listener(socket.AF_INET6, "::1"))
        rc, out, _ = run("check", "[::1]:%d" % p)
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith("[::1]:%d open" % p), out)

    def test_scan_takes_host_colon_ports(self):
        p = self.hold(listener())
        rc, out, _ = run("scan", "127.0.0.1:%d" % p)
        self.assertEqual(rc, 0)
        self.assertIn("%d/tcp" % p, out)

    def test_syntax_errors_are_usage_errors_with_one_message(self):
        for host in ("[::1", "127.0.0.0/30", "a b"):
            want = usage_line("connect", host, "80")
            self.assertEqual(usage_line("check", host, "80"), want, host)
            # scan takes prefixes and ranges: a target set, not a host.
            if "/" not in host:
                self.assertEqual(usage_line("scan", host, "80"), want, host)
            self.assertEqual(usage_line("bench", host, "80"), want, host)
        self.assertEqual(usage_line("check", "[::1"),
                         usage_line("connect", "[::1"))


class UnknownServices(unittest.TestCase):
    """Issue 10 defect 12: one clear message, not getaddrinfo's
    "Servname not supported for ai_socktype"."""

    WANT = ("unknown service 'nosuchservice' (not a number or a name in "
            "/etc/services for %s)")

    def test_targets_say_unknown_service(self):
        for cmd, args in (("connect", ["127.0.0.1", "nosuchservice"]),
                          ("connect", ["127.0.0.1:nosuchservice"]),
                          ("check", ["127.0.0.1", "nosuchservice"]),
                          ("bench", ["127.0.0.1", "nosuchservice"]),
                          ("bench", ["http://127.0.0.1:nosuchservice/"]),
                          ("listen", ["127.0.0.1", "nosuchservice"])):
            self.assertEqual(usage_line(cmd, *args), self.WANT % "tcp", cmd)
        self.assertEqual(usage_line("connect", "-u", "127.0.0.1", "nosuchservice"),
                         self.WANT % "udp")

    def test_service_lookup_says_what_is_missing(self):
        for args, proto in ((["nosuchservice"], "tcp"),
                            (["-u", "nosuchservice"], "udp")):
            rc, out, err = run("service", *args)
            self.assertEqual((rc, out), (1, ""))
            self.assertEqual(err, "sockit: service: nosuchservice: unknown "
                             "service (not a name in /etc/services for %s)\n"
                             % proto)

    def test_unnamed_port(self):
        try:
            socket.getservbyport(65535, "tcp")
            self.skipTest("port 65535 has a name here")
        except OSError:
            pass
        rc, out, err = run("service", "65535")
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err, "sockit: service: 65535: no name in "
                         "/etc/services for port 65535/tcp\n")


class Messages(unittest.TestCase):
    """Issue 10 defect 15."""

    def test_serve_without_service_hints_once_and_lists_them(self):
        msg = usage_line("serve")
        self.assertNotIn("sockit help", msg)
        for name in SERVICES:
            self.assertIn(name, msg)

    def test_help_help_is_the_command_list(self):
        rc, out, err = run("help", "help")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, run("--help")[1])

    def test_one_connection_is_singular(self):
        with Serve("echo") as srv:
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as c:
                c.sendall(b"x")
                self.assertEqual(c.recv(1), b"x")
                rc, err = srv.stop()
        self.assertEqual(rc, 0)
        self.assertIn("SIGTERM: stopping; 1 connection open gets up to", err)


class Help(unittest.TestCase):
    """-h and --help are options like the others: an option's value that
    reads "-h" is only a value (main() used to scan all of argv)."""

    def test_dash_h_as_a_value_is_sent(self):
        from bridgetest import Server, recv_all, sockit
        srv = Server(recv_all)
        rc, out, err = sockit("connect", "--send", "-h", "127.0.0.1", str(srv.port))
        self.assertEqual(srv.finish(), b"-h")
        self.assertEqual((rc, out, err), (0, b"", ""))

    def test_help_anywhere_among_options(self):
        want = run("help", "scan")[1]
        for args in (["--help"], ["-h"], ["127.0.0.1", "--help"], ["-4h"]):
            self.assertEqual(run("scan", *args), (0, want, ""), args)


class ServeHelp(unittest.TestCase):
    def test_table_comes_from_the_services(self):
        rc, out, _ = run("serve", "--help")
        self.assertEqual(rc, 0)
        rows = {}
        for line in out.splitlines():
            m = re.match(r"^  (\w+) +(\d+) +(\d+)s +(tcp(?:,udp)?) +(.*)$", line)
            if m:
                rows[m.group(1)] = m.groups()[1:]
        self.assertEqual(sorted(rows), sorted(SERVICES + ["exec"]))
        self.assertEqual(rows["echo"][0], "7007")
        self.assertEqual(rows["echo"][2], "tcp,udp")
        self.assertEqual(rows["chat"][2], "tcp")
        # The services' own one-line descriptions (services' .what).
        self.assertTrue(rows["echo"][3].startswith("RFC 862: sends back"), rows["echo"])


if __name__ == "__main__":
    unittest.main()
