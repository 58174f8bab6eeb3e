"""test_scan.py - `sockit scan HOST PORTS` as a user drives it.

On the shared loopback every port scanned is one the test holds: a python3
listener in the tutorials' style, or a socket bound but not listening
(refused, and no other program can take the port), so the open set must
equal the listeners exactly. Whole-range scans, a narrowed ephemeral range
(self-connects) and packet filters run inside a network namespace the test
makes with `unshare -n` (as root), where `ss -ltn` is the ground truth."""
import json
import os
import pty
import resource
import socket
import subprocess
import sys
import threading
import unittest

from clitest import HOSTS_BOTH, ROOT, SOCKIT, hosts_ns_missing, run, run_hosts


def tcp(listen):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    if listen:
        s.listen()
    return s


def rows_of(out):
    """JSON Lines: the port objects by port, and the summary."""
    rows = [json.loads(l) for l in out.splitlines()]
    ports = {r["port"]: r for r in rows if r["type"] == "port"}
    summary = [r for r in rows if r["type"] == "summary"]
    return ports, summary[0] if summary else None


def open_ports_text(out):
    return {int(l.split("/")[0]) for l in out.splitlines()
            if not l.startswith("#") and l.split()[1] == "open"}


def in_netns(script, *args, timeout=60):
    """Run a shell script in a fresh network namespace with lo up; $SOCKIT
    is the binary. Returns (rc, stdout, stderr)."""
    env = dict(os.environ, SOCKIT=os.path.abspath(SOCKIT))
    p = subprocess.run(["unshare", "-n", "sh", "-ec",
                        "ip link set lo up\n" + script, "sh", *args],
                       capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


# Listeners inside the namespace: three tutorial servers that accept and
# close; their ports go to $PORTS, and they die with the script.
LISTENERS = r"""
PORTS=/tmp/sockit-scan-test.$$
python3 -c '
import socket, sys, threading
ls = []
for _ in range(3):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); ls.append(s)
    print(s.getsockname()[1])
sys.stdout.close()
def serve(s):
    while True:
        s.accept()[0].close()
for s in ls:
    threading.Thread(target=serve, args=(s,), daemon=True).start()
threading.Event().wait()
' > $PORTS &
trap "kill $!; rm -f $PORTS" EXIT
while [ ! -f $PORTS ] || [ $(wc -l < $PORTS) -lt 3 ]; do sleep 0.05; done
"""


class Scan(unittest.TestCase):
    def setUp(self):
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()

    def held(self, n_open, n_closed):
        ls = [tcp(True) for _ in range(n_open)]
        cs = [tcp(False) for _ in range(n_closed)]
        self.socks += ls + cs
        return ([s.getsockname()[1] for s in ls],
                [s.getsockname()[1] for s in cs])

    def test_open_set_equals_listeners(self):
        opened, closed = self.held(3, 5)
        ports = ",".join(map(str, opened + closed))
        rc, out, err = run("scan", "127.0.0.1", ports)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(open_ports_text(out), set(opened))
        for p in closed:
            self.assertIn("%d/tcp" % p, out)
        self.assertIn("3 open, 5 closed", out)

    def test_json_lines_parse(self):
        opened, closed = self.held(2, 2)
        rc, out, _ = run("scan", "--json", "127.0.0.1",
                         ",".join(map(str, opened + closed)))
        self.assertEqual(rc, 0)
        ports, summary = rows_of(out)
        self.assertEqual(set(ports), set(opened + closed))
        for p in opened:
            self.assertEqual((ports[p]["state"], ports[p]["reason"]),
                             ("open", "connected"))
        for p in closed:
            self.assertEqual((ports[p]["state"], ports[p]["error"]["code"]),
                             ("closed", "ECONNREFUSED"))
        self.assertEqual((summary["ports"], summary["open"], summary["closed"]),
                         (4, 2, 2))
        self.assertEqual(summary["address"], "127.0.0.1")

    def test_open_only(self):
        opened, closed = self.held(2, 3)
        rc, out, _ = run("scan", "--open", "127.0.0.1",
                         ",".join(map(str, opened + closed)))
        self.assertEqual(rc, 0)
        lines = [l for l in out.splitlines() if not l.startswith("#")]
        self.assertEqual(len(lines), 2, out)
        self.assertEqual(open_ports_text(out), set(opened))
        rc, out, _ = run("scan", "--open", "--json", "127.0.0.1",
                         ",".join(map(str, opened + closed)))
        ports, summary = rows_of(out)
        self.assertEqual(set(ports), set(opened))
        self.assertEqual(summary["closed"], 3)

    def test_service_names_next_to_ports(self):
        rc, out, _ = run("scan", "--json", "--timeout", "500", "127.0.0.1", "1")
        ports, _ = rows_of(out)
        self.assertEqual(ports[1]["service"], socket.getservbyport(1, "tcp"))

    def test_many_closed_ports_are_counted_not_listed(self):
        opened, closed = self.held(1, 30)
        rc, out, _ = run("scan", "127.0.0.1", ",".join(map(str, opened + closed)))
        self.assertEqual(rc, 0)
        self.assertIn("# not shown: 30 closed", out)
        self.assertEqual(open_ports_text(out), set(opened))

    def test_low_fd_limit_still_finds_every_listener(self):
        """ulimit -n 64 (soft and hard, so sockit cannot raise it) and 40 fds
        inherited, 1000 ports of which 100 listen: sockit plans for 48
        probes, meets EMFILE, lowers its concurrency and gets every port
        right."""
        opened, closed = self.held(100, 900)
        ports = ",".join(map(str, opened + closed))
        # The limit counts fd numbers: the 40 inherited fds take 3..42.
        # A fresh python sets them up and execs sockit (in a preexec_fn
        # they could land on subprocess's own pipe to the child).
        wrap = ("import os, resource, sys\n"
                "null = os.open(os.devnull, os.O_RDONLY)\n"
                "os.set_inheritable(null, True)\n"
                "for fd in range(3, 43):\n"
                "    if fd != null:\n"
                "        os.dup2(null, fd)\n"
                "resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))\n"
                "os.execv(sys.argv[1], sys.argv[1:])\n")
        p = subprocess.run([sys.executable, "-c", wrap, SOCKIT, "scan",
                            "--json", "127.0.0.1", ports],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows, summary = rows_of(p.stdout)
        self.assertEqual(len(rows), 1000)
        self.assertEqual({r for r in rows if rows[r]["state"] == "open"},
                         set(opened))
        self.assertEqual(summary["closed"], 900)
        self.assertLess(summary["parallel"], 64)
        self.assertGreater(summary["retries"], 0)
        self.assertLess(summary["parallel_end"], summary["parallel"])

    def test_asked_parallelism_beyond_fd_limit(self):
        opened, closed = self.held(3, 197)
        ports = ",".join(map(str, opened + closed))
        p = subprocess.run(
            [SOCKIT, "scan", "--json", "--parallel", "5000", "127.0.0.1", ports],
            capture_output=True, text=True, timeout=60,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40)))
        self.assertEqual(p.returncode, 0, p.stderr)
        rows, summary = rows_of(p.stdout)
        self.assertEqual({r for r in rows if rows[r]["state"] == "open"},
                         set(opened))
        self.assertEqual(summary["ports"], 200)

    def test_rate_and_parallel_options(self):
        opened, closed = self.held(1, 4)
        rc, out, _ = run("scan", "--rate", "1000/s", "--parallel", "2",
                         "127.0.0.1", ",".join(map(str, opened + closed)))
        self.assertEqual(rc, 0)
        self.assertEqual(open_ports_text(out), set(opened))
        rc, out, _ = run("scan", "--rate", "500", "127.0.0.1", str(opened[0]))
        self.assertEqual(open_ports_text(out), set(opened))

    def test_progress_only_on_a_terminal(self):
        opened, _ = self.held(1, 0)
        rc, _, err = run("scan", "127.0.0.1", str(opened[0]))
        self.assertEqual(err, "")
        master, slave = pty.openpty()
        p = subprocess.run([SOCKIT, "scan", "127.0.0.1", str(opened[0])],
                           stdout=subprocess.PIPE, stderr=slave, timeout=10)
        os.close(slave)
        shown = os.read(master, 4096).decode()
        os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertIn("scanning 127.0.0.1: 1/1 probes", shown)
        self.assertNotIn("scanning", p.stdout.decode())

    def test_ipv6(self):
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.listen()
        self.socks.append(s)
        port = s.getsockname()[1]
        rc, out, _ = run("scan", "-6", "::1", str(port))
        self.assertEqual(open_ports_text(out), {port})
        self.assertIn("(::1)", out)


