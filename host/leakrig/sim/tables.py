"""Reading a scenario file's TOML tables: typed keys with defaults, unknown
keys refused, and every error one line naming the file and the key."""
import math

REQUIRED = object()


class Table:
    """One TOML table. where: the file; path: the dotted key of this table."""

    def __init__(self, data, where, path=""):
        if not isinstance(data, dict):
            raise ValueError("{}: {}: must be a table, got {!r}".format(where, path or "top level", data))
        self.data = data
        self.where = where
        self.path = path
        self._used = set()

    def key_path(self, key):
        return "{}.{}".format(self.path, key) if self.path else str(key)

    def error(self, key, message):
        return ValueError("{}: {}: {}".format(self.where, self.key_path(key), message))

    def __contains__(self, key):
        return key in self.data

    def keys(self):
        return list(self.data)

    def _get(self, key, default):
        self._used.add(key)
        if key in self.data:
            return self.data[key]
        if default is REQUIRED:
            raise self.error(key, "missing")
        return default

    def number(self, key, default=REQUIRED, low=None, high=None, low_open=False):
        """A float; low/high bound it (low excluded when low_open)."""
        value = self._get(key, default)
        if value is None or (value is default and key not in self.data):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(key, "must be a number, got {!r}".format(value))
        if low is not None and (value < low or (low_open and value == low)):
            raise self.error(key, "must be {} {}, got {!r}".format(">" if low_open else ">=", low, value))
        if high is not None and value > high:
            raise self.error(key, "must be <= {}, got {!r}".format(high, value))
        return float(value)

    def integer(self, key, default=REQUIRED):
        value = self._get(key, default)
        if value is default and key not in self.data:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, "must be an integer, got {!r}".format(value))
        return value

    def string(self, key, default=REQUIRED, choices=None):
        value = self._get(key, default)
        if value is default and key not in self.data:
            return value
        if not isinstance(value, str):
            raise self.error(key, "must be a string, got {!r}".format(value))
        if choices is not None and value not in choices:
            raise self.error(key, "must be one of {}, got {!r}".format(", ".join(choices), value))
        return value

    def boolean(self, key, default=REQUIRED):
        value = self._get(key, default)
        if value is default and key not in self.data:
            return value
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false, got {!r}".format(value))
        return value

    def raw(self, key, default=REQUIRED):
        return self._get(key, default)

    def table(self, key, default=REQUIRED):
        value = self._get(key, default)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, "must be a table, got {!r}".format(value))
        return Table(value, self.where, self.key_path(key))

    def tables(self, key):
        """An array of tables ([[key]]); empty when absent."""
        value = self._get(key, [])
        if not isinstance(value, list):
            raise self.error(key, "must be an array of tables ([[{}]])".format(key))
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.error("{}[{}]".format(key, i), "must be a table, got {!r}".format(item))
            out.append(Table(item, self.where, "{}[{}]".format(self.key_path(key), i)))
        return out

    def done(self):
        """Refuse keys nobody read: a misspelt key must not pass silently."""
        for key in self.data:
            if key not in self._used:
                raise self.error(key, "unknown key")
