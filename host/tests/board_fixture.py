"""A deployed virtual board for the host tool's tests. The rig behind it is
the `sim` board's; while the simulated sensors are still missing (no chip
emulator or no firmware driver for a part) the board is deployed without
sensors, so its samples carry only t and q, and tests that need values skip."""
import json
import time

import pytest

from leakrig.deploy import deploy
from leakrig.errors import LinkError
from leakrig.link import BoardLink


def _answers(port, timeout=4.0):
    try:
        with BoardLink(port) as link:
            return link.command("ping", timeout=timeout).kind == "R"
    except LinkError:
        return False


def start_board(mpy=False):
    """(virtual board, has_sensors). The caller stops it."""
    from leakrig.sim.rig import build_virtual_board
    from leakrig.sim.vboard import VirtualBoard

    try:
        vb = build_virtual_board("sim", None)
        has_sensors = True
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
        if not _answers(vb.port, timeout=8.0):
            raise RuntimeError("the virtual board does not answer after deploy")
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
