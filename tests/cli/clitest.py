"""clitest.py - what the command-line tests share: where the binary is,
how to run it, how to start peers. Imported by every tests/cli/test_*.py.

Name lookups are limited to localhost and numeric addresses; a lookup meant
to fail runs inside a fresh network namespace (`unshare -n`), where no
resolver can be reached.
"""
import os
import subprocess

BUILD = os.environ.get("SOCKIT_BUILD", "build")
SOCKIT = os.path.join(BUILD, "sockit")
ROOT = os.geteuid() == 0


def run(*args, netns=False, timeout=10, input=None):
    """Run sockit with args; return (exit code, stdout, stderr) as text."""
    cmd = [SOCKIT, *args]
    if netns:
        cmd = ["unshare", "-n", *cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       input=input)
    return p.returncode, p.stdout, p.stderr


# Both loopback lines, as Debian's and Fedora's hosts files have them.
HOSTS_BOTH = "127.0.0.1 localhost\n::1 localhost\n"


def hosts_ns_missing():
    """Why run(hosts=...) cannot work here, or None when it can."""
    if not ROOT:
        return "needs root for a mount namespace"
    # glibc asks nscd before reading the files, and nscd lives outside.
    if os.path.exists("/run/nscd/socket") or os.path.exists("/var/run/nscd/socket"):
        return "nscd would resolve outside the namespace"
    p = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return None if p.returncode == 0 else "unshare -m: %s" % p.stderr.decode()


def run_hosts(hosts, *args, timeout=10):
    """sockit ARGS in a mount namespace of its own whose /etc/hosts holds
    hosts and whose nsswitch.conf says "files" only: no lookup leaves the
    machine, and the real files are never touched. The network is the
    host's, so the caller's loopback listeners are reachable."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        h, n = os.path.join(d, "hosts"), os.path.join(d, "nsswitch.conf")
        with open(h, "w") as f:
            f.write(hosts)
        with open(n, "w") as f:
            f.write("hosts: files\nservices: files\n")
        script = ('mount --make-rprivate / && mount --bind "$0" /etc/hosts && '
                  'mount --bind "$1" /etc/nsswitch.conf && shift && '
                  'exec "$@"')
        p = subprocess.run(["unshare", "-m", "sh", "-c", script, h, n,
                            SOCKIT, *args], capture_output=True, text=True,
                           timeout=timeout)
    return p.returncode, p.stdout, p.stderr
