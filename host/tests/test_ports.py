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
