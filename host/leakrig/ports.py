"""Serial ports on this host, named by what is behind them. MicroPython
boards are told apart by USB vendor and product id; a board behind a plain
USB-UART bridge (an ESP32 DevKitC) can only be named as a likely one."""
import os

from serial.tools import list_ports

from .errors import UserError

# (VID, PID or None for any) -> name. Sources: MicroPython's own VID (pyboard),
# Raspberry Pi's published PID list, Espressif's VID, bridge chip vendors.
USB_NAMES = {
    (0xF055, 0x9800): "MicroPython pyboard (STM32)",
    (0xF055, None): "MicroPython board",
    (0x2E8A, 0x0005): "Raspberry Pi Pico / Pico 2, MicroPython",
    (0x2E8A, 0x000A): "Raspberry Pi RP2 board, Pico SDK serial (not MicroPython)",
    (0x2E8A, 0x000C): "Raspberry Pi Debug Probe",
    (0x2E8A, None): "Raspberry Pi RP2 board",
    (0x303A, 0x1001): "Espressif ESP32 (built-in USB serial/JTAG)",
    (0x303A, 0x4001): "Espressif ESP32, MicroPython (TinyUSB)",
    (0x303A, None): "Espressif ESP32 board",
    (0x10C4, 0xEA60): "CP210x USB-UART (ESP32 DevKitC?)",
    (0x1A86, 0x7523): "CH340 USB-UART (ESP32 DevKitC?)",
    (0x1A86, 0x55D4): "CH9102 USB-UART (ESP32 DevKitC?)",
    (0x0403, 0x6001): "FTDI FT232 USB-UART",
    (0x0403, 0x6015): "FTDI FT231X USB-UART",
}

# The board definition a port most likely runs, when the USB ids say so.
LIKELY_BOARD = {
    (0xF055, 0x9800): "pyboard",
    (0x2E8A, 0x0005): "pico",
    (0x303A, None): "esp32",
    (0x10C4, 0xEA60): "esp32",
    (0x1A86, 0x7523): "esp32",
    (0x1A86, 0x55D4): "esp32",
}


def _lookup(table, vid, pid):
    if vid is None:
        return None
    return table.get((vid, pid), table.get((vid, None)))


def describe(info):
    """What is on a port (a serial.tools.list_ports ListPortInfo), in words."""
    name = _lookup(USB_NAMES, info.vid, info.pid)
    if name:
        return name
    if info.vid is not None:
        return info.product or info.description or "USB serial device"
    return info.description if info.description not in (None, "n/a") else "serial port"


def is_micropython(info):
    """True when the USB ids say the firmware itself is MicroPython."""
    return (info.vid, info.pid) in ((0xF055, 0x9800), (0x2E8A, 0x0005), (0x303A, 0x4001)) \
        or info.vid == 0xF055 or (info.manufacturer or "") == "MicroPython"


def likely_board(info):
    return _lookup(LIKELY_BOARD, info.vid, info.pid)


def usb_id(info):
    return "%04X:%04X" % (info.vid, info.pid) if info.vid is not None else "-"


def scan(include_all=False):
    """ListPortInfo for ports with a USB device behind them (all with include_all)."""
    ports = sorted(list_ports.comports(include_links=False), key=lambda p: p.device)
    return [p for p in ports if include_all or p.vid is not None]


def boards_on_usb(ports=None):
    """Ports whose USB ids name a MicroPython board (or a likely one)."""
    ports = scan() if ports is None else ports
    return [p for p in ports if is_micropython(p) or likely_board(p)]


def resolve_port(port, env=None, ports=None):
    """(port, how it was chosen): the one given; else $LEAKRIG_PORT; else
    the one MicroPython board on USB. None of them, or several boards, is a
    mistake the user is told how to mend."""
    if port:
        return port, None
    env = os.environ if env is None else env
    if env.get("LEAKRIG_PORT"):
        return env["LEAKRIG_PORT"], "from LEAKRIG_PORT"
    found = boards_on_usb(ports)
    if len(found) == 1:
        return found[0].device, describe(found[0])
    if not found:
        raise UserError("no board found on USB: plug one in, or give --port (or set LEAKRIG_PORT); "
                        "`leakrig ports` lists what is there")
    raise UserError("%d boards on USB (%s): choose one with --port"
                    % (len(found), ", ".join(p.device for p in found)))