class Udp(unittest.TestCase):
    def test_echo_open_closed_refused_silent_open_filtered(self):
        echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        echo.bind(("127.0.0.1", 0))
        stop = threading.Event()

        def serve():
            echo.settimeout(0.1)
            while not stop.is_set():
                try:
                    data, peer = echo.recvfrom(2048)
                    echo.sendto(data, peer)
                except socket.timeout:
                    pass
        t = threading.Thread(target=serve)
        t.start()
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        gone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        gone.bind(("127.0.0.1", 0))
        closed = gone.getsockname()[1]
        gone.close()
        e, s = echo.getsockname()[1], silent.getsockname()[1]
        try:
            rc, out, err = run("scan", "-u", "--json", "--timeout", "300",
                               "127.0.0.1", "%d,%d,%d" % (e, s, closed))
        finally:
            stop.set()
            t.join()
            echo.close()
            silent.close()
        self.assertEqual(rc, 0, err)
        ports, summary = rows_of(out)
        self.assertEqual((ports[e]["state"], ports[e]["reason"]), ("open", "reply"))
        self.assertEqual((ports[closed]["state"],
                          ports[closed]["error"]["code"]),
                         ("closed", "ECONNREFUSED"))
        self.assertEqual((ports[s]["state"], ports[s]["reason"]),
                         ("open|filtered", "no reply"))
        self.assertEqual(ports[e]["transport"], "udp")
        self.assertEqual(summary["open_filtered"], 1)


