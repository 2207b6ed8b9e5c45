"""Config persistence: keys set with `config set` are on the board's
filesystem and come back after a reset (the board's `reset` command); the old
values are set again afterwards."""
import time

from board_control import reboot

MIN_SAMPLES_BEFORE = 100


def test_config_survives_reset(dut, record):
    old = dut.command("config get rig_name min_pressure_pa")
    name = "persist-%d" % (int(time.time()) % 1000000)
    min_pa = float(old["min_pressure_pa"]) + 1234.5
    dut.configure(rig_name=name, min_pressure_pa=min_pa)  # the old values come back at teardown
    # a reset shows as a sample count that starts again: let this boot run
    # well ahead first (a board that just booted, as after the test before,
    # has too few samples for the count after the reset to be told apart)
    deadline = time.monotonic() + 120.0
    samples_before = int(dut.command("status")["samples"])
    while samples_before < MIN_SAMPLES_BEFORE and time.monotonic() < deadline:
        time.sleep(0.2)
        samples_before = int(dut.command("status")["samples"])
    assert samples_before >= MIN_SAMPLES_BEFORE, "the board sampled %d times in 120 s" % samples_before
    t0 = time.monotonic()
    hello, first = reboot(dut)
    record("reboot_s", round(time.monotonic() - t0, 1), "s", high=60.0)
    status = dut.command("status")
    record("samples_after_reset", int(status["samples"]), "", high=samples_before - 1)
    if hello is not None:
        assert hello["config"] == "file", "booted from %s, not the saved file" % hello["config"]
    got = dut.command("config get rig_name min_pressure_pa")
    kept = int(got["rig_name"] == name) + int(abs(float(got["min_pressure_pa"]) - min_pa) < 1e-6)
    record("keys_kept", kept, "of 2", low=2, high=2)
    # restore now and read back (teardown sets them again as well)
    dut.restore()
    back = dut.command("config get rig_name min_pressure_pa")
    assert back["rig_name"] == old["rig_name"]
    assert float(back["min_pressure_pa"]) == float(old["min_pressure_pa"])
