"""Makes the recordings shipped in hil_tests/recordings with the virtual
board itself, as a test engineer makes one on the rig (`leakrig log`):

    orbital_soak.sqlite.gz   2.5 h of orbital cycling, no leak
    ms22_puncture.sqlite.gz  the MS-22 puncture 2 h 20 min into orbital cycling

Both at 0.5 Hz with the firmware's default detector (2 h of learning).
Run: .venv/bin/python scripts/make_recordings.py [OUT_DIR]"""
import gzip
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "host"))

from leakrig.deploy import deploy  # noqa: E402
from leakrig.logger import Logger  # noqa: E402
from leakrig.sim.budget import ms22_variant  # noqa: E402
from leakrig.sim.rig import build_virtual_board  # noqa: E402

RATE_HZ = 0.5
DURATION_S = 9000.0
ONSET_S = 8400.0


def make(scenario, out):
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "run.sqlite"
        vb = build_virtual_board("sim", scenario)
        vb.start()
        try:
            deploy(vb.port, "sim", config={"rate_hz": RATE_HZ}, progress=lambda s: None)
            logger = Logger(vb.port, str(log))
            try:
                logger.run(board_duration_s=DURATION_S)
            finally:
                logger.close()
        finally:
            vb.stop()
        with open(log, "rb") as src, gzip.open(out, "wb", compresslevel=9) as dst:
            shutil.copyfileobj(src, dst)
    events = [(e.get("t"), e.get("ev")) for e in logger.events if e.get("ev") != "boot"]
    print("%s: %d samples, events %s" % (out, logger.samples, events))


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "hil_tests" / "recordings"
    out.mkdir(parents=True, exist_ok=True)
    make("orbital_no_leak", out / "orbital_soak.sqlite.gz")
    with tempfile.TemporaryDirectory() as tmp:
        make(ms22_variant(tmp, ONSET_S), out / "ms22_puncture.sqlite.gz")


if __name__ == "__main__":
    main()