@unittest.skipUnless(ROOT, "needs root for a network namespace")
class Namespace(unittest.TestCase):
    def test_all_ports_same_open_set_as_ss(self):
        rc, out, err = in_netns(LISTENERS + """
"$SOCKIT" scan --json 127.0.0.1 all
echo ss
ss -ltnH | awk '{print $4}'
""")
        self.assertEqual(rc, 0, err)
        scan, ss = out.split("ss\n")
        ports, summary = rows_of(scan)
        truth = {int(a.rsplit(":", 1)[1]) for a in ss.split()}
        self.assertEqual(len(truth), 3)
        self.assertEqual({p for p in ports if ports[p]["state"] == "open"}, truth)
        self.assertEqual(summary["ports"], 65535)
        self.assertEqual(summary["closed"], 65532)

    def test_self_connect_is_not_open(self):
        """With the ephemeral range narrowed to one port P, a connect to
        127.0.0.1:P comes from P and connects to itself."""
        rc, out, err = in_netns("""
sysctl -qw net.ipv4.ip_local_port_range='40000 40000'
"$SOCKIT" scan --json 127.0.0.1 40000
""")
        self.assertEqual(rc, 0, err)
        ports, summary = rows_of(out)
        self.assertEqual((ports[40000]["state"], ports[40000]["reason"]),
                         ("closed", "self-connect"))
        self.assertEqual(summary["self_connects"], 1)

    def test_filtered_ports_time_out(self):
        rc, out, err = in_netns(LISTENERS + """
for p in $(cat $PORTS) 1; do
    iptables -A INPUT -p tcp --syn --dport $p -j ACCEPT
done
iptables -A INPUT -p tcp --syn -j DROP
"$SOCKIT" scan --timeout 300 127.0.0.1 1-2000,$(paste -sd, $PORTS)
""")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(open_ports_text(out)), 3)
        self.assertIn("1/tcp       closed", out)
        self.assertIn("# not shown: 1999 filtered", out)


