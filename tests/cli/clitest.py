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
