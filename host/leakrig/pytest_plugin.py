"""pytest plugin for HIL tests: the same tests run against a virtual board
(default) or a real board on a port (--port). Fixtures: `dut` (the board),
`rig` (the simulator's controls, or skips on real hardware) and `record`
(measurements with units and limits). Each run leaves JUnit properties, a
JSON record and a summary table."""
import json
import os
import platform
import time
from pathlib import Path

import pytest

from .hil import DUT, RealRig, RigUnavailable, SimRig, firmware_hash

_MEASUREMENT = "leakrig_measurement"


def pytest_addoption(parser):
    group = parser.getgroup("leakrig", "leakrig hardware-in-the-loop")
    group.addoption("--port", default=None,
                    help="test the board on this port or pyserial URL instead of a virtual board")
    group.addoption("--board", default="sim", help="board definition to deploy (default: sim)")
    group.addoption("--scenario-dir", default=None, help="extra folder to look up scenario files in")
    group.addoption("--scenario", default="nominal",
                    help="scenario the virtual rig starts in and returns to after each test "
                         "(default: nominal; 'none': a loop at rest, no physics)")
    group.addoption("--sim-speed", default="lockstep",
                    help="virtual board time: lockstep (default), realtime, or a real-time factor")
    group.addoption("--leakrig-record", default=None, metavar="DIR",
                    help="write a JSON test record of the run into DIR")
    group.addoption("--recordings", default=None, metavar="DIR",
                    help="replay each logged run in DIR through the virtual board and compare its "
                         "events (hil_tests/test_recordings.py; default: hil_tests/recordings)")
    group.addoption("--no-deploy", action="store_true",
                    help="use the firmware already on the board (with --port)")


def pytest_configure(config):
    config.addinivalue_line("markers", "sweep: long detector scoring sweep (run with `make hil-sweep`)")
    config.addinivalue_line("markers", "needs_rig(control): the test needs this rig control")
    config._leakrig_results = []
    if config.getoption("--scenario-dir"):
        os.environ["LEAKRIG_SCENARIO_PATH"] = config.getoption("--scenario-dir")


# -- fixtures ----------------------------------------------------------------

@pytest.fixture(scope="session")
def _board_session(request):
    """One board per session (per xdist worker): deployed once."""
    from .deploy import deploy
    cfg = request.config
    port = cfg.getoption("--port")
    board = cfg.getoption("--board")
    if port:
        if not cfg.getoption("--no-deploy"):
            deploy(port, board, progress=lambda s: None)
        yield {"port": port, "board": board, "virtual": None}
        return
    from .commands.sim import parse_speed
    from .sim.rig import build_virtual_board
    lockstep, speed = parse_speed(cfg.getoption("--sim-speed"))
    vb = build_virtual_board(board, cfg.getoption("--scenario"), lockstep=lockstep, speed=speed)
    vb.start()
    try:
        deploy(vb.port, board, config={"rate_hz": 10.0}, progress=lambda s: None)
        # The deploy ends with a reset, which the board may act on after the
        # deploy returned: what a test sends meanwhile goes to the old boot
        # and is lost (as bytes sent to a real board while it resets). The
        # first test starts once the new boot samples.
        first = DUT(vb.port, board, vb)
        try:
            first.samples(1, timeout=180.0)
        finally:
            first.close()
        vb._rig_loaded = (cfg.getoption("--scenario"), None)
        yield {"port": vb.port, "board": board, "virtual": vb}
    finally:
        vb.stop()


@pytest.fixture
def dut(_board_session, request):
    d = DUT(_board_session["port"], _board_session["board"], _board_session["virtual"])
    request.node.user_properties.append(("leakrig_board", d.board))
    try:
        yield d
    finally:
        d.restore()
        d.close()


