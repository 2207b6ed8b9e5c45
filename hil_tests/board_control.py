"""Board control shared by the HIL tests: rebooting the board with its `reset`
command (a real board drops off USB and comes back; a virtual one restarts
its VM), and starting a scenario on a freshly booted board so that board time
and scenario time start together and the firmware's detector starts fresh."""
import time

from leakrig.errors import LinkError
from leakrig.hil import Timeout

DIRTY = {"scenario": False}


def reboot(dut, host_timeout_s=90.0, while_down=None):
    """Reset the board with its `reset` command and wait for the new boot's
    first sample. Returns (hello fields or None, first sample frame).
    `while_down` runs after the reset was acknowledged, before the board
    samples again (a virtual board's VM is down then)."""
    t_before = float(dut.command("status")["t"])
    try:
        dut.command("reset", timeout=20.0)
        acked = True
    except LinkError:
        acked = False  # the reply can be lost as the board goes down
    # frames that came before the reply are the old boot's; nothing follows
    # the reply from it
    dut.discard()
    if while_down is not None:
        while_down()
    hello = None
    deadline = time.monotonic() + host_timeout_s
    while time.monotonic() < deadline:
        try:
            for f in dut.frames(timeout=deadline - time.monotonic()):
                if f.kind == "H":
                    hello = f.fields
                elif f.kind == "S" and (acked or hello is not None or float(f.fields["t"]) < t_before):
                    return hello, f
        except LinkError:
            # a real board's USB port goes away while it resets
            dut.close()
            time.sleep(0.5)
    raise Timeout("no sample from a new boot within %.0f s after reset" % host_timeout_s)


def start_scenario(dut, rig, name, rate_hz, **config):
    """Boot the board fresh into scenario `name` at `rate_hz` (and any other
    config keys, restored after the test): scenario time 0 is the boot. On a
    real board the rig has no scenarios: the test skips (RigUnavailable)
    before anything on the board changes."""
    load = rig.load_scenario
    dut.configure(rate_hz=rate_hz, **config)
    DIRTY["scenario"] = True
    hello, first = reboot(dut, while_down=lambda: load(name))
    assert float(first.fields["t"]) < 5.0 / rate_hz, "first sample of the new boot at t=%s" % first.fields["t"]
    return hello
