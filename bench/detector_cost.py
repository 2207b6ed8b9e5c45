"""Detector cost on the MicroPython unix port, as `name: value` lines:
time per Detector.update against a plain running mean in the same VM run
(the ratio is the stable figure on a shared machine), and heap growth over a
million samples after warm-up (target 0: the detector allocates nothing that
it keeps)."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "host"))
from leakrig.sim.vmenv import micropython_binary  # noqa: E402

SAMPLES = int(os.environ.get("LEAKRIG_DETECTOR_SAMPLES", "1000000"))

SCRIPT = """
import sys, time, gc
sys.path.insert(0, %(fw)r)
from leakrig_fw.detector import Detector
N = 4096
ps = [300000.0 + ((i * 7919) %% 97) * 0.4 for i in range(N)]
d = Detector(learn_s=60.0, windows=%(windows)d)
for i in range(3 * N):                      # warm-up: learning done, windows full
    d.update(i * 0.1, ps[i %% N], 20.0)
t0 = time.ticks_us()
for i in range(N):
    d.update((3 * N + i) * 0.1, ps[i], 20.0)
td = time.ticks_diff(time.ticks_us(), t0)
m = 0.0
t0 = time.ticks_us()
for i in range(N):
    m += 0.01 * (ps[i] - m)
tb = time.ticks_diff(time.ticks_us(), t0)
gc.collect()
a0 = gc.mem_alloc()
base = 4 * N
for i in range(%(samples)d):
    d.update((base + i) * 0.1, ps[i %% N], 20.0)
    if not i %% 65536:
        gc.collect()
gc.collect()
print(td / N, td / max(tb, 1), gc.mem_alloc() - a0)
"""


def vm_cost(binary, windows=8, samples=SAMPLES):
    """(us per update, ratio to a running mean, heap growth over `samples`
    more updates) of a Detector with `windows` on the VM `binary`."""
    script = SCRIPT % {"fw": os.path.join(HERE, "..", "firmware"), "samples": samples, "windows": windows}
    out = subprocess.run([binary, "-X", "heapsize=512K", "-c", script],
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        sys.exit("detector_cost: the VM run failed: %s" % out.stderr.strip().splitlines()[-1:])
    us, ratio, growth = out.stdout.split()
    return float(us), float(ratio), int(growth)


def main():
    us, ratio, growth = vm_cost(micropython_binary())
    print("samples_after_warmup: %d" % SAMPLES)
    print("detector_us_per_sample_vm: %.0f" % float(us))
    print("detector_cost_over_running_mean_vm: %.0f" % float(ratio))
    print("heap_growth_bytes_1e6: %d" % int(growth))


if __name__ == "__main__":
    main()
