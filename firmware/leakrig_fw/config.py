# Board configuration: a validated JSON file on the board's filesystem.
# Saving writes a temp file, keeps the previous file as a backup, then
# renames; loading falls back to the backup, then to the defaults, and says
# which it did so the app can raise an event.
import json
import os

FILE = "config.json"
BACKUP = "config.bak"
TEMP = "config.tmp"

# name: (default, type, min, max); min/max None for strings
SCHEMA = {
    "rate_hz": (10.0, float, 0.01, 1000.0),
    "autostart": (1, int, 0, 1),
    "ring_frames": (256, int, 16, 4096),     # frames the resend ring can index
    "ring_bytes": (40960, int, 1024, 1048576),  # bytes it holds them in (a sample frame is ~160)
    "min_pressure_pa": (150000.0, float, 0.0, 10000000.0),
    "compliance_ml_per_kpa": (0.0, float, 0.0, 1000000.0),
    "zero_offset_pa": (0.0, float, -1000000.0, 1000000.0),
    "pressure_sensor": ("loop_pressure", str, None, None),
    "temperature_sensor": ("loop_temperature", str, None, None),
    "rig_name": ("rig", str, None, None),
}


class ConfigError(ValueError):
    pass


def defaults(board=None):
    """The defaults, with the board definition's own ("config" in its
    board.json: a board with less memory holds a shorter ring, say)."""
    cfg = {k: v[0] for k, v in SCHEMA.items()}
    for key in board or ():
        if key == "detector":
            cfg[key] = dict(board[key])
        else:
            cfg[key] = coerce(key, board[key])
    return cfg


def coerce(name, value):
    """Value converted to the key's type and checked against its range."""
    if name not in SCHEMA:
        raise ConfigError("unknown key: " + name)
    default, typ, lo, hi = SCHEMA[name]
    try:
        if typ is str:
            value = str(value)
            if not value or len(value) > 32:
                raise ConfigError("bad length for " + name)
            return value
        if isinstance(value, str):
            value = float(value)
        if isinstance(value, bool):
            value = int(value)
        value = typ(value)
    except (TypeError, ValueError):
        raise ConfigError("not a %s: %s" % (typ.__name__, name))
    if value != value or value < lo or value > hi:  # NaN fails too
        raise ConfigError("out of range: %s (%s..%s)" % (name, lo, hi))
    return value


def validate(data, board=None):
    """Full config from a dict read from a file; unknown keys are an error so
    that a typo is not silently ignored."""
    if not isinstance(data, dict):
        raise ConfigError("config is not an object")
    cfg = defaults(board)
    for key in data:
        if key == "detector":
            if not isinstance(data[key], dict):
                raise ConfigError("detector is not an object")
            params = dict(cfg.get("detector") or {})
            params.update(data[key])
            cfg[key] = params
            continue
        cfg[key] = coerce(key, data[key])
    return cfg


def _read(path, board):
    with open(path) as f:
        return validate(json.load(f), board)


def load(board=None):
    """(config, source) where source is 'file', 'backup', 'defaults' (no file)
    or 'invalid' (a file existed but neither it nor the backup was valid).
    board: the board definition's defaults (see defaults)."""
    had_file = False
    for path, source in ((FILE, "file"), (BACKUP, "backup")):
        try:
            return _read(path, board), source
        except OSError:
            continue
        except (ValueError, ConfigError):
            had_file = True
            continue
    return defaults(board), ("invalid" if had_file else "defaults")


def save(cfg):
    data = json.dumps(validate(cfg))
    with open(TEMP, "w") as f:
        f.write(data)
    # On FAT a rename over an existing file deletes it first; a power cut
    # between the two would leave no config, so the old one moves to BACKUP.
    # If there is no FILE (a save cut short after that move), BACKUP is the
    # only good config left: it stays until the new FILE is in place.
    try:
        os.stat(FILE)
        have_file = True
    except OSError:
        have_file = False
    if have_file:
        try:
            os.remove(BACKUP)
        except OSError:
            pass
        os.rename(FILE, BACKUP)
    os.rename(TEMP, FILE)
