"""Simulated seconds per wall second with the real firmware in the loop:
the sim board on the ms22 scenario, firmware deployed with mpremote, sampling
at 10 Hz in lockstep time, the host reading every frame. The ratio is
against real time (1.0 = a real board's pace); the target is 1000.

The same run also measures the firmware's own loop on the VM with no
simulator at all (channels that return fixed values, frames written to
nowhere): the pace the sim could reach if the link and the host cost
nothing. `of_vm_only_limit` is the first figure over that one.

It also times null round trips to the simulator on the VM (a request with
nothing to serve and its reply): every round trip of a sample costs at
least that, so round trips per sample times that latency is a floor under
a sample's wall time (`round_trips_only_x_realtime`), and with the
firmware loop alone added, a tighter one (`vm_and_round_trips_x_realtime`;
`of_vm_and_round_trips_limit` is the first figure over it). The link
server's own time spent serving a sample's requests (chip emulators,
physics, framing: `simulator_us_per_sample`) adds to those in lockstep,
where the VM and the simulator take turns: `serial_floor_x_realtime` is
the pace of the three in series, `of_serial_floor` the first figure over
it; what is left is the host reading the frames and the machine's
scheduling. Last, the CPU time (user + system) per sample of the VM
process and of this one (the simulator, the pty pump and the frame
reader): `cpu_sum_of_wall` near 1 says the two take turns and neither
waits on anything else.

The board runs as `leakrig sim` runs it: the VM and the server's thread
that answers it on one CPU (host/leakrig/sim/affinity.py);
LEAKRIG_SIM_CPU=none in the environment measures the kernel's placement
instead."""
import os
import time

from leakrig.deploy import deploy
from leakrig.link import BoardLink
from leakrig.sim.rig import build_virtual_board
from leakrig.sim.testing import VMHarness

RATE_HZ = 10.0
SAMPLES = 3000

# The firmware's App on the VM, with the board's five channels replaced by
# fixed readings: sampling, detector, frame encoding, command polling,
# garbage collection and the lockstep clock, nothing else.
VM_ONLY = """
import sys, time
from leakrig_fw.app import App
from leakrig_fw import config
class Channel:
    def __init__(self, name, keys, values, primary):
        self.name = name
        self.keys = keys
        self.values = values
        self.primary = primary
        self.failures = 0
    def read(self):
        return self.values
class Board:
    name = "fixed"
    channels = [Channel("loop_pressure", ["p"], (300000.0, 0), True),
                Channel("loop_temperature", ["T"], (20.125, 0), True),
                Channel("loop_pressure_aux", ["p2", "T2"], (300012.5, 20.03, 0), False),
                Channel("ambient", ["pa", "Ta"], (101325.25, 21.5, 0), False),
                Channel("radiator_temperature", ["Tr"], (19.5, 0), False)]
    def feed_watchdog(self):
        pass
class Sink:
    def write(self, data):
        return len(data)
cfg = config.defaults()
cfg["rate_hz"] = %r
app = App(Board(), cfg=cfg, out=Sink(), inp=sys.stdin.buffer)
app.run(50)
import utime
t0 = utime.ticks_us()
app.run(%d)
print("VMONLY", utime.ticks_diff(utime.ticks_us(), t0))
import _simlink
_simlink.call(_simlink.OP_TIME_NOW, b"")
t0 = utime.ticks_us()
for i in range(%d):
    _simlink.call(_simlink.OP_TIME_NOW, b"")
print("ROUNDTRIP", utime.ticks_diff(utime.ticks_us(), t0))
"""
# Null round trips timed on the VM after its loop: the latency of one
# request and its reply with nothing to serve (two process wake-ups and
# the two ends' framing), the floor under every round trip of a sample.
ROUND_TRIPS = 5000


def vm_only_samples_per_s(n, heap_kb):
    """(samples per second of the firmware loop alone, µs per null round
    trip), both timed on the VM."""
    with VMHarness() as h:
        rc, out = h.run(VM_ONLY % (RATE_HZ, n, ROUND_TRIPS), timeout=300, heap_kb=heap_kb)
    found = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] in ("VMONLY", "ROUNDTRIP"):
            found[words[0]] = int(words[1])
    if len(found) != 2:
        raise RuntimeError("VM-only loop failed: %s" % out[-500:])
    return n / (found["VMONLY"] / 1e6), found["ROUNDTRIP"] / ROUND_TRIPS


