"""A deployed virtual board for the host tool's tests: the `sim` board on the
nominal scenario, firmware compiled with mpy-cross and deployed with mpremote
as on a real board."""
import time

import pytest

from leakrig.deploy import deploy
from leakrig.link import BoardLink


def _answers(port, timeout=60.0):
    """True once the firmware answers a ping."""
    with BoardLink(port) as link:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if link.command("ping", timeout=1.0).kind == "R":
                    return True
            except Exception:
                continue
    return False


def start_board(mpy=True):
    """A started, deployed virtual board. The caller stops it."""
    from leakrig.sim.rig import build_virtual_board

    vb = build_virtual_board("sim", "nominal")
    vb.start()
    try:
        deploy(vb.port, "sim", config={"rate_hz": 10}, progress=lambda s: None, mpy=mpy)
        assert _answers(vb.port), "the firmware does not answer on the virtual board"
        vb.has_sensors = True
        return vb
    except BaseException:
        vb.stop()
        raise


@pytest.fixture(scope="module")
def board():
    vb = start_board()
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
