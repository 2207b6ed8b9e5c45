"""Smoke: the board boots the deployed firmware, streams without loss and
answers commands. Same test on a virtual board (default) or a real one."""
import time


def collect_samples(link, n, timeout_s=120):
    samples = []
    deadline = time.monotonic() + timeout_s
    while len(samples) < n and time.monotonic() < deadline:
        samples += [f for f in link.read_frames() if f.kind == "S"]
    return samples


def test_streams_1000_samples_without_loss(dut):
    link = dut.open().link
    samples = collect_samples(link, 1000)
    stats = link.stats
    assert len(samples) >= 1000
    assert stats.gaps == 0 and stats.missing == 0
    assert stats.crc_errors == 0
    seqs = [f.seq for f in samples]
    assert all(b > a for a, b in zip(seqs, seqs[1:]))
    times = [float(f.fields["t"]) for f in samples]
    assert all(b > a for a, b in zip(times, times[1:]))
    pressures = [float(f.fields["p"]) for f in samples if "p" in f.fields]
    assert len(pressures) == len(samples), "every sample carries a loop pressure"
    assert all(50000.0 < p < 1000000.0 for p in pressures)
    temps = [float(f.fields["T"]) for f in samples]
    assert all(-40.0 < t < 120.0 for t in temps)
    assert all(f.fields["q"] == "0" for f in samples)


def test_command_round_trip(dut):
    dut.samples(3)  # in step with a streaming board first
    link = dut.open().link
    pong = link.command("ping", timeout=60)
    assert pong.kind == "R" and pong.fields["pong"] == "1"
    status = link.command("status", timeout=60)
    assert status.kind == "R" and status.fields["state"] == "running"
    assert int(status.fields["samples"]) > 0
    err = link.command("no_such_command", timeout=60)
    assert err.kind == "X" and err.fields["err"] == "unknown_command"
    dut.samples(3)  # the loop kept running through the bad command
    again = link.command("status", timeout=60)
    assert int(again.fields["samples"]) > int(status.fields["samples"])
