"""Which VM a virtual board runs on: a real board definition on the 32-bit
single-precision VM where there is one, else on the 64-bit one with one
line saying so; the simulator's own modules' heap is added to the board's."""
import subprocess

import pytest

from leakrig import boards
from leakrig.sim import vmenv
from leakrig.sim.rig import build_virtual_board

MCU32 = vmenv.mcu32_binary()
needs_mcu32 = pytest.mark.skipif(MCU32 is None, reason="no micropython-mcu32 (docs/boards.md)")


@needs_mcu32
def test_real_boards_get_the_32_bit_single_precision_vm():
    for name in ("pico", "pico2", "esp32", "pyboard"):
        binary, faithful = vmenv.board_vm(boards.load(name))
        assert faithful and binary == MCU32
        out = subprocess.run([binary, "-c", "import sys; print(sys.maxsize, 1/3)"],
                             capture_output=True, text=True, timeout=30).stdout.split()
        assert out == ["2147483647", "0.33333334"], out  # 32-bit words, float32
    binary, faithful = vmenv.board_vm(boards.load("sim"))
    assert faithful and binary == vmenv.micropython_binary()


def test_without_the_32_bit_vm_a_real_board_says_so(monkeypatch, capsys):
    monkeypatch.setenv("LEAKRIG_MICROPYTHON_MCU32", "/nonexistent/micropython-mcu32")
    vb = build_virtual_board("pico", None)
    try:
        assert vb.faithful is False
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "board pico runs on the 64-bit double-precision MicroPython" in err[0]
    finally:
        vb.stop()
    build_virtual_board("sim", None).stop()
    assert capsys.readouterr().err == ""


@needs_mcu32
def test_sim_modules_heap_is_measured_per_vm():
    small = vmenv.sim_modules_heap_bytes(MCU32)
    big = vmenv.sim_modules_heap_bytes(vmenv.micropython_binary())
    # 32-bit objects are smaller than 64-bit ones; both are some KB
    assert 4096 < small < big < 64 * 1024
    cmd = vmenv.vm_command(heap_kb=100, boot=False, binary=MCU32)
    assert cmd[1:3] == ["-X", "heapsize=%d" % (100 * 1024 + small)]
