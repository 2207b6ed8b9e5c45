"""Break each reliability guarantee once, in a scratch clone of this
repository, and check that the test behind it fails. A test that still
passes with its guarantee broken checks nothing.

    .venv/bin/python scripts/break_guarantees.py [N ...]

Prints one line per break: FAILS as it should, STILL PASSES, or
PATCH-NOT-FOUND (the code moved: update the break here). Takes about
8 minutes for all of them."""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable
SCR = os.path.join(tempfile.mkdtemp(prefix="leakrig-breaks-"), "repo")
BREAKS = [
 ("fuzz: unknown command crashes the loop", "firmware/leakrig_fw/app.py",
  '            self.error("unknown_command", name[:32], req_id)\n            return',
  '            raise RuntimeError("unknown")',
  ["hil_tests/test_fuzz_commands.py"]),
 ("link: CRC not checked", "firmware/leakrig_fw/frame.py",
  '    if checksum(body) != want:\n        raise FrameError("CRC mismatch")', '    pass',
  ["host/tests/test_frame.py", "host/tests/test_link.py"]),
 ("link fast path: CRC not checked", "host/leakrig/frames.py",
  'if unpack(">%dI" % n, unhexlify(b"".join(columns[layout.crc_group]))) != tuple(map(crc32, bodies)):',
  'if False:',
  ["host/tests/test_fastpath.py"]),
 ("gap backfill: logger never asks for a resend", "host/leakrig/logger.py",
  'self.link.send_line("resend %d %d" % (first, count))', 'pass',
  ["hil_tests/test_logging_faults.py::test_unplug_is_reconnected_and_gap_backfilled"]),
 ("config: saved in place, no temp file or backup", "firmware/leakrig_fw/config.py",
  '    with open(TEMP, "w") as f:\n        f.write(data)',
  '    with open(FILE, "w") as f:\n        f.write(data[:len(data)//2])\n        f.flush()\n        f.write(data[len(data)//2:])\n    return\n    with open(TEMP, "w") as f:\n        f.write(data)',
  ["host/tests/test_config_kills.py"]),
 ("crash: not recorded", "firmware/leakrig_fw/main.py",
  '        with open(CRASH_FILE, "w") as f:\n            sys.print_exception(exc, f)', '        pass',
  ["hil_tests/test_reliability.py::test_crash_is_recorded_and_reported_after_restart"]),
 ("watchdog: never started", "firmware/leakrig_fw/board.py",
  '            self.wdt = machine.WDT(timeout=ms)', '            pass',
  ["hil_tests/test_reliability.py::test_watchdog_resets_a_hung_loop"]),
 ("boot loop: never detected", "firmware/leakrig_fw/main.py",
  'MAX_UNSETTLED_BOOTS = 5', 'MAX_UNSETTLED_BOOTS = 500',
  ["hil_tests/test_reliability.py::test_boot_loop_stops_autostart"]),
 ("safe mode: pin ignored", "firmware/leakrig_fw/board.py",
  '        pin = self.definition.get("safe_mode_pin")\n        if pin is None:',
  '        pin = None\n        if pin is None:',
  ["hil_tests/test_reliability.py::test_safe_mode_pin_skips_autostart"]),
 ("store: commits only every 30 s", "host/leakrig/store.py",
  'commit_interval_s=0.5', 'commit_interval_s=30.0',
  ["host/tests/test_logger_kill.py"]),
 ("logger restart: no resume", "host/leakrig/logger.py",
  '        if resend:\n            self._resume()', '        pass',
  ["hil_tests/test_logging_faults.py::test_logger_killed_leaves_clean_store"]),
 ("fault semantics: a stuck or out-of-range sample is not a fault", "firmware/leakrig_fw/detector.py",
  '        if bad:\n            self._good = 0', '        if bad and quality:\n            self._good = 0',
  ["host/tests/test_detector.py::test_bad_data_is_a_sensor_fault_never_a_leak"]),
 ("fault semantics: decay test ignores faults", "firmware/leakrig_fw/detector.py",
  '        if ev == "sensor_fault" or self._guard._fault:', '        if False:',
  ["host/tests/test_detector.py::test_decay_test_pass_fail_inconclusive"]),
 ("console: control bytes kept in command lines", "firmware/leakrig_fw/app.py",
  '            elif b < 32 and b != 9:\n                pass', '            elif False:\n                pass',
  ["firmware/tests/test_app.py"]),
]
subprocess.run(["git", "clone", "-q", ROOT, SCR], check=True)
only = sys.argv[1:]
env = dict(os.environ, PYTHONPATH=SCR + "/host")
for i, (name, path, old, new, tests) in enumerate(BREAKS):
    if only and str(i) not in only:
        continue
    subprocess.run(["git", "-C", SCR, "checkout", "-q", "--", "."], check=True)
    fp = os.path.join(SCR, path)
    s = open(fp).read()
    if old not in s:
        print("%2d %-60s PATCH-NOT-FOUND" % (i, name), flush=True)
        continue
    open(fp, "w").write(s.replace(old, new, 1))
    t0 = time.time()
    try:
        r = subprocess.run([PY, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"] + tests,
                           cwd=SCR, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        print("%2d %-60s TIMED OUT (600 s): counts as not passing" % (i, name), flush=True)
        continue
    tail = [l for l in r.stdout.splitlines() if l.startswith(("FAILED", "ERROR"))][:1]
    summ = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    print("%2d %-60s %s (%.0f s) %s | %s" % (i, name, "FAILS as it should" if r.returncode else "STILL PASSES",
          time.time() - t0, summ, tail[0][:150] if tail else ""), flush=True)
subprocess.run(["git", "-C", SCR, "checkout", "-q", "--", "."], check=True)
