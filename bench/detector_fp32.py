"""The detector in single precision (micropython-mcu32, as on the boards)
against double precision (CPython) on the very same samples, as
`name: value` lines: false alarms of each over long no-leak traces (quiet,
orbital cycling, a 2 K/h drift; 10 Hz and 1 Hz), and on leaks the event
times and rates of single over double precision, measured in the same run.

    python bench/detector_fp32.py            # every case (about 10-15 min on 2 cores)
    python bench/detector_fp32.py quiet_1hz  # some cases by name
    python bench/detector_fp32.py --days30   # board time: a 30-day run at 1 Hz

The single-precision VM: env LEAKRIG_MICROPYTHON_MCU32, else
/work/shared/vm/micropython-mcu32, else micropython-mcu32 beside this Python."""
import os
import subprocess
import sys
from array import array
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "host"))
from leakrig import fwpath  # noqa: E402
from leakrig.sim.vmenv import mcu32_binary  # noqa: E402,F401  (the tests take it from here too)
from leakrig.synth import Trace  # noqa: E402

FEED = HERE / "detector_feed.py"
ALARMS = ("leak_suspected", "leak_detected", "gross_leak")
H = 3600.0

# name: (Trace parameters, hours, leak onset in hours or None)
CASES = {
    "quiet_10hz": (dict(dt=0.1, orbital_k=0.0), 24.0, None),
    "quiet_1hz": (dict(dt=1.0, orbital_k=0.0), 24.0, None),
    "orbital_10hz": (dict(dt=0.1), 24.0, None),
    "orbital_1hz": (dict(dt=1.0), 24.0, None),
    "drift_10hz": (dict(dt=0.1, orbital_k=0.0, ramp_k_per_h=2.0), 12.0, None),
    "drift_1hz": (dict(dt=1.0, orbital_k=0.0, ramp_k_per_h=2.0), 12.0, None),
    "odrift_1hz": (dict(dt=1.0, ramp_k_per_h=2.0), 12.0, None),
    "odrift_10hz": (dict(dt=0.1, ramp_k_per_h=2.0), 12.0, None),
    # leaks: a seep under each kind of temperature, and a puncture
    "seep_quiet_10hz": (dict(dt=0.1, orbital_k=0.0, leak_ml_min=0.5), 4.0, 3.0),
    "seep_orbital_1hz": (dict(dt=1.0, leak_ml_min=1.0), 6.0, 5.0),
    "seep_drift_1hz": (dict(dt=1.0, orbital_k=0.0, ramp_k_per_h=2.0, leak_ml_min=1.0), 6.0, 5.0),
    "seep_orbital_10hz_late": (dict(dt=0.1, leak_ml_min=1.0), 12.5, 12.0),
    "puncture_10hz": (dict(dt=0.1, orifice_mm=0.8, compliance_ml_per_kpa=4.0), 2.5, 2.2),
}



def write_trace(path, seed=1, hours=1.0, onset_h=None, **trace_kw):
    """Samples as the board's detector sees them: values sent with three
    decimals, read back as float32. Returns the step in ms."""
    kw = dict(trace_kw)
    if onset_h is not None:
        kw["orifice_onset_s" if "orifice_mm" in kw else "leak_onset_s"] = onset_h * H
    tr = Trace(seed=seed, **kw)
    values = array("f")
    for _, p, temp in tr.samples(hours * H):
        values.append(round(p, 3))
        values.append(round(temp, 3))
    with open(path, "wb") as f:
        values.tofile(f)
    return int(round(kw["dt"] * 1000.0))


def run_feed(binary, trace_path, step_ms, t0_ms=0, params=None, timeout_s=7200, seconds=False):
    """Run bench/detector_feed.py on a VM (binary) or on this CPython (None):
    ([(sample index, event, rate Pa/s, sigma Pa/s)], end summary dict)."""
    args = [str(trace_path), str(step_ms), str(t0_ms)]
    args += ["%s=%r" % kv for kv in (params or {}).items()]
    if seconds:
        args.append("--seconds")
    env = dict(os.environ)
    if binary is None:
        cmd = [sys.executable, str(FEED)] + args
        env["PYTHONPATH"] = str(fwpath.firmware_dir())
    else:
        cmd = [binary, "-X", "heapsize=512K", str(FEED)] + args
        env["MICROPYPATH"] = str(fwpath.firmware_dir())
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
    if out.returncode != 0:
        raise RuntimeError("detector_feed failed (%s): %s" % (cmd[0], out.stderr.strip()[-500:]))
    events = []
    end = None
    for line in out.stdout.splitlines():
        f = line.split()
        if f[0] == "ev":
            events.append((int(f[1]), f[2], float(f[3]), float(f[4])))
        elif f[0] == "end":
            end = {"samples": int(f[1]), "state": f[2], "rate_pa_s": float(f[3]),
                   "pa_per_k": float(f[4]), "lag_s": float(f[5]), "dt_s": float(f[6]),
                   "used": int(f[7])}
    return events, end


