# Sensor factories: from a board definition's sensor entry and the bus it
# sits on, build the driver and a reader giving (values..., quality) in SI
# units, with the frame keys those values go out under. A part that fails to
# initialise (absent, NACKing) does not stop the board: its reader raises
# until the part answers, and initialisation is retried on the next read.
import machine

from .drivers.errors import SensorError


def _ads1115(spec, bus):
    from .drivers.ads1115 import ADS1115, CurrentLoopTransducer, PressureInput, RatiometricTransducer
    fe = spec.get("front_end", {})
    kind = fe.get("type", "ratiometric")
    if kind == "ratiometric":
        transducer = RatiometricTransducer(fe.get("p_min_pa", 0.0), fe.get("p_max_pa", 1.0e6),
                                           supply_v=fe.get("supply_v", 5.0), divider=fe.get("divider", 1.0))
    elif kind == "current_loop":
        transducer = CurrentLoopTransducer(fe.get("p_min_pa", 0.0), fe.get("p_max_pa", 1.0e6),
                                           shunt_ohm=fe.get("shunt_ohm", 165.0))
    else:
        raise ValueError("ads1115: unknown front end %r" % kind)
    return PressureInput(ADS1115(bus, spec.get("addr", 0x48)), transducer, channel=spec.get("channel", 0))


def _ms5837(spec, bus):
    from .drivers.ms5837 import MS5837
    return MS5837(bus, spec.get("addr", 0x76))


def _bmp280(spec, bus):
    from .drivers.bmp280 import BMP280
    return BMP280(bus, spec.get("addr", 0x77))


def _max31865(spec, bus):
    from .drivers.max31865 import MAX31865
    cs = machine.Pin(spec["cs"], machine.Pin.OUT, value=1)
    return MAX31865(bus, cs, r_ref=spec.get("r_ref", 430.0), r0=spec.get("r0", 100.0),
                    wires=spec.get("wires", 2))


def _ds18b20(spec, bus):
    from .drivers.ds18b20 import DS18B20
    rom = spec.get("rom")
    return DS18B20(bus, bytes.fromhex(rom) if rom else None, resolution=spec.get("resolution", 12))


_MAKERS = {"ads1115": _ads1115, "ms5837": _ms5837, "bmp280": _bmp280,
           "max31865": _max31865, "ds18b20": _ds18b20}
_DEFAULT_KEYS = {"ads1115": ["p"], "ms5837": ["p", "T"], "bmp280": ["pa", "Ta"],
                 "max31865": ["T"], "ds18b20": ["T"]}


class _LazySensor:
    def __init__(self, maker, spec, bus):
        self._maker = maker
        self._spec = spec
        self._bus = bus
        self._driver = None
        self._last = None

    def read(self):
        if self._driver is None:
            self._driver = self._maker(self._spec, self._bus)
            self._last = None
        try:
            if hasattr(self._driver, "ready"):
                return self._read_pipelined()
            return self._driver.read()
        except SensorError:
            self._last = None
            raise
        except OSError:
            self._driver = None  # the bus failed: set the part up again next time
            raise

    def _read_pipelined(self):
        """Parts slower than a sample period (a 12-bit DS18B20 takes 750 ms)
        convert in the background: each read collects a finished conversion
        and starts the next, and between results gives the last one."""
        d = self._driver
        if self._last is None:
            d.start_conversion()
            self._last = d.read_result()  # the first result is waited for
            d.start_conversion()
        elif d.ready():
            self._last = d.read_result()
            d.start_conversion()
        return self._last


def make(spec, bus):
    """(keys, reader) for one sensor entry of a board definition."""
    part = spec.get("part")
    maker = _MAKERS.get(part)
    if maker is None:
        raise ValueError("unknown sensor part %r" % part)
    keys = spec.get("keys") or _DEFAULT_KEYS[part]
    return keys, _LazySensor(maker, spec, bus).read
