"""Board definitions: boards/<name>.json, data only."""
import json

from .errors import UserError
from .fwpath import boards_dir  # also puts the firmware's shared modules on the path


def names():
    return sorted(p.stem for p in boards_dir().glob("*.json"))


# sys.implementation._machine on each board, the words that tell them apart
# (most specific first) -> board definition.
MACHINE_WORDS = (("RP2350", "pico2"), ("RP2040", "pico"), ("ESP32", "esp32"),
                 ("STM32F405", "pyboard"), ("PYBv1", "pyboard"), ("linux", "sim"))


def for_machine(machine):
    """The board definition for what a board says it is, or None."""
    for word, name in MACHINE_WORDS:
        if word.lower() in machine.lower():
            return name
    return None


def path(name):
    p = boards_dir() / (name + ".json")
    if not p.exists():
        raise UserError("unknown board %r (known: %s)" % (name, ", ".join(names())))
    return p


def load(name):
    p = path(name)
    try:
        return json.loads(p.read_text())
    except ValueError as exc:
        raise UserError("%s is not valid JSON: %s" % (p, exc))


# What a definition may name. Part addresses are the ones the chips can be
# strapped to (datasheets); a sensor at another address is a typo.
PARTS = {
    "ads1115": {"bus": "i2c", "addrs": (0x48, 0x49, 0x4A, 0x4B)},
    "ms5837": {"bus": "i2c", "addrs": (0x76,)},
    "bmp280": {"bus": "i2c", "addrs": (0x76, 0x77)},
    "max31865": {"bus": "spi"},
    "ds18b20": {"bus": "onewire"},
}
BUS_PINS = {"i2c": ("sda", "scl"), "spi": ("sck", "mosi", "miso"), "onewire": ("pin",)}
ARCHS = {"armv6m", "armv7m", "armv7emsp", "armv7emdp", "xtensa", "xtensawin", "rv32imc", None}
# The longest watchdog timeout each MCU's hardware allows, ms.
WATCHDOG_MAX_MS = {"rp2040": 8388, "rp2350": 16777, "esp32": 3600000, "stm32f405": 32768}
WATCHDOG_MIN_MS = 1000  # shorter than a config save or a slow sensor cycle


def validate(board_def):
    """Problems with a board definition, as sentences; [] when it is sound."""
    problems = []
    d = board_def
    for key in ("name", "mcu", "buses", "sensors", "outputs"):
        if key not in d:
            problems.append("missing %r" % key)
    if d.get("arch", None) not in ARCHS:
        problems.append("unknown arch %r (known: %s)" % (d.get("arch"), ", ".join(sorted(a for a in ARCHS if a))))
    used_pins = {}  # pin -> what uses it; a pin serves one purpose

    def claim(pin, what):
        if pin is None:
            problems.append("%s: no pin" % what)
            return
        if not isinstance(pin, (int, str)) or isinstance(pin, bool):
            problems.append("%s: pin %r is neither a number nor a name" % (what, pin))
            return
        if pin in used_pins:
            problems.append("%s: pin %r is already used by %s" % (what, pin, used_pins[pin]))
        else:
            used_pins[pin] = what

    buses = d.get("buses") or {}
    for bus_name, spec in sorted(buses.items()):
        kind = spec.get("type")
        if kind not in BUS_PINS:
            problems.append("bus %s: unknown type %r" % (bus_name, kind))
            continue
        if kind != "onewire" and not isinstance(spec.get("id"), int):
            problems.append("bus %s: no hardware id" % bus_name)
        for role in BUS_PINS[kind]:
            claim(spec.get(role), "bus %s %s" % (bus_name, role))
    i2c_addrs = {}
    spi_cs = {}
    for role, spec in sorted((d.get("sensors") or {}).items()):
        part = spec.get("part")
        info = PARTS.get(part)
        if info is None:
            problems.append("sensor %s: unknown part %r (known: %s)" % (role, part, ", ".join(sorted(PARTS))))
        bus_name = spec.get("bus")
        bus = buses.get(bus_name)
        if bus is None:
            problems.append("sensor %s: bus %r is not defined" % (role, bus_name))
            continue
        kind = bus.get("type")
        if info is not None and info["bus"] != kind:
            problems.append("sensor %s: a %s sits on a %s bus, not %s" % (role, part, info["bus"], kind))
        if not spec.get("keys"):
            problems.append("sensor %s: no frame keys" % role)
        if kind == "i2c":
            addr = spec.get("addr")
            if not isinstance(addr, int) or not 0x08 <= addr <= 0x77:
                problems.append("sensor %s: I2C address %r out of range" % (role, addr))
            elif info is not None and addr not in info.get("addrs", (addr,)):
                problems.append("sensor %s: a %s cannot answer at 0x%02X" % (role, part, addr))
            elif (bus_name, addr) in i2c_addrs:
                problems.append("sensor %s: I2C address 0x%02X on %s is taken by %s"
                                % (role, addr, bus_name, i2c_addrs[(bus_name, addr)]))
            else:
                i2c_addrs[(bus_name, addr)] = role
        elif kind == "spi":
            cs = spec.get("cs")
            if (bus_name, cs) in spi_cs:
                problems.append("sensor %s: chip select %r on %s is taken by %s"
                                % (role, cs, bus_name, spi_cs[(bus_name, cs)]))
            else:
                spi_cs[(bus_name, cs)] = role
                claim(cs, "sensor %s chip select" % role)
    keys = [k for spec in (d.get("sensors") or {}).values() for k in spec.get("keys", ())]
    for k in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append("frame key %r is given by more than one sensor" % k)
    for out, pin in sorted((d.get("outputs") or {}).items()):
        claim(pin, "output %s" % out)
    if "safe_mode_pin" in d:
        claim(d["safe_mode_pin"], "safe-mode pin")
    wd = d.get("watchdog_ms")
    hw_max = WATCHDOG_MAX_MS.get(d.get("mcu"))
    if wd is not None:
        if not isinstance(wd, int) or wd < WATCHDOG_MIN_MS:
            problems.append("watchdog_ms %r: at least %d ms" % (wd, WATCHDOG_MIN_MS))
        elif hw_max is not None and wd > hw_max:
            problems.append("watchdog_ms %d: the %s allows at most %d ms" % (wd, d.get("mcu"), hw_max))
    elif d.get("mcu") != "unix":
        problems.append("no watchdog_ms on a real board")
    problems += _config_problems(d.get("config"))
    return problems


def _config_problems(board_config):
    """The board's own config defaults ("config": a board with less heap
    holds a shorter ring, fewer detector windows) checked as the firmware
    checks a config file."""
    if board_config is None:
        return []
    from leakrig_fw import config
    from leakrig_fw.detector import check_params
    try:
        config.defaults(board_config)
        check_params(board_config.get("detector") or {})
    except (ValueError, TypeError, AttributeError) as exc:
        return ["config: %s" % exc]
    return []
