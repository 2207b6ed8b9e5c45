# Start-up: safe mode, crash record, then the app's loop.
import sys

from . import board as board_mod
from .app import App

CRASH_FILE = "crash.txt"


def run():
    board = board_mod.load()
    if board.safe_mode():
        print("leakrig: safe-mode pin held: not starting")
        return
    app = App(board)
    board.start_watchdog()
    app.run()
