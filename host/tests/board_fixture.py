"""A deployed virtual board for the host tool's tests. The rig behind it is
the `sim` board's; while the simulated sensors are still missing (no chip
emulator or no firmware driver for a part) the board is deployed without
sensors, so its samples carry only t and q, and tests that need values skip."""
import json
import time

import pytest

from leakrig.deploy import deploy
from leakrig.link import BoardLink


def _answers(port, timeout=6.0):
    """True once the firmware answers a ping; False at once when it says it
    cannot build the board (a part without a driver) or fails to start, or
    after timeout. What the board said last is kept in _last_words."""
    from leakrig.link import FrameReader, open_port

    reader = FrameReader()
    seen = b""
    deadline = time.monotonic() + timeout
    with open_port(port, timeout=0.3) as ser:
        while time.monotonic() < deadline:
            ser.write(b"ping\n")
            data = ser.read(4096)
            seen = (seen + data)[-4096:]
            if any(f.kind == "R" for f in reader.feed(data)):
                return True
            if b"cannot build the board" in seen or b"Error" in seen:
                time.sleep(0.3)
                seen += ser.read(4096)
                _last_words[:] = [ln for ln in seen.decode(errors="replace").splitlines()
                                  if "Error" in ln or "cannot build" in ln][:1]
                return False
    return False


_last_words = []


def _firmware_has_drivers():
    """False when the firmware has no driver for one of the sim board's parts
    (saves deploying a board that cannot start)."""
    from leakrig import boards
    try:
        from leakrig_fw import sensors
        known = set(sensors._MAKERS)
    except Exception:
        return True  # cannot tell from here: try it on the board
    return all(s["part"] in known for s in boards.load("sim")["sensors"].values())


def start_board(mpy=False):
    """(virtual board, has_sensors). The caller stops it."""
    from leakrig.sim.rig import build_virtual_board
    from leakrig.sim.vboard import VirtualBoard

    try:
        vb = build_virtual_board("sim", None)
        has_sensors = _firmware_has_drivers()
    except ValueError:
        vb = VirtualBoard()
        has_sensors = False
    vb.start()
    try:
        if has_sensors:
            deploy(vb.port, "sim", config={"rate_hz": 10}, progress=lambda s: None, mpy=mpy)
            if _answers(vb.port):
                return vb, True
        _deploy_without_sensors(vb, mpy)
        if not _answers(vb.port, timeout=10.0):
            pytest.skip("the firmware does not start on the virtual board: %s"
                        % (_last_words[0].strip() if _last_words else "no answer to ping"))
        return vb, False
    except BaseException:
        vb.stop()
        raise


def _deploy_without_sensors(vb, mpy):
    from leakrig import deploy as deploy_mod

    real_stage = deploy_mod.stage

    def stage_without_sensors(board_name, config=None, dest=None, mpy=False):
        staged = real_stage(board_name, config, dest, mpy=mpy)
        definition = json.loads((staged / "board.json").read_text())
        definition["sensors"] = {}
        (staged / "board.json").write_text(json.dumps(definition))
        return staged

    deploy_mod.stage = stage_without_sensors
    try:
        deploy_mod.deploy(vb.port, "sim", config={"rate_hz": 10}, progress=lambda s: None, mpy=mpy)
    finally:
        deploy_mod.stage = real_stage


@pytest.fixture(scope="module")
def board():
    vb, has_sensors = start_board()
    vb.has_sensors = has_sensors
    yield vb
    vb.stop()


def wait_for_samples(port, n=3, timeout=10.0):
    """The first n sample frames the board sends (it samples after boot)."""
    got = []
    deadline = time.monotonic() + timeout
    with BoardLink(port) as link:
        while len(got) < n and time.monotonic() < deadline:
            got += [f for f in link.read_frames() if f.kind == "S"]
    return got