def compare(name, workdir, binary, seed=1):
    """Run one case in double (CPython) and single precision (VM) at once."""
    trace_kw, hours, onset_h = CASES[name]
    path = Path(workdir) / ("%s_s%d.f32" % (name, seed))
    step_ms = write_trace(path, seed=seed, hours=hours, onset_h=onset_h, **trace_kw)
    with ThreadPoolExecutor(2) as pool:
        fd = pool.submit(run_feed, None, path, step_ms)
        fs = pool.submit(run_feed, binary, path, step_ms)
        double, single = fd.result(), fs.result()
    path.unlink()
    return {"name": name, "dt": trace_kw["dt"], "onset_i": None if onset_h is None else
            int(round(onset_h * H / trace_kw["dt"])), "double": double, "single": single}


def first(events, name):
    for e in events:
        if e[1] == name:
            return e
    return None


def report(res):
    """`name: value` lines for one compared case."""
    n = res["name"]
    dev, sev = res["double"][0], res["single"][0]
    lines = []
    onset = res["onset_i"]
    if onset is None:
        lines.append("%s_false_alarms_double: %d" % (n, sum(e[1] in ALARMS for e in dev)))
        lines.append("%s_false_alarms_single: %d" % (n, sum(e[1] in ALARMS for e in sev)))
        for label, evs in (("double", dev), ("single", sev)):
            bad = [e for e in evs if e[1] in ALARMS]
            if bad:
                lines.append("%s_first_alarm_%s: %s at %.2f h, rate %.4g Pa/s" % (
                    n, label, bad[0][1], bad[0][0] * res["dt"] / H, bad[0][2]))
        return lines
    lines.append("%s_early_alarms_double: %d" % (n, sum(e[1] in ALARMS and e[0] < onset for e in dev)))
    lines.append("%s_early_alarms_single: %d" % (n, sum(e[1] in ALARMS and e[0] < onset for e in sev)))
    for ev in ("leak_detected", "gross_leak"):
        d, s = first(dev, ev), first(sev, ev)
        if d is None and s is None:
            continue
        if d is None or s is None:
            lines.append("%s_%s: double %s, single %s" % (n, ev, d, s))
            continue
        dd, ds = (d[0] - onset) * res["dt"], (s[0] - onset) * res["dt"]
        lines.append("%s_%s_delay_s: double %.1f single %.1f (diff %d samples, ratio %.3f)" % (
            n, ev, dd, ds, s[0] - d[0], ds / dd if dd else float("nan")))
        lines.append("%s_%s_rate_single_over_double: %.5f" % (n, ev, s[2] / d[2] if d[2] else float("nan")))
    lines.append("%s_final_rate_single_over_double: %.5f" % (
        n, res["single"][1]["rate_pa_s"] / res["double"][1]["rate_pa_s"]))
    return lines


def days30(workdir, binary):
    """A quiet 30-day trace at 1 Hz through the detector in both precisions,
    board time in integer ms: the step it tracks, the samples it used (a
    time step of 0 or a gap would restart its windows), its alarms."""
    path = Path(workdir) / "days30.f32"
    step_ms = write_trace(path, hours=30 * 24.0, dt=1.0)
    with ThreadPoolExecutor(2) as pool:
        fd = pool.submit(run_feed, None, path, step_ms, 0, None, 36000)
        fs = pool.submit(run_feed, binary, path, step_ms, 0, None, 36000)
        (dev, dend), (sev, send) = fd.result(), fs.result()
    path.unlink()
    return ["days30_samples: %d" % send["samples"],
            "days30_step_s_single: %.9g (double %.9g)" % (send["dt_s"], dend["dt_s"]),
            "days30_samples_used_single: %d (double %d)" % (send["used"], dend["used"]),
            "days30_alarms_single: %d (double %d)" % (len([e for e in sev if e[1] in ALARMS]),
                                                      len([e for e in dev if e[1] in ALARMS]))]


def main(argv):
    binary = mcu32_binary()
    if binary is None:
        sys.exit("detector_fp32: no micropython-mcu32 (set LEAKRIG_MICROPYTHON_MCU32)")
    if "--days30" in argv:
        for line in days30(os.environ.get("TMPDIR", "/tmp"), binary):
            print(line)
        return
    names = [a for a in argv if a in CASES] or list(CASES)
    workdir = os.environ.get("TMPDIR", "/tmp")
    print("single_precision_vm: %s" % binary)
    for name in names:
        for line in report(compare(name, workdir, binary)):
            print(line)
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