@unittest.skipIf(hosts_ns_missing(), hosts_ns_missing())
class OtherAddresses(unittest.TestCase):
    """localhost with both loopback lines: scan probes one address, says
    which, and lists the others it did not scan, as nmap does."""

    def setUp(self):
        self.s = tcp(True)
        self.port = str(self.s.getsockname()[1])

    def tearDown(self):
        self.s.close()

    def test_text_names_the_others(self):
        rc, out, err = run_hosts(HOSTS_BOTH, "scan", "localhost", self.port)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "# other addresses for localhost (not "
                         "scanned): 127.0.0.1")
        self.assertTrue(lines[-1].startswith("# localhost (::1): 1 tcp ports"),
                        out)

    def test_json_names_the_others(self):
        rc, out, err = run_hosts(HOSTS_BOTH, "scan", "--json", "localhost",
                                 self.port)
        self.assertEqual(rc, 0, err)
        ports, summary = rows_of(out)
        self.assertEqual((summary["host"], summary["address"],
                          summary["other_addresses"]),
                         ("localhost", "::1", ["127.0.0.1"]))
        self.assertEqual(ports[int(self.port)]["address"], "::1")

    def test_one_family_has_no_others(self):
        rc, out, err = run_hosts(HOSTS_BOTH, "scan", "-4", "localhost",
                                 self.port)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("other addresses", out)
        self.assertIn("%s/tcp" % self.port, out)
        self.assertIn("1 open", out)

    def test_udp_too(self):
        rc, out, err = run_hosts(HOSTS_BOTH, "scan", "-u", "--json",
                                 "localhost", self.port)
        self.assertEqual(rc, 0, err)
        _, summary = rows_of(out)
        self.assertEqual(summary["other_addresses"], ["127.0.0.1"])


class BadInput(unittest.TestCase):
    def assert_usage(self, *args, needle=None):
        rc, out, err = run("scan", *args)
        self.assertEqual(rc, 2, args)
        self.assertEqual(out, "", args)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertTrue(err.startswith("sockit: scan: "), err)
        if needle:
            self.assertIn(needle, err)

    def test_bad_port_lists(self):
        for bad, why in (("65536", "out of range"), ("0", "out of range"),
                         ("80-20", "below its start"), ("22,,80", "empty item"),
                         ("", "empty item"), ("80,", "empty item"),
                         ("garbage", "unknown service name"),
                         ("8o", "not a port"), ("80--", "not a port"),
                         ("1-65536", "out of range")):
            self.assert_usage("127.0.0.1", bad, needle=why)

    def test_bad_options(self):
        self.assert_usage("--timeout", "0", "127.0.0.1", "80")
        self.assert_usage("--parallel", "0", "127.0.0.1", "80")
        self.assert_usage("--parallel", "65536", "127.0.0.1", "80")
        self.assert_usage("--rate", "10/m", "127.0.0.1", "80")
        self.assert_usage("--rate", "x", "127.0.0.1", "80")
        self.assert_usage("-4", "-6", "127.0.0.1", "80", needle="conflict")
        self.assert_usage("127.0.0.1", needle="HOST PORTS")
        self.assert_usage("127.0.0.1", "80", "81", needle="target '80'")
        self.assert_usage("--bogus", "127.0.0.1", "80", needle="--bogus")
        self.assert_usage("127.0.0.1", "80", "--timeout", needle="needs a value")
        self.assert_usage("[]:24", needle="no host before the ports")
        self.assert_usage(":24", needle="no host before the ports")


if __name__ == "__main__":
    unittest.main()
