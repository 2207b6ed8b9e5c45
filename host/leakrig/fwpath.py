"""The shared firmware modules (frame codec, detector) live once, under
firmware/; the host imports those very files as the package `leakrig_fw`."""
import os
import sys
from pathlib import Path


def repo_root():
    return Path(__file__).resolve().parents[2]


def firmware_dir():
    env = os.environ.get("LEAKRIG_FIRMWARE")
    return Path(env) if env else repo_root() / "firmware"


def boards_dir():
    return repo_root() / "boards"


def ensure():
    path = str(firmware_dir())
    if path not in sys.path:
        sys.path.insert(0, path)


ensure()
