# Builds the board from its definition (board.json, copied from boards/ at
# deploy): the buses through the machine API, one channel per sensor, the LED,
# alarm output, watchdog and safe-mode pin. Nothing here knows whether the
# buses are real or simulated.
import json

import machine

from . import sensors

BOARD_FILE = "board.json"


class BoardError(ValueError):
    pass


def _pin_id(value):
    return value


class Channel:
    """One sensor in its rig role: read() -> (value, ..., quality)."""

    def __init__(self, name, keys, reader, primary):
        self.name = name
        self.keys = keys
        self.read = reader
        self.primary = primary
        self.failures = 0


class Board:
    def __init__(self, definition, primary=("loop_pressure", "loop_temperature")):
        self.definition = definition
        self.name = definition.get("name", "?")
        self.buses = {}
        for bus_name, spec in definition.get("buses", {}).items():
            self.buses[bus_name] = self._make_bus(bus_name, spec)
        self.channels = []
        for role, spec in definition.get("sensors", {}).items():
            bus = self.buses.get(spec.get("bus"))
            if bus is None:
                raise BoardError("sensor %s: unknown bus %r" % (role, spec.get("bus")))
            keys, reader = sensors.make(spec, bus)
            self.channels.append(Channel(role, keys, reader, role in primary))
        # The primary pressure and temperature come first in every frame.
        self.channels.sort(key=lambda c: 0 if c.primary else 1)
        outputs = definition.get("outputs", {})
        self.led = machine.Pin(_pin_id(outputs["led"]), machine.Pin.OUT) if "led" in outputs else None
        self.alarm = machine.Pin(_pin_id(outputs["alarm"]), machine.Pin.OUT) if "alarm" in outputs else None
        self.wdt = None

    def _make_bus(self, name, spec):
        kind = spec.get("type")
        if kind == "i2c":
            return machine.I2C(spec["id"], scl=machine.Pin(spec["scl"]), sda=machine.Pin(spec["sda"]),
                               freq=spec.get("freq", 400000))
        if kind == "spi":
            return machine.SPI(spec["id"], baudrate=spec.get("baudrate", 1000000),
                               polarity=spec.get("polarity", 0), phase=spec.get("phase", 0),
                               sck=machine.Pin(spec["sck"]), mosi=machine.Pin(spec["mosi"]),
                               miso=machine.Pin(spec["miso"]))
        if kind == "onewire":
            import onewire
            return onewire.OneWire(machine.Pin(spec["pin"]))
        raise BoardError("bus %s: unknown type %r" % (name, kind))

    def pressure_channel(self):
        for c in self.channels:
            if "p" in c.keys:
                return c
        raise BoardError("no pressure sensor")

    def start_watchdog(self):
        ms = self.definition.get("watchdog_ms")
        if ms:
            self.wdt = machine.WDT(timeout=ms)

    def feed_watchdog(self):
        if self.wdt is not None:
            self.wdt.feed()

    def set_alarm(self, on):
        if self.alarm is not None:
            self.alarm.value(1 if on else 0)

    def safe_mode(self):
        """True when the safe-mode pin is held low at boot."""
        pin = self.definition.get("safe_mode_pin")
        if pin is None:
            return False
        return machine.Pin(_pin_id(pin), machine.Pin.IN, machine.Pin.PULL_UP).value() == 0

    def reset(self):
        machine.reset()


def load(path=BOARD_FILE):
    try:
        with open(path) as f:
            definition = json.load(f)
    except OSError:
        raise BoardError("no %s on the board: deploy with `leakrig deploy --board NAME`" % path)
    except ValueError:
        raise BoardError("%s is not valid JSON" % path)
    return Board(definition)
