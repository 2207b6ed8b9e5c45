"""Board definitions: boards/<name>.json, data only."""
import json

from .errors import UserError
from .fwpath import boards_dir


def names():
    return sorted(p.stem for p in boards_dir().glob("*.json"))


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
