# SPDX-License-Identifier: MIT
"""Runs the integration tests (test_*.py here) against HUDDLE_BIN and prints one summary line.
Usage: /usr/bin/python3 tests/integration/run.py [-k PATTERN] [test_module[.Class[.method]] ...]"""

import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-k", dest="patterns", action="append", default=[], help="only tests matching")
    ap.add_argument("names", nargs="*", help="test names (module, module.Class, module.Class.test)")
    opts = ap.parse_args()

    import harness  # noqa: E402 (after sys.path)

    print("integration: binary %s" % harness.BIN, flush=True)
    loader = unittest.TestLoader()
    if opts.patterns:
        loader.testNamePatterns = ["*%s*" % p for p in opts.patterns]
    if opts.names:
        suite = loader.loadTestsFromNames(opts.names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    t0 = time.monotonic()
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    # a test with failing subtests appears once per failed subtest: count tests, not reports
    failed_tests = {id(getattr(t, "test_case", t)) for t, _ in result.failures + result.errors}
    failed_tests |= {id(t) for t in result.unexpectedSuccesses}
    bad = len(failed_tests)
    # a failing setUpClass (say, a server that cannot start) is reported by an _ErrorHolder, which
    # testsRun does not count: count each as a test that ran and failed
    holders = sum(1 for t, _ in result.errors if not isinstance(t, unittest.TestCase))
    ran = result.testsRun + holders
    print(
        "integration tests: %d passed, %d failed, %d skipped (%.1f s)"
        % (ran - bad - len(result.skipped), bad, len(result.skipped), time.monotonic() - t0)
    )
    return 0 if bad == 0 and ran > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