def main():
    vb = build_virtual_board("sim", "ms22", lockstep=True)
    heap_kb = vb.heap_kb
    vb.start()
    try:
        deploy(vb.port, "sim", config={"rate_hz": RATE_HZ}, progress=lambda s: None)
        with BoardLink(vb.port) as link:
            n = 0
            t_first = None
            while n < 50:  # past boot and the detector's first allocations
                n += sum(1 for f in link.read_frames() if f.kind == "S")
            requests0, trips0 = vb.server.requests, vb.server.round_trips
            busy0 = vb.server.busy_s
            vm_cpu0 = vb.vm_cpu_s()
            host0 = os.times()
            wall0 = time.monotonic()
            n = 0
            t_last = None
            while n < SAMPLES:
                for f in link.read_frames():
                    if f.kind == "S":
                        t = float(f.fields["t"])
                        t_first = t if t_first is None else t_first
                        t_last = t
                        n += 1
            wall = time.monotonic() - wall0
            vm_cpu = vb.vm_cpu_s() - vm_cpu0
            host1 = os.times()
            host_cpu = host1.user - host0.user + host1.system - host0.system
            requests = vb.server.requests - requests0
            trips = vb.server.round_trips - trips0
            busy = vb.server.busy_s - busy0
    finally:
        vb.stop()
    sim_s = t_last - t_first
    speed = sim_s / wall
    vm_only_rate, round_trip_us = vm_only_samples_per_s(SAMPLES, heap_kb)
    vm_only = vm_only_rate / RATE_HZ
    # The pace if a sample cost nothing but its round trips at the null
    # round trip's latency, and that plus the firmware loop alone; then
    # with the simulator's own serving time added too. In lockstep the three
    # take turns (the VM waits for each reply, the simulator for each
    # request), so their sum is the floor under a sample's wall time.
    trips_per_sample = trips / n
    trips_only = 1e6 / (trips_per_sample * round_trip_us) / RATE_HZ
    trips_and_vm = 1.0 / (1.0 / trips_only + 1.0 / vm_only)
    serve_us = busy / n * 1e6
    serial = 1.0 / (1.0 / trips_and_vm + serve_us * RATE_HZ / 1e6)
    print("samples: %d" % n)
    print("sample_rate_hz: %g" % RATE_HZ)
    print("board_time_s: %.1f" % sim_s)
    print("wall_time_s: %.2f" % wall)
    print("samples_per_wall_s: %.0f" % (n / wall))
    print("link_requests_per_sample: %.1f" % (requests / n))
    print("link_round_trips_per_sample: %.1f" % (trips / n))
    print("vm_only_x_realtime: %.0f" % vm_only)
    print("of_vm_only_limit: %.2f" % (speed / vm_only))
    print("null_round_trip_us: %.1f" % round_trip_us)
    print("round_trips_only_x_realtime: %.0f" % trips_only)
    print("vm_and_round_trips_x_realtime: %.0f" % trips_and_vm)
    print("of_vm_and_round_trips_limit: %.2f" % (speed / trips_and_vm))
    print("simulator_us_per_sample: %.0f" % serve_us)
    print("serial_floor_x_realtime: %.0f" % serial)
    print("of_serial_floor: %.2f" % (speed / serial))
    # CPU time of the two processes per sample (user + system): in lockstep
    # they take turns, so their sum is close to the wall time per sample.
    print("vm_cpu_us_per_sample: %.0f" % (vm_cpu / n * 1e6))
    print("host_cpu_us_per_sample: %.0f" % (host_cpu / n * 1e6))
    print("wall_us_per_sample: %.0f" % (wall / n * 1e6))
    print("cpu_sum_of_wall: %.2f" % ((vm_cpu + host_cpu) / wall))
    print("sim_speed_x_realtime: %.0f" % speed)


if __name__ == "__main__":
    main()
