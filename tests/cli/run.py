#!/usr/bin/env python3
"""tests/cli/run.py BUILD - run every tests/cli/test_*.py against the built
`sockit` binary; print "N passed, M failed, K skipped"; exit 1 on failure.

The modules run in CLI_JOBS (2) processes at once, largest first: most of
their time is spent waiting on peers and timeouts, not on a CPU. Each
module's output is printed whole when it ends, so reports do not mix.
CLI_JOBS=1 runs them one after another in this process."""
import concurrent.futures
import io
import multiprocessing
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
os.environ["SOCKIT_BUILD"] = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
sys.path.insert(0, here)


def run_module(name):
    """(tests run, failed, skipped, output) of one test module."""
    out = io.StringIO()
    suite = unittest.defaultTestLoader.loadTestsFromName(name)
    r = unittest.TextTestRunner(verbosity=1, stream=out).run(suite)
    failed = len(r.failures) + len(r.errors)
    return r.testsRun, failed, len(r.skipped), out.getvalue()


def main():
    names = sorted((f[:-3] for f in os.listdir(here)
                    if f.startswith("test_") and f.endswith(".py")),
                   key=lambda n: -os.path.getsize(os.path.join(here, n + ".py")))
    jobs = max(1, int(os.environ.get("CLI_JOBS", "2")))
    total = failed = skipped = 0
    if jobs == 1:
        results = map(run_module, names)
    else:
        pool = concurrent.futures.ProcessPoolExecutor(
            jobs, mp_context=multiprocessing.get_context("fork"))
        results = pool.map(run_module, names)
    for name, (n, f, s, text) in zip(names, results):
        sys.stdout.write("%s: %d tests, %d failed, %d skipped\n%s"
                         % (name, n, f, s, text if f else ""))
        sys.stdout.flush()
        total, failed, skipped = total + n, failed + f, skipped + s
    print("%d passed, %d failed, %d skipped" % (total - failed - skipped, failed, skipped))
    sys.exit(1 if failed or total == 0 else 0)


if __name__ == "__main__":
    main()
