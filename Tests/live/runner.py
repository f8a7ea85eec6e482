"""The runner the stdlib-only live suites share: runs every `test_*` function of a module in
name order, prints PASS/FAIL (with the traceback) per test and `N passed, M failed`, and
exits non-zero when one failed."""
import sys
import traceback


def run_tests(namespace):
    tests = [(n, f) for n, f in sorted(namespace.items()) if n.startswith("test_") and callable(f)]
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
            print(f"PASS {name}")
            passed += 1
        except Exception:
            print(f"FAIL {name}")
            traceback.print_exc()
            failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
