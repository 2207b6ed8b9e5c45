"""A virtual board's VM and the server thread that answers it share one CPU
(sim/affinity.py): the choice, its mistakes, and that both really run
there, across a soft reset too."""
import os
import subprocess
import sys
import threading
import time

import pytest

from leakrig.errors import UserError
from leakrig.sim import affinity
from leakrig.sim.link import SERVE_THREAD
from leakrig.sim.vboard import VirtualBoard

ALLOWED = sorted(os.sched_getaffinity(0))
two_cpus = pytest.mark.skipif(len(ALLOWED) < 2, reason="needs two CPUs to choose from")


def test_choice_from_the_setting_and_the_environment(monkeypatch):
    monkeypatch.setattr(affinity, "_allowed", lambda: [0, 1])
    monkeypatch.delenv(affinity.ENV, raising=False)
    first, second = affinity.choose(), affinity.choose()
    assert {first, second} == {0, 1}  # successive boards go on different CPUs
    assert affinity.choose("none") is None
    assert affinity.choose("off") is None
    assert affinity.choose("1") == 1
    monkeypatch.setenv(affinity.ENV, "none")
    assert affinity.choose() is None
    monkeypatch.setenv(affinity.ENV, "0")
    assert affinity.choose() == 0
    monkeypatch.setattr(affinity, "_allowed", lambda: [0])
    monkeypatch.setenv(affinity.ENV, "auto")
    assert affinity.choose() is None  # one CPU: nothing to choose


def test_mistakes_are_one_line(monkeypatch):
    monkeypatch.setattr(affinity, "_allowed", lambda: [0, 1])
    with pytest.raises(UserError, match="expected auto, none or a CPU number"):
        affinity.choose("fast")
    with pytest.raises(UserError, match="CPU 7 is not one this process may use"):
        affinity.choose("7")
    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "sim", "--cpu", "fast"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "--cpu" in r.stderr, r.stderr


def _serving_threads():
    return [t for t in threading.enumerate() if t.name == SERVE_THREAD and t.is_alive()]


def _exec(port, code):
    r = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, "exec", code],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@two_cpus
def test_vm_and_its_server_thread_run_on_the_chosen_cpu(tmp_path):
    before = set(_serving_threads())
    vb = VirtualBoard(flash_dir=tmp_path / "f", cpu="auto").start()
    try:
        assert vb.cpu in ALLOWED
        assert os.sched_getaffinity(vb.vm_pid) == {vb.cpu}
        # The sim's time module connects to the server: a serving thread starts.
        assert _exec(vb.port, "import time; print(time.ticks_ms() >= 0)") == "True"
        deadline = time.monotonic() + 5
        serving = []
        while not serving and time.monotonic() < deadline:
            serving = [t for t in _serving_threads() if t not in before]
            time.sleep(0.05)
        assert serving, "no serving thread for the VM"
        for t in serving:
            assert os.sched_getaffinity(t.native_id) == {vb.cpu}
        # A reset starts a new VM process: on the same CPU.
        old = vb.vm_pid
        boots = vb.boots
        vb.watchdog_reset()
        deadline = time.monotonic() + 10
        while (vb.boots == boots or vb.vm_pid == old) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert vb.vm_pid != old
        assert os.sched_getaffinity(vb.vm_pid) == {vb.cpu}
    finally:
        vb.stop()


@two_cpus
def test_none_leaves_placement_to_the_kernel(tmp_path):
    vb = VirtualBoard(flash_dir=tmp_path / "f", cpu=None).start()
    try:
        assert vb.cpu is None
        assert os.sched_getaffinity(vb.vm_pid) == set(ALLOWED)
    finally:
        vb.stop()
