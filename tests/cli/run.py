#!/usr/bin/env python3
"""tests/cli/run.py BUILD - run every tests/cli/test_*.py against the built
`sockit` binary; print "N passed, M failed, K skipped"; exit 1 on failure."""
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
os.environ["SOCKIT_BUILD"] = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
sys.path.insert(0, here)

suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py")
r = unittest.TextTestRunner(verbosity=1, stream=sys.stdout).run(suite)
failed = len(r.failures) + len(r.errors)
skipped = len(r.skipped)
print("%d passed, %d failed, %d skipped" % (r.testsRun - failed - skipped, failed, skipped))
sys.exit(1 if failed or r.testsRun == 0 else 0)
