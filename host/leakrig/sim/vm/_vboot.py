# Power-on sequence of the virtual board: run boot.py then main.py from the
# flash folder (the working directory), as a MicroPython board does, and
# leave the REPL to the VM afterwards.
import sys


def _run(name):
    try:
        with open(name) as f:
            source = f.read()
    except OSError:
        return True
    try:
        exec(source, {"__name__": "__main__", "__file__": name})
    except KeyboardInterrupt as exc:
        sys.print_exception(exc)
        return False
    except SystemExit:
        raise
    except BaseException as exc:
        sys.print_exception(exc)
    return True


if _run("boot.py"):
    _run("main.py")
