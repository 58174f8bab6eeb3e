"""servetest.py - what the `sockit serve` tests share: starting the server
on 127.0.0.1:0 and reading back the ports it prints, its log collected
line by line, python3 clients in the tutorials' style, and /proc readings
of the server's CPU time and memory. Every wait has a timeout."""
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

from bridgetest import TIMEOUT, recv_all
from clitest import BUILD, SOCKIT

EXAMPLES = os.path.join(BUILD, "examples")
EPOCH_1900 = 2208988800
SERVICES = ["echo", "discard", "chargen", "qotd", "daytime", "time",
            "upper", "chat", "hello", "http", "socks5"]
LISTEN_RE = re.compile(r'^sockit: serve: \w+ listening on \S+:(\d+)/(tcp|udp)$'
                       r'|"type":"listening".*"port":(\d+),"transport":"(tcp|udp)"')


def raise_fd_limit():
    """Many clients in this process, and the servers inherit the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Serve:
    """`sockit serve ARGS --listen 127.0.0.1:0` in the background. Its
    stderr is collected line by line in a thread; .tcp and .udp are the
    ports it printed."""

    def __init__(self, *args, listen="127.0.0.1:0", fd_limit=None, env=None,
                 stdout=subprocess.DEVNULL, want=None, hosts=None):
        cmd = [SOCKIT, "serve", *args]
        if listen:
            cmd += ["--listen", listen]
        self.tmp = None
        if hosts is not None:  # see clitest.run_hosts; hosts_ns_missing()
            self.tmp = tempfile.TemporaryDirectory()
            h = os.path.join(self.tmp.name, "hosts")
            n = os.path.join(self.tmp.name, "nsswitch.conf")
            with open(h, "w") as f:
                f.write(hosts)
            with open(n, "w") as f:
                f.write("hosts: files\nservices: files\n")
            script = ('mount --make-rprivate / && mount --bind "$0" /etc/hosts'
                      ' && mount --bind "$1" /etc/nsswitch.conf && shift && '
                      'exec "$@"')
            cmd = ["unshare", "-m", "sh", "-c", script, h, n, *cmd]
        pre = None
        if fd_limit:
            def pre():
                resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                  stdout=stdout,
                                  stderr=subprocess.PIPE, preexec_fn=pre,
                                  env=dict(os.environ, **(env or {})))
        self.lines = []
        self.cond = threading.Condition()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        self.tcp = self.udp = None
        udp = "--udp" in args or "-u" in args
        if want is None:  # IP listening lines to read ports from
            want = (1 if not udp or "--tcp" in args else 0) + (1 if udp else 0)
        for i in range(want):
            line = self.wait_for(LISTEN_RE, start=i)
            m = LISTEN_RE.search(line)
            port, transport = m.group(1, 2) if m.group(1) else m.group(3, 4)
            setattr(self, transport, int(port))
        self.port = self.tcp or self.udp

    def _pump(self):
        for raw in self.p.stderr:
            with self.cond:
                self.lines.append(raw.decode().rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # the end
            self.cond.notify_all()

    def wait_for(self, pattern, timeout=TIMEOUT, start=0):
        """The first line from index start on that matches pattern."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    if line is None:
                        raise AssertionError("server ended without %r: %s"
                                             % (rx.pattern, self.text()))
                    if rx.search(line):
                        return line
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no line matching %r in %ss: %s"
                                         % (rx.pattern, timeout, self.text()))
                self.cond.wait(left)

    def text(self):
        return "\n".join(l for l in self.lines if l is not None)

    def kill(self, sig):
        self.p.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=TIMEOUT):
        """Signal, wait; (exit code, all of stderr)."""
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(TIMEOUT)
            raise
        with self.cond:  # every line read
            self.cond.wait_for(lambda: self.lines and self.lines[-1] is None,
                               TIMEOUT)
        return rc, self.text()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(TIMEOUT)
        self.pump.join(TIMEOUT)
        self.p.stderr.close()
        if getattr(self, "tmp", None) is not None:  # subclasses may not set it
            self.tmp.cleanup()


def connect(port, family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect((host, port))
    return s


def ask(port, data=b""):
    """Connect, send data, half-close, read to the end."""
    with connect(port) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return recv_all(s)


def recv_until(s, marker):
    data = b""
    while marker not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def udp_ask(port, data=b""):
    """The tutorials' UDP client: sendto, recvfrom."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(data, ("127.0.0.1", port))
        reply, addr = s.recvfrom(65536)
        return reply


def reset(s):
    """Close with a reset (RST) instead of a FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def proc_stat(pid):
    """(CPU seconds used, resident KiB) of pid."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    with open("/proc/%d/status" % pid) as f:
        rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return ticks / os.sysconf("SC_CLK_TCK"), rss


def chargen_line(i):
    return bytes(32 + (i + j) % 95 for j in range(72)) + b"\r\n"


class LineCounter(threading.Thread):
    """Reads a socket in the background, counting lines."""

    def __init__(self, s):
        super().__init__(daemon=True)
        self.s, self.chunks, self.lines = s, [], 0
        self.cond = threading.Condition()
        self.start()

    def run(self):
        while True:
            try:
                chunk = self.s.recv(1 << 16)
            except OSError:
                chunk = b""
            with self.cond:
                self.chunks.append(chunk)
                self.lines += chunk.count(b"\n")
                self.cond.notify_all()
            if not chunk:
                return

    def wait_for(self, lines):
        with self.cond:
            ok = self.cond.wait_for(lambda: self.lines >= lines or
                                    (self.chunks and not self.chunks[-1]), TIMEOUT)
        assert ok and self.lines >= lines, "%d lines of %d" % (self.lines, lines)

    def until(self, marker):
        with self.cond:
            self.cond.wait_for(lambda: marker in b"".join(self.chunks[-3:]) or
                               (self.chunks and not self.chunks[-1]), TIMEOUT)
            return b"".join(self.chunks)
