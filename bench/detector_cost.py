"""Detector cost on a MicroPython VM, as `name: value` lines: time per
Detector.update against a plain running mean in the same VM run (the ratio
is the stable figure on a shared machine), on a quiet loop and while a leak
is tracked, and heap growth over a million samples after warm-up (target 0:
the detector allocates nothing that it keeps).

    python bench/detector_cost.py                  # the unix port from PyPI
    python bench/detector_cost.py --against REV    # and on the 32-bit VM: this
                                                   # firmware over the one at git REV

Each timing is the fastest of 8 blocks of 512 updates, the running mean's
the fastest of 20 blocks of 512 steps: a block that the machine interrupted
is not the one kept."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "host"))
from leakrig.sim.vmenv import mcu32_binary, micropython_binary  # noqa: E402

SAMPLES = int(os.environ.get("LEAKRIG_DETECTOR_SAMPLES", "1000000"))

SCRIPT = """
import sys, time, gc
sys.path.insert(0, %(fw)r)
from leakrig_fw.detector import Detector
N = 4096
B = 512
ps = [300000.0 + ((i * 7919) %% 97) * 0.4 for i in range(N)]


def fastest(run, blocks):
    best = None
    for b in range(blocks):
        t0 = time.ticks_us()
        run(b)
        t = time.ticks_diff(time.ticks_us(), t0)
        if best is None or t < best:
            best = t
    return best


def mean_block(b):
    m = 0.0
    for i in range(B):
        m += 0.01 * (ps[i] - m)


d = Detector(learn_s=60.0, windows=%(windows)d)
for i in range(3 * N):                      # warm-up: learning done, windows full
    d.update(i * 0.1, ps[i %% N], 20.0)
k = 3 * N


def quiet_block(b):
    for i in range(b * B, b * B + B):
        d.update((k + i) * 0.1, ps[i], 20.0)


tq = fastest(quiet_block, 8)
tb = fastest(mean_block, 20)
# a leak of 20 Pa/s: on to the alarm, 200 s into the tracking, then timed
k += N
drop = 0.0
while d.state != "leak" and drop < 4.0e4:
    d.update(k * 0.1, ps[k %% N] - drop, 20.0)
    k += 1
    drop += 2.0
for i in range(2000):
    d.update(k * 0.1, ps[k %% N] - drop, 20.0)
    k += 1
    drop += 2.0


def leak_block(b):
    global k, drop
    for i in range(B):
        d.update(k * 0.1, ps[k %% N] - drop, 20.0)
        k += 1
        drop += 2.0


tl = fastest(leak_block, 8)
tracked = 1 if d.state == "leak" else 0
gc.collect()
a0 = gc.mem_alloc()
base = k
for i in range(%(samples)d):
    d.update((base + i) * 0.1, ps[i %% N] - drop, 20.0)   # the leak stopped
    if not i %% 65536:
        gc.collect()
gc.collect()
print(tq / B, tq / max(tb, 1), gc.mem_alloc() - a0, tl / max(tb, 1), tracked)
"""


def vm_cost(binary, windows=8, samples=SAMPLES, fw=None):
    """(us per update, ratio to a running mean, heap growth over `samples`
    more updates, ratio while a leak is tracked) of a Detector with `windows`
    on the VM `binary`; fw: the firmware folder (this checkout's)."""
    script = SCRIPT % {"fw": fw or os.path.join(ROOT, "firmware"), "samples": samples, "windows": windows}
    out = subprocess.run([binary, "-X", "heapsize=512K", "-c", script],
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        sys.exit("detector_cost: the VM run failed: %s" % out.stderr.strip().splitlines()[-1:])
    us, ratio, growth, leak, tracked = out.stdout.split()
    if tracked != "1":
        sys.exit("detector_cost: the leak was not alarmed, so its cost was not measured")
    return float(us), float(ratio), int(growth), float(leak)


def against(rev):
    """This firmware's cost over the one at git rev, on the 32-bit VM, per
    board window count: alternate runs, the median of 3 of each."""
    binary = mcu32_binary()
    if binary is None:
        sys.exit("detector_cost: --against needs the 32-bit VM (docs/boards.md)")
    with tempfile.TemporaryDirectory() as tmp:
        tar = subprocess.run(["git", "-C", ROOT, "archive", rev, "firmware"], capture_output=True)
        if tar.returncode != 0:
            sys.exit("detector_cost: no revision %s: %s" % (rev, tar.stderr.decode().strip()))
        subprocess.run(["tar", "-x", "-C", tmp], input=tar.stdout, check=True)
        old_fw = os.path.join(tmp, "firmware")
        for windows in (8, 6):
            runs = {"old": [], "new": []}
            for _ in range(3):
                runs["old"].append(vm_cost(binary, windows, 0, old_fw))
                runs["new"].append(vm_cost(binary, windows, 0, None))
            med = {}
            for name, rs in runs.items():
                med[name] = (sorted(r[1] for r in rs)[1], sorted(r[3] for r in rs)[1])
            print("w%d_quiet_cost_over_running_mean_vm32_%s: %.0f" % (windows, rev, med["old"][0]))
            print("w%d_quiet_cost_over_running_mean_vm32: %.0f" % (windows, med["new"][0]))
            print("w%d_quiet_cost_over_%s: %.3f" % (windows, rev, med["new"][0] / med["old"][0]))
            print("w%d_tracked_cost_over_running_mean_vm32_%s: %.0f" % (windows, rev, med["old"][1]))
            print("w%d_tracked_cost_over_running_mean_vm32: %.0f" % (windows, med["new"][1]))
            print("w%d_tracked_cost_over_%s: %.3f" % (windows, rev, med["new"][1] / med["old"][1]))


def main(argv):
    us, ratio, growth, leak = vm_cost(micropython_binary())
    print("samples_after_warmup: %d" % SAMPLES)
    print("detector_us_per_sample_vm: %.0f" % us)
    print("detector_cost_over_running_mean_vm: %.0f" % ratio)
    print("detector_tracked_cost_over_running_mean_vm: %.0f" % leak)
    print("heap_growth_bytes_1e6: %d" % growth)
    if "--against" in argv:
        i = argv.index("--against")
        if i + 1 >= len(argv):
            sys.exit("detector_cost: --against needs a git revision")
        against(argv[i + 1])


if __name__ == "__main__":
    main(sys.argv[1:])
