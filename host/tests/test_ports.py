"""leakrig ports names boards from their USB ids, on real ListPortInfo objects."""
import json
import subprocess
import sys

import pytest
from serial.tools.list_ports_common import ListPortInfo

from leakrig.ports import describe, is_micropython, likely_board, usb_id


def port(vid=None, pid=None, manufacturer=None, product=None, device="/dev/ttyACM0"):
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid = vid, pid
    info.manufacturer, info.product = manufacturer, product
    if vid is not None:
        info.description = product or "USB device"
    return info


@pytest.mark.parametrize("vid, pid, words, board, mpy", [
    (0x2E8A, 0x0005, "Pico", "pico", True),
    (0xF055, 0x9800, "pyboard", "pyboard", True),
    (0x10C4, 0xEA60, "CP210x", "esp32", False),
    (0x1A86, 0x7523, "CH340", "esp32", False),
    (0x303A, 0x1001, "Espressif", "esp32", False),
    (0x2E8A, 0x000A, "Pico SDK", None, False),
    (0x2E8A, 0x1234, "RP2 board", None, False),
])
def test_known_boards_are_named(vid, pid, words, board, mpy):
    info = port(vid, pid)
    assert words in describe(info)
    assert likely_board(info) == board
    assert is_micropython(info) is mpy
    assert usb_id(info) == "%04X:%04X" % (vid, pid)


def test_unknown_usb_device_keeps_its_own_product_name():
    info = port(0x1234, 0x5678, product="Acme Gadget")
    assert describe(info) == "Acme Gadget" and likely_board(info) is None


def test_micropython_manufacturer_string_counts():
    assert is_micropython(port(0x1209, 0xABCD, manufacturer="MicroPython"))


def test_port_without_usb():
    info = ListPortInfo("/dev/ttyS0", skip_link_detection=True)
    assert usb_id(info) == "-" and describe(info) == "serial port"


def test_command_runs_on_this_host():
    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "ports", "--json", "--all"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    for line in r.stdout.splitlines():
        assert {"port", "usb", "what", "micropython"} <= set(json.loads(line))


def test_port_is_chosen_given_then_env_then_the_one_board():
    from leakrig.errors import UserError
    from leakrig.ports import resolve_port

    pico = port(0x2E8A, 0x0005, device="/dev/ttyACM0")
    esp = port(0x10C4, 0xEA60, device="/dev/ttyUSB0")
    ftdi = port(0x0403, 0x6001, device="/dev/ttyUSB1")
    assert resolve_port("/dev/ttyX", env={"LEAKRIG_PORT": "/dev/ttyY"}, ports=[pico]) == ("/dev/ttyX", None)
    assert resolve_port(None, env={"LEAKRIG_PORT": "/dev/ttyY"}, ports=[pico])[0] == "/dev/ttyY"
    dev, how = resolve_port(None, env={}, ports=[ftdi, pico])
    assert dev == "/dev/ttyACM0" and "Pico" in how
    with pytest.raises(UserError, match="no board found on USB.*--port.*LEAKRIG_PORT"):
        resolve_port(None, env={}, ports=[ftdi])
    with pytest.raises(UserError, match=r"2 boards on USB \(/dev/ttyACM0, /dev/ttyUSB0\): choose one with --port"):
        resolve_port(None, env={}, ports=[pico, esp])


@pytest.mark.parametrize("machine, board", [
    ("Raspberry Pi Pico with RP2040", "pico"),
    ("Raspberry Pi Pico W with RP2040", "pico"),
    ("Raspberry Pi Pico2 with RP2350", "pico2"),
    ("Generic ESP32 module with ESP32", "esp32"),
    ("ESP32S3 module with ESP32S3", "esp32"),
    ("PYBv1.1 with STM32F405RG", "pyboard"),
    ("linux [GCC 14.2.1] version", "sim"),
    ("BBC micro:bit v2 with nRF52833", None),
])
def test_board_definition_from_what_the_board_says(machine, board):
    from leakrig.boards import for_machine

    assert for_machine(machine) == board


def test_commands_without_port_or_board_say_how_to_choose(tmp_path):
    """No --port, no LEAKRIG_PORT and (in CI) no board on USB: one line each."""
    from leakrig.ports import boards_on_usb

    if boards_on_usb():
        pytest.skip("a board is plugged in here")
    env = {k: v for k, v in __import__("os").environ.items() if k != "LEAKRIG_PORT"}
    for args in (["status"], ["deploy"], ["log", "--out", str(tmp_path / "x.sqlite")], ["monitor"]):
        r = subprocess.run([sys.executable, "-m", "leakrig.cli"] + args, capture_output=True, text=True,
                           timeout=60, env=env)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.strip() == ("leakrig %s: error: no board found on USB: plug one in, or give --port "
                                    "(or set LEAKRIG_PORT); `leakrig ports` lists what is there" % args[0])
