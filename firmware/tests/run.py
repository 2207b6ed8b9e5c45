# Runs the test_* functions of one firmware test module on the MicroPython VM
# and prints one line per test: "PASS name" or "FAIL name" followed by the
# traceback, then "END". The pytest side (conftest.py) reads this.
import sys


def main(module_name):
    module = __import__(module_name)
    names = sorted(n for n in dir(module) if n.startswith("test_"))
    for name in names:
        try:
            getattr(module, name)()
        except Exception as exc:
            print("FAIL", name)
            sys.print_exception(exc)
            print("FAIL-END")
        else:
            print("PASS", name)
    print("END")
