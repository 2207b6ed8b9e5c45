"""Top-level test setup: a run killed from outside (the Makefile's whole-run
limit sends SIGTERM) first prints the stack of every thread; and boards get
a minute to answer a command (virtual boards on a busy machine are slow to
answer; a test that expects no answer says how long it waits)."""
import faulthandler
import os
import signal

faulthandler.register(signal.SIGTERM, all_threads=True, chain=True)
os.environ.setdefault("LEAKRIG_ANSWER_TIMEOUT", "60")
