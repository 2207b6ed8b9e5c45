# Runs inside a MicroPython VM (leakrig analyze --vm): the firmware's own
# detector over samples read from stdin, so that a log from a 32-bit
# single-precision board replays with that board's arithmetic.
#
# stdin, a line each:  p NAME VALUE   a detector parameter (before any sample)
#                      s T_MS P T Q   a sample, as the board's frame sent it
#                      z SHIFT        the board was zeroed again: shift
#                      v EVERY_MS     a tracking line every so many ms of data
#                      e              end
# stdout:  E NAME T_MS R UR RML TTM STATE   an event, values as the board
#                                            formats them ("-" for none)
#          T T_MS STATE R UR PC TTM         the detector's output (tracking)
#          P N                               progress every 10,000 samples
#          F STATE R UR RML TTM PAK LAG NOISE N   the final state
import sys

from leakrig_fw.detector import Detector


def _f4(x):
    return "-" if x is None or x != x else "%.4f" % x


def _f0(x):
    return "-" if x is None or x != x else "%.0f" % x


def _f3(x):
    return "-" if x is None or x != x else "%.3f" % x


def _g(x):
    return "-" if x is None or x != x else repr(x)


def main():
    params = {}
    det = None
    n = 0
    every = 0      # ms between tracking lines, 0: none
    due = None     # board time of the next one
    read = sys.stdin.readline
    write = sys.stdout.write
    while True:
        line = read()
        if not line:
            break
        parts = line.split()
        if not parts:
            continue
        kind = parts[0]
        if kind == "s":
            if det is None:
                det = Detector(**params)
            q = int(parts[4])
            t_ms = int(parts[1])
            ev = det.update_ms(t_ms, float(parts[2]), float(parts[3]), q)
            n += 1
            while ev:
                write("E %s %s %s %s %s %s %s\n" % (ev, parts[1], _f4(det.rate_pa_s),
                      _f4(det.rate_sigma_pa_s), _f4(det.rate_ml_min), _f0(det.time_to_min_s), det.state))
                ev = det.pending()
            if every:
                if due is None:
                    due = t_ms + every
                elif t_ms >= due:
                    while due <= t_ms:
                        due += every
                    write("T %s %s %s %s %s %s\n" % (parts[1], det.state, _f4(det.rate_pa_s),
                          _f4(det.rate_sigma_pa_s), _f3(det.compensated_pa), _f0(det.time_to_min_s)))
            if n % 10000 == 0:
                write("P %d\n" % n)
        elif kind == "v":
            every = int(parts[1])
        elif kind == "p":
            params[parts[1]] = float(parts[2])
        elif kind == "z":
            if det is None:
                det = Detector(**params)
            det.shift(float(parts[1]))
        elif kind == "e":
            break
    if det is None:
        det = Detector(**params)
    write("F %s %s %s %s %s %s %s %s %d\n" % (det.state, _g(det.rate_pa_s), _g(det.rate_sigma_pa_s),
          _g(det.rate_ml_min), _g(det.time_to_min_s), _g(det.thermal_pa_per_k),
          _g(det.thermal_lag_s), _g(det.noise_pa), n))


main()
