"""Shared fixture of the HIL tests: a module whose tests booted the board into
scenarios leaves it booted fresh into the session's scenario."""
import pytest

import board_control


@pytest.fixture(scope="module", autouse=True)
def _fresh_board_after_scenarios(request):
    """After a module whose tests booted the board into scenarios: boot it
    once more into the session's scenario at its configured rate, so the
    next module starts on a clean board."""
    yield
    if not board_control.DIRTY["scenario"]:
        return
    board_control.DIRTY["scenario"] = False
    from leakrig.hil import DUT, SimRig
    session = request.getfixturevalue("_board_session")
    vb = session["virtual"]
    if vb is None:
        return
    default = request.config.getoption("--scenario")
    rig = SimRig(vb)
    dut = DUT(session["port"], session["board"], vb)
    try:
        board_control.reboot(dut, while_down=lambda: rig.load_scenario(default))
    finally:
        dut.close()
    vb._rig_loaded = rig._loaded
