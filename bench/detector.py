"""Detector figures against theory and cost against a baseline, as `name: value` lines.

rate_std_over_crlb: std of the reported quiet-loop rate / (sigma*sqrt(12/(N(N^2-1)))/dt)
delay_over_lorden: mean detection delay of a -5 Pa/s ramp / k* = (6 sigma^2 ln g/(s dt)^2)^(1/3)
false_alarms_24h_orbital: leak events over 24 h of orbital cycling without a leak
cost ratios: per-sample time of Detector.update / of a plain running mean, same run."""
import math
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "host"))
from leakrig import fwpath  # noqa: E402
from leakrig.synth import Trace  # noqa: E402

fwpath.ensure()
from leakrig_fw.detector import Detector  # noqa: E402

SIGMA, DT = 20.0, 0.1


def quiet(seed, n, rate=0.0, onset=None, det=None):
    rng = random.Random(seed)
    det = det or Detector(learn_s=120.0)
    first = None
    rates = []
    for i in range(n):
        t = i * DT
        leak = rate * (t - onset) if onset is not None and t > onset else 0.0
        ev = det.update(t, 300000.0 + leak + rng.gauss(0, SIGMA), 20.0)
        if ev == "leak_detected" and first is None:
            first = t
        if i > 4000 and i % 2048 == 0:
            rates.append(det.rate_pa_s)
    return det, first, rates


def main():
    rates = []
    for seed in range(4):
        rates += quiet(seed, 40000)[2]
    n = 2048
    crlb = SIGMA * math.sqrt(12.0 / (n * (n * n - 1.0))) / DT
    print("rate_std_over_crlb: %.2f" % (statistics.pstdev(rates) / crlb))

    s = 5.0
    gamma = Detector().cfg["arl0_h"] * 3600.0 / DT
    k_star = (6 * SIGMA ** 2 * math.log(gamma) / (s * DT) ** 2) ** (1 / 3)
    delays = []
    for seed in range(10):
        onset = 300.0 + seed * 7.3
        first = quiet(100 + seed, 4000, rate=-s, onset=onset)[1]
        delays.append((first - onset) / DT)
    print("lorden_bound_samples: %.1f" % k_star)
    print("delay_over_lorden: %.2f" % (statistics.mean(delays) / k_star))

    tr = Trace(seed=11, dt=1.0)
    det = Detector()
    alarms = 0
    for t, p, temp in tr.samples(24 * 3600):
        if det.update(t, p, temp) in ("leak_suspected", "leak_detected", "gross_leak"):
            alarms += 1
    print("false_alarms_24h_orbital: %d" % alarms)

    det = Detector(learn_s=60.0)
    rng = random.Random(1)
    data = [(i * DT, 300000.0 + rng.gauss(0, SIGMA), 20.0) for i in range(20000)]
    t0 = time.perf_counter()
    for t, p, temp in data:
        det.update(t, p, temp)
    t_det = time.perf_counter() - t0
    mean = 0.0
    t0 = time.perf_counter()
    for t, p, temp in data:
        mean += 0.01 * (p - mean)
    t_base = time.perf_counter() - t0
    print("cpython_cost_over_running_mean: %.0f" % (t_det / t_base))

    mp = os.path.join(HERE, "..", ".venv", "bin", "micropython")
    script = (
        "import sys,time,gc\nsys.path.insert(0,%r)\nfrom leakrig_fw.detector import Detector\n"
        "d=Detector(learn_s=60.0)\nimport random\nrandom.seed(1)\nN=5000\n"
        "ps=[300000.0+random.random()*40 for i in range(N)]\n"
        "t0=time.ticks_us()\nfor i in range(N): d.update(i*0.1,ps[i],20.0)\n"
        "td=time.ticks_diff(time.ticks_us(),t0)\nm=0.0\nt0=time.ticks_us()\n"
        "for i in range(N): m+=0.01*(ps[i]-m)\ntb=time.ticks_diff(time.ticks_us(),t0)\n"
        "gc.collect()\na0=gc.mem_alloc()\nfor i in range(N,3*N): d.update(i*0.1,ps[i%%N],20.0)\n"
        "gc.collect()\nprint(td/N, td/tb, gc.mem_alloc()-a0)\n" % os.path.join(HERE, "..", "firmware"))
    if os.path.exists(mp):
        out = subprocess.run([mp, "-c", script], capture_output=True, text=True, timeout=600).stdout.split()
        print("vm_us_per_sample: %.0f" % float(out[0]))
        print("vm_cost_over_running_mean: %.0f" % float(out[1]))
        print("vm_heap_growth_bytes_10k_samples: %d" % int(out[2]))


if __name__ == "__main__":
    main()
