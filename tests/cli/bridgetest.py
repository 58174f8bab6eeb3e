"""bridgetest.py - what test_connect.py and test_listen.py share: python3
peers in the tutorials' style (one thread, one socket, port 0 read back),
starting `sockit listen` and reading back the port it prints, starting the
other netcats with a timeout on everything.

Only 127.0.0.1, ::1 and Unix sockets in temporary directories are used.
"""
import hashlib
import os
import re
import select
import socket
import subprocess
import threading

from clitest import SOCKIT

TIMEOUT = 10  # seconds, for every subprocess and socket: a sanity bound


def sha(data):
    return hashlib.sha256(data).hexdigest()


def recv_all(conn):
    """Everything the peer sends until it closes its side."""
    chunks = []
    while True:
        data = conn.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


class Server(threading.Thread):
    """A one-connection TCP (or Unix) server: handler(conn) runs in the
    thread; its return value lands in .result, an exception in .error."""

    def __init__(self, handler, family=socket.AF_INET, address=None):
        super().__init__(daemon=True)
        self.handler = handler
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if family != socket.AF_UNIX:
            address = address or ("127.0.0.1" if family == socket.AF_INET else "::1", 0)
        self.sock.bind(address)
        self.sock.listen(1)
        self.sock.settimeout(TIMEOUT)
        self.port = self.sock.getsockname()[1] if family != socket.AF_UNIX else None
        self.result = self.error = self.peer = None
        self.start()

    def run(self):
        try:
            conn, self.peer = self.sock.accept()
            with conn:
                conn.settimeout(TIMEOUT)
                self.result = self.handler(conn)
        except Exception as e:  # reported by finish()
            self.error = e
        finally:
            self.sock.close()

    def finish(self):
        self.join(TIMEOUT)
        if self.error is not None:
            raise self.error
        return self.result


class UdpServer(threading.Thread):
    """A UDP socket on loopback answering each datagram with reply(data)
    (None: stay silent) until stop()."""

    def __init__(self, reply, host="127.0.0.1"):
        super().__init__(daemon=True)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.got = []
        self.running = True
        self.start()

    def run(self):
        while self.running:
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            self.got.append(data)
            answer = self.reply(data)
            if answer is not None:
                self.sock.sendto(answer, addr)

    def stop(self):
        self.running = False
        self.join(TIMEOUT)
        self.sock.close()


def sockit(*args, input=b"", timeout=TIMEOUT, stdin=None):
    """Run sockit to the end; (exit code, stdout bytes, stderr text)."""
    kw = {"input": input} if stdin is None else {"stdin": stdin}
    p = subprocess.run([SOCKIT, *args], capture_output=True, timeout=timeout, **kw)
    return p.returncode, p.stdout, p.stderr.decode()


def read_line(pipe, timeout=TIMEOUT):
    """One line from a pipe, or "" when none came in time."""
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([pipe], [], [], timeout)
        if not ready:
            break
        c = os.read(pipe.fileno(), 1)
        if not c:
            break
        line += c
    return line.decode()


class Listener:
    """`sockit listen ARGS` in the background, with the address it prints
    ("sockit: listen: listening on ADDR") read back: .port, .addr."""

    def __init__(self, *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE):
        self.p = subprocess.Popen([SOCKIT, "listen", *args], stdin=stdin,
                                  stdout=stdout, stderr=subprocess.PIPE)
        self.first = read_line(self.p.stderr)
        m = re.match(r"^sockit: listen: listening on (\S+)\n$", self.first)
        if m is None:
            self.p.kill()
            self.p.wait(TIMEOUT)
            raise AssertionError("no listening line: %r" % self.first)
        self.addr = m.group(1)
        port = re.search(r":(\d+)$", self.addr)
        self.port = int(port.group(1)) if port else None

    def finish(self, timeout=TIMEOUT, terminate=False):
        """Wait for exit (SIGTERM first when terminate); (code, out, err)."""
        if terminate:
            self.p.terminate()
        if self.p.stdin is not None and self.p.stdin.closed:
            self.p.stdin = None  # the test ended stdin itself
        out, err = self.p.communicate(timeout=timeout)
        return self.p.returncode, out, self.first + err.decode()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.communicate(timeout=TIMEOUT)


def tool(*cmd, input=b"", timeout=TIMEOUT):
    """Run another netcat (nc, ncat, socat) to the end."""
    p = subprocess.run(list(cmd), input=input, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode()


def free_port():
    """A port the kernel just handed out (read back, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
