# Start-up: safe mode, boot-loop guard, crash record, then the app's loop.
# An exception escaping the loop is written to crash.txt and the board
# resets; the next boot reports it as an event. Autostart stops after several
# boots in a row that crash before the loop settles, or after several crashes
# in a row however long each boot ran, so a bad config or firmware cannot
# keep a board resetting for ever; the board stays at its command loop.
import sys

from . import board as board_mod
from .app import App

CRASH_FILE = "crash.txt"
BOOTS_FILE = "boots.txt"
CRASHES_FILE = "crashes.txt"  # boots in a row that ended in a crash
MAX_UNSETTLED_BOOTS = 5
MAX_CRASHES_IN_A_ROW = 5
SETTLED_CYCLES = 50  # a boot counts as good after this many loop cycles


def _read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or "0")
    except (OSError, ValueError):
        return 0


def _write(path, text):
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError:
        pass


def last_crash():
    """The last line of the crash record left by the previous boot, or None;
    the record is kept as crash.old so it is reported once."""
    try:
        with open(CRASH_FILE) as f:
            lines = [ln.strip() for ln in f.read().split("\n") if ln.strip()]
    except OSError:
        return None
    import os
    try:
        os.rename(CRASH_FILE, "crash.old")
    except OSError:
        pass
    return lines[-1][:120] if lines else "unknown"


def record_crash(exc):
    try:
        with open(CRASH_FILE, "w") as f:
            sys.print_exception(exc, f)
    except OSError:
        pass


def run():
    try:
        board = board_mod.load()
    except (ValueError, OSError, KeyError, TypeError) as exc:
        print("leakrig: cannot build the board from board.json:", exc)
        return
    if board.safe_mode():
        print("leakrig: safe-mode pin held low: firmware not started")
        return
    unsettled = _read_int(BOOTS_FILE) + 1
    _write(BOOTS_FILE, str(unsettled))
    app = App(board)
    crash = last_crash()
    # A boot that ended without a crash (a reset, a power cycle) ends a run
    # of crashes.
    crashes = _read_int(CRASHES_FILE) + 1 if crash else 0
    _write(CRASHES_FILE, str(crashes))
    app.crashes_in_a_row = crashes
    boot_loop = unsettled > MAX_UNSETTLED_BOOTS or crashes > MAX_CRASHES_IN_A_ROW
    if boot_loop:
        app.running = False
    app.on_settled = (SETTLED_CYCLES, lambda: _write(BOOTS_FILE, "0"))
    app.boot_events = []
    if crash:
        app.boot_events.append(("crash", [("msg", crash)]))
    if boot_loop:
        app.boot_events.append(("boot_loop", [("boots", unsettled), ("crashes", crashes)]))
    else:
        board.start_watchdog()
    try:
        app.run()
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        record_crash(exc)
        sys.print_exception(exc)
        board.reset()
