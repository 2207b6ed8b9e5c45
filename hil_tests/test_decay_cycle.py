"""The pressure-decay test cycle through the board's `decay` command: fill,
stabilise, test, vent by duration, then a verdict against the reject limit
with the fit's uncertainty. A good loop (post-fill thermal settling only)
passes; the same loop with a 2 mL/min leak (about 2 Pa/s) fails. On a real
rig the valves follow the phase events; these tests need the simulator's
scenarios and skip on a board without them."""
import pytest

from board_control import start_scenario

RATE_HZ = 2.0
REJECT_PA_S = 1.0
CYCLE = "fill=10 stabilise=600 test=120 vent=10"  # s; settling tau is 180 s


def _run_cycle(dut, rig, scenario):
    start_scenario(dut, rig, scenario, RATE_HZ)
    reply = dut.command("decay start reject=%g %s" % (REJECT_PA_S, CYCLE))
    assert reply["phase"] == "fill"
    seen = []
    result = dut.wait_event("decay_result", board_timeout_s=900, host_timeout_s=300, collect=seen)
    phases = [f.fields["phase"] for f in seen if f.kind == "E" and f.fields.get("ev") == "decay_phase"]
    status = dut.command("decay status")
    return result.fields, phases, status


@pytest.mark.parametrize("scenario,verdict", [("decay_good", "PASS"), ("decay_leak", "FAIL")])
def test_decay_cycle_verdict(dut, rig, record, scenario, verdict):
    fields, phases, status = _run_cycle(dut, rig, scenario)
    record("decay_rate_pa_s", float(fields["r"]), "Pa/s")
    record("decay_rate_sigma_pa_s", float(fields["ur"]), "Pa/s", high=0.2)
    assert phases == ["stabilise", "test", "vent"], phases
    assert fields["verdict"] == verdict, fields
    assert status["verdict"] == verdict
    if verdict == "FAIL":
        # 2 mL/min through the loop's compliance: about -2 Pa/s
        record("decay_leak_rate_pa_s", float(fields["r"]), "Pa/s", low=-3.0, high=-1.5)
    else:
        record("decay_good_rate_pa_s", float(fields["r"]), "Pa/s", low=-REJECT_PA_S / 2, high=0.5)