@pytest.fixture
def rig(_board_session, request):
    vb = _board_session["virtual"]
    if vb is None:
        r = RealRig()
    else:
        r = SimRig(vb)
        r._loaded = getattr(vb, "_rig_loaded", None)
        r.ensure_scenario(request.config.getoption("--scenario"))
    try:
        yield r
    finally:
        if vb is not None:
            vb.replug()
            r.ensure_scenario(request.config.getoption("--scenario"))
            vb._rig_loaded = r._loaded


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    outcome = yield
    exc = outcome.excinfo
    if exc is not None and issubclass(exc[0], RigUnavailable):
        outcome.force_exception(pytest.skip.Exception(str(exc[1]), _use_item_location=True))


class Recorder:
    """record(name, value, unit, low=None, high=None, marginal=0.0): a
    measurement with limits; outside them the test fails, inside but within
    `marginal` (a fraction of the span) of a limit it is MARGINAL."""

    def __init__(self, node):
        self.node = node
        self.measurements = []

    def __call__(self, name, value, unit="", low=None, high=None, marginal=0.0):
        verdict = "PASS"
        if value is None or (low is not None and value < low) or (high is not None and value > high):
            verdict = "FAIL"
        elif marginal and low is not None and high is not None:
            band = marginal * (high - low)
            if value < low + band or value > high - band:
                verdict = "MARGINAL"
        m = {"name": name, "value": value, "unit": unit, "low": low, "high": high, "verdict": verdict}
        self.measurements.append(m)
        self.node.user_properties.append((_MEASUREMENT, json.dumps(m)))
        self.node.user_properties.append((name, _describe(m)))
        assert verdict != "FAIL", "measurement %s = %s %s outside [%s, %s]" % (name, value, unit, low, high)
        return verdict


def _describe(m):
    lim = "[%s, %s]" % ("" if m["low"] is None else m["low"], "" if m["high"] is None else m["high"])
    return "%s %s %s %s" % (m["value"], m["unit"], lim, m["verdict"])


@pytest.fixture
def record(request):
    return Recorder(request.node)


# -- reporting ---------------------------------------------------------------

def pytest_runtest_logreport(report):
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    config = _CONFIG[0] if _CONFIG else None
    if config is None:
        return
    measurements = [json.loads(v) for k, v in report.user_properties if k == _MEASUREMENT]
    config._leakrig_results.append({
        "test": report.nodeid, "outcome": report.outcome, "duration_s": round(report.duration, 3),
        "measurements": measurements})


_CONFIG = []


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    _CONFIG[:] = [session.config]


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):
        return  # xdist worker: the controller writes the record
    out = config.getoption("--leakrig-record")
    results = config._leakrig_results
    if not out or not results:
        return
    record = {
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": platform.node(),
        "firmware_hash": firmware_hash(),
        "board": config.getoption("--board"),
        "port": config.getoption("--port") or "virtual",
        "sim_speed": None if config.getoption("--port") else config.getoption("--sim-speed"),
        "scenario_dir": config.getoption("--scenario-dir"),
        "config": {"rate_hz": 10.0},
        "exit_status": int(exitstatus),
        "tests": results,
    }
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    path = d / ("hil-record-%s.json" % time.strftime("%Y%m%dT%H%M%S", time.gmtime()))
    path.write_text(json.dumps(record, indent=1))
    config._leakrig_record_path = str(path)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = [(r["test"].split("::")[-1], m) for r in config._leakrig_results for m in r["measurements"]]
    if not rows:
        return
    tr = terminalreporter
    tr.section("leakrig measurements")
    width = max(len(t) + len(m["name"]) for t, m in rows) + 3
    for test, m in rows:
        value = m["value"]
        text = ("%.4g" % value) if isinstance(value, float) else str(value)
        lim = "[%s, %s]" % ("-inf" if m["low"] is None else "%g" % m["low"],
                             "inf" if m["high"] is None else "%g" % m["high"])
        tr.write_line("%-*s %12s %-8s %-22s %s" % (width, test + " " + m["name"], text, m["unit"], lim, m["verdict"]))
    path = getattr(config, "_leakrig_record_path", None)
    if path:
        tr.write_line("record: %s" % path)
