# Feeds a recorded trace to the shared detector, one sample at a time, and
# prints its events: runs unchanged on CPython (double precision) and on a
# MicroPython VM (micropython-mcu32: single precision), so both see the very
# same samples. Used by bench/detector_fp32.py and host/tests/test_detector_fp32.py.
#
#   micropython detector_feed.py TRACE STEP_MS [T0_MS [name=value ...]] [--seconds]
#
# --seconds: feed the time as float seconds (update) instead of integer ms
# (update_ms), to show what a float32 seconds count does to long uptimes.
# TRACE: little-endian float32 pairs (pressure Pa, temperature C) as the
# board's frames carry them; sample i is at board time T0_MS + i*STEP_MS ms.
# Output: "ev INDEX NAME RATE_PA_S SIGMA_PA_S" per event, then
# "end SAMPLES STATE RATE_PA_S PA_PER_K LAG_S STEP_S" once.
import sys
from array import array

from leakrig_fw.detector import Detector

_CHUNK = 1024  # samples per file read


def main(argv):
    path = argv[1]
    step_ms = int(argv[2])
    t_ms = int(argv[3]) if len(argv) > 3 else 0
    params = {}
    seconds = "--seconds" in argv
    for item in argv[4:]:
        if item == "--seconds":
            continue
        name, value = item.split("=")
        params[name] = float(value)
    det = Detector(**params)
    values = array("f", bytes(8 * _CHUNK))
    index = 0
    out = sys.stdout
    with open(path, "rb") as f:
        while True:
            got = f.readinto(values)
            if not got:
                break
            for k in range(0, got // 4, 2):
                if seconds:
                    ev = det.update(t_ms / 1000.0, values[k], values[k + 1])
                else:
                    ev = det.update_ms(t_ms, values[k], values[k + 1])
                while ev:
                    out.write("ev %d %s %.6g %.6g\n" % (index, ev, det.rate_pa_s, det.rate_sigma_pa_s))
                    ev = det.pending()
                index += 1
                t_ms += step_ms
    out.write("end %d %s %.6g %.6g %.6g %.9g %d\n" % (index, det.state, det.rate_pa_s, det.thermal_pa_per_k,
                                                      det.thermal_lag_s, det._dt, det.samples))


main(sys.argv)
