"""Top-level test setup: a run killed from outside (the Makefile's whole-run
limit sends SIGTERM) first prints the stack of every thread."""
import faulthandler
import signal

faulthandler.register(signal.SIGTERM, all_threads=True, chain=True)
