"""The virtual board behaves like a MicroPython board on USB: raw REPL for
mpremote, soft reset restarts the VM and runs main.py, clean shutdown."""
import os
import signal
import subprocess
import sys
import time

import pytest
import serial

from leakrig.sim.vboard import VirtualBoard


def mpremote(port, *args):
    return subprocess.run([sys.executable, "-m", "mpremote", "connect", port] + list(args),
                          capture_output=True, text=True, timeout=60)


def read_until(ser, marker, timeout=10):
    buf = b""
    deadline = time.monotonic() + timeout
    while marker not in buf and time.monotonic() < deadline:
        buf += ser.read(ser.in_waiting or 1)
    return buf


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


@pytest.fixture
def board(tmp_path):
    vb = VirtualBoard(flash_dir=tmp_path / "flash").start()
    yield vb
    vb.stop()


def test_mpremote_exec_cp_ls_and_soft_reset_runs_main(board, tmp_path):
    assert mpremote(board.port, "exec", "print(6*7)").stdout.strip() == "42"
    src = tmp_path / "main.py"
    src.write_text("print('main ran', 6*7)\n")
    r = mpremote(board.port, "fs", "cp", str(src), ":main.py")
    assert r.returncode == 0, r.stderr
    assert (board.flash_dir / "main.py").read_text() == src.read_text()
    r = mpremote(board.port, "resume", "fs", "ls")
    assert "main.py" in r.stdout
    boots = board.boots
    with serial.Serial(board.port, timeout=0.2) as ser:
        ser.write(b"\r\x03\x03")
        read_until(ser, b">>> ")
        ser.write(b"\x04")  # soft reset at the friendly REPL
        out = read_until(ser, b"main ran 42")
    assert b"soft reboot" in out and b"main ran 42" in out
    assert board.boots > boots


def test_stop_leaves_no_vm_process(tmp_path):
    vb = VirtualBoard(flash_dir=tmp_path / "f").start()
    pid = vb.vm_pid
    assert alive(pid)
    vb.stop()
    time.sleep(0.1)
    assert not alive(pid)
    assert not os.path.exists(vb.port)


def test_two_boards_at_once(tmp_path):
    a = VirtualBoard(flash_dir=tmp_path / "a").start()
    b = VirtualBoard(flash_dir=tmp_path / "b").start()
    try:
        assert a.port != b.port
        ra = mpremote(a.port, "exec", "import os; print(os.getcwd())")
        rb = mpremote(b.port, "exec", "import os; print(os.getcwd())")
        assert ra.stdout.strip().endswith("/a") and rb.stdout.strip().endswith("/b")
    finally:
        a.stop()
        b.stop()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_leakrig_sim_prints_port_first_and_ends_clean(sig, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "leakrig.cli", "sim", "--flash", str(tmp_path / "fl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = proc.stdout.readline().strip()
        assert os.path.exists(port), port
        r = mpremote(port, "exec", "print(6*7)")
        assert r.stdout.strip() == "42", r.stderr
        vm_pids = subprocess.run(["pgrep", "-f", "-P", str(proc.pid), "micropython"],
                                 capture_output=True, text=True).stdout.split()
        assert vm_pids, "no VM process under leakrig sim"
        proc.send_signal(sig)
        assert proc.wait(timeout=20) == 0
        assert "export LEAKRIG_PORT=%s;" % port in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not os.path.exists(port)
    time.sleep(0.1)
    for pid in vm_pids:
        assert not alive(int(pid))
