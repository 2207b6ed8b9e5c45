"""Simulated seconds per wall second with the real firmware in the loop:
the sim board on the ms22 scenario, firmware deployed with mpremote, sampling
at 10 Hz in lockstep time, the host reading every frame. The ratio is
against real time (1.0 = a real board's pace); the target is 1000."""
import time

from leakrig.deploy import deploy
from leakrig.link import BoardLink
from leakrig.sim.rig import build_virtual_board

RATE_HZ = 10.0
SAMPLES = 3000


def main():
    vb = build_virtual_board("sim", "ms22", lockstep=True)
    vb.start()
    try:
        deploy(vb.port, "sim", config={"rate_hz": RATE_HZ}, progress=lambda s: None)
        with BoardLink(vb.port) as link:
            n = 0
            t_first = None
            while n < 50:  # past boot and the detector's first allocations
                n += sum(1 for f in link.read_frames() if f.kind == "S")
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
        requests = vb.server.requests
    finally:
        vb.stop()
    sim_s = t_last - t_first
    print("samples: %d" % n)
    print("sample_rate_hz: %g" % RATE_HZ)
    print("board_time_s: %.1f" % sim_s)
    print("wall_time_s: %.2f" % wall)
    print("samples_per_wall_s: %.0f" % (n / wall))
    print("link_requests_total: %d" % requests)
    print("sim_speed_x_realtime: %.0f" % (sim_s / wall))


if __name__ == "__main__":
    main()
