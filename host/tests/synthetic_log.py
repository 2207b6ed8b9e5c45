"""A log written through leakrig.store.Store from synthetic frames: a loop at
300 kPa breathing 2 kPa/K with a 92-minute orbital temperature cycle, a
5 Pa/s leak from t=3 h, detector fields and events as the firmware sends them."""
import math
import random

from leakrig.link import Frame
from leakrig.store import Store

LEAK_START_S = 3 * 3600.0
LEAK_PA_S = -5.0


def write_log(path, hours=5.0, dt=2.0, name="orbit-soak", stats=None, seed=1, learn_s=0.0):
    """learn_s: the detector reports `learning` until then, with a
    compensated pressure far off (a model still being fitted)."""
    rng = random.Random(seed)
    store = Store(path)
    run_id = store.start_run(name=name, notes="synthetic", port="loop://")
    seq = 0
    utc = 1.7e9

    def send(kind, fields):
        nonlocal seq
        store.add_frame(Frame(seq, kind, {k: str(v) for k, v in fields}, b"", utc + seq * dt))
        seq += 1

    send("H", [("fw", "0.1.0"), ("board", "sim"), ("rate", 1 / dt)])
    n = int(hours * 3600 / dt)
    rate = 0.0
    for i in range(n):
        t = i * dt
        temp = 20.0 + 4.0 * math.sin(2 * math.pi * t / 5520.0)
        leak = LEAK_PA_S * max(0.0, t - LEAK_START_S)
        p = 300000.0 + 2000.0 * (temp - 20.0) + leak + rng.gauss(0, 20)
        pc = 300000.0 + leak + rng.gauss(0, 20)
        # the detector's estimate: a smoothed slope that settles on the leak
        target = LEAK_PA_S if t > LEAK_START_S else 0.0
        rate += 0.01 * (target - rate) + rng.gauss(0, 0.03)
        sigma = 0.5 if t < LEAK_START_S + 600 else 0.4
        state = "leak" if t > LEAK_START_S + 1200 else ("suspect" if t > LEAK_START_S + 600 else "ok")
        if t < learn_s:
            state = "learning"
            pc = 1.25e6 if i % 97 == 5 else pc
        if t == LEAK_START_S + 600:
            send("E", [("ev", "leak_suspected"), ("t", "%.3f" % t), ("r", "-4.9")])
        if t == LEAK_START_S + 1200:
            send("E", [("ev", "leak_confirmed"), ("t", "%.3f" % t), ("r", "-5.02"),
                       ("rml", "1.507"), ("ttm", "27000")])
        send("S", [("t", "%.3f" % t), ("p", "%.1f" % p), ("T", "%.3f" % temp), ("q", 0),
                   ("pc", "%.1f" % pc), ("Ta", "21.0"), ("r", "%.4f" % rate), ("ur", "%.4f" % sigma),
                   ("st", state)])
    store.end_run(stats or {"samples": n, "gaps": 2, "missing": 5, "recovered": 5, "lost": 0,
                            "crc_errors": 3})
    store.close()
    return run_id, n
