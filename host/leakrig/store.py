"""The log store: one SQLite file per campaign, WAL mode, batched commits.
A kill -9 loses at most the last uncommitted batch (half a second, or 128
rows at high frame rates).

Samples and events are clustered on their key (run, boot, seq): WITHOUT
ROWID tables, one B-tree each, appended to in order. Logs written before
that (rowid tables with a separate key index) are read and appended to as
they are."""
import json
import sqlite3
import time

from .frames import SampleBlock

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    name TEXT, notes TEXT, port TEXT, board TEXT, firmware TEXT,
    started_utc REAL, ended_utc REAL, stats TEXT
);
CREATE TABLE IF NOT EXISTS samples (
    run_id INTEGER NOT NULL,
    boot INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    t_s REAL NOT NULL,           -- board time since boot, s
    host_utc REAL NOT NULL,      -- host clock when received, UNIX s
    pressure_pa REAL,
    temperature_c REAL,
    quality INTEGER,
    rate_pa_s REAL,
    rate_sigma_pa_s REAL,
    state TEXT,
    extra TEXT,                  -- other fields of the frame, JSON
    PRIMARY KEY (run_id, boot, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    run_id INTEGER NOT NULL,
    boot INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    t_s REAL,
    host_utc REAL NOT NULL,
    event TEXT NOT NULL,
    fields TEXT,
    PRIMARY KEY (run_id, boot, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS link_events (
    run_id INTEGER NOT NULL,
    host_utc REAL NOT NULL,
    kind TEXT NOT NULL,          -- gap, crc_error, reconnect, resend, boot
    detail TEXT
);
"""

_SAMPLE_KEYS = frozenset(("t", "p", "T", "q", "r", "ur", "st"))
_WIDTH = 12         # columns of a samples row
_MULTI_ROWS = 32    # rows per INSERT statement when writing a batch
_text = bytes.decode  # a block's values are ASCII bytes


def _insert_samples(rows):
    return ("INSERT OR IGNORE INTO samples VALUES "
            + ",".join(["(?,?,?,?,?,?,?,?,?,?,?,?)"] * rows))


_INSERT = [None] + [_insert_samples(k) for k in range(1, _MULTI_ROWS + 1)]
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _num(text):
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _quality(text):
    """Quality bits of a sample: 0 when the frame has none, None (stored as
    NULL, read back as flagged) when the value is not a whole number."""
    if text is None or text == "":
        return 0
    try:
        return int(text)
    except ValueError:
        pass
    v = _num(text)
    if v is None or v != v or v in (float("inf"), float("-inf")) or v != int(v):
        return None
    return int(v)


class Store:
    def __init__(self, path, commit_interval_s=0.5, commit_rows=128):
        self.path = str(path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint (copy the WAL into the database file, with its two
            # fsyncs) every 4096 WAL pages rather than SQLite's 1000: at 1 kHz
            # about once a minute, the WAL file up to 16 MB. Every commit is
            # in the WAL at once either way; a kill -9 loses no committed row.
            self.db.execute("PRAGMA wal_autocheckpoint=4096")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ValueError(log_error(path, exc))
        self.commit_interval_s = commit_interval_s
        self._pending = 0
        # Sample rows not yet written, one flat list of values (_WIDTH per
        # row): written with multi-row INSERTs, one statement per
        # _MULTI_ROWS rows rather than one per row.
        self._samples = []
        self._events = []
        # Commit every commit_interval_s or every commit_rows rows, whichever
        # comes first: what a kill -9 can take is then also fewer frames than
        # the board's ring buffer holds (256 by default), so a restarted
        # logger gets it all back by resend, whatever the frame rate.
        self.commit_rows = commit_rows
        self._last_commit = time.monotonic()
        self.run_id = None
        self.boot = 0
        self.db.execute("BEGIN")

    def start_run(self, name=None, notes=None, port=None):
        cur = self.db.execute(
            "INSERT INTO runs (name, notes, port, started_utc) VALUES (?, ?, ?, ?)",
            (name, notes, port, time.time()))
        self.run_id = cur.lastrowid
        self.commit()
        return self.run_id

    def last_position(self, port):
        """(seq, t_s) of the last frame stored by the latest earlier run on
        `port`, or None: where a restarted logger picks up."""
        row = self.db.execute("SELECT max(id) FROM runs WHERE port=? AND id<?",
                              (port, self.run_id or 1 << 62)).fetchone()
        if row is None or row[0] is None:
            return None
        run = row[0]
        best = None
        for table in ("samples", "events"):
            r = self.db.execute("SELECT boot, seq, t_s FROM %s WHERE run_id=? "
                                "ORDER BY boot DESC, seq DESC LIMIT 1" % table, (run,)).fetchone()
            if r is not None and r[2] is not None and (best is None or (r[0], r[1]) > best[:2]):
                best = r
        return None if best is None else (best[1], best[2])

    def on_hello(self, f, new_boot=True):
        """A hello frame: a new boot (new_boot False: the current boot's own
        hello, resent), and the board and firmware it names."""
        if new_boot:
            self.boot += 1
        self.db.execute("UPDATE runs SET board=?, firmware=? WHERE id=?",
                        (f.fields.get("board"), f.fields.get("fw"), self.run_id))
        self.link_event("boot", json.dumps(f.fields), f.host_utc)

    def add_frame(self, f):
        """Store a sample or event frame; others are ignored. Duplicates (a
        resent frame already held) are skipped. Rows are held in memory and
        written with one executemany per batch, in the same transaction as
        before: a kill -9 loses the uncommitted batch either way."""
        kind = f.kind
        if kind == "S":
            fl = f.fields
            get = fl.get
            extra = None
            if len(fl) > len(_SAMPLE_KEYS) or not fl.keys() <= _SAMPLE_KEYS:
                extra = {k: v for k, v in fl.items() if k not in _SAMPLE_KEYS}
                extra = _dumps(extra) if extra else None
            try:  # the usual frame: every number there and well formed
                row = (self.run_id, self.boot, f.seq, float(get("t")), f.host_utc,
                       float(get("p")), float(get("T")), int(get("q")),
                       float(get("r")), float(get("ur")), get("st"), extra)
            except (TypeError, ValueError):  # a missing or odd value is stored as NULL
                row = (self.run_id, self.boot, f.seq, _num(get("t")) or 0.0, f.host_utc,
                       _num(get("p")), _num(get("T")), _quality(get("q")),
                       _num(get("r")), _num(get("ur")), get("st"), extra)
            self._samples += row
        elif kind == "E":
            self._events.append(
                (self.run_id, self.boot, f.seq, _num(f.fields.get("t")), f.host_utc,
                 f.fields.get("ev", "?"), _dumps(f.fields)))
        elif kind == "H":
            self.on_hello(f)
            return
        else:
            return
        self._pending += 1
        self.maybe_commit()

    def add_frames(self, frames):
        """Store a list of frames as read (what FrameReader.feed returns): the
        same rows as add_frame one by one. A block of samples from the fast
        path is turned into rows column by column."""
        block = SampleBlock.of(frames)
        if block is None:
            for f in frames:
                self.add_frame(f)
        else:
            self.add_block(block, frames)

    def add_block(self, block, frames=None):
        """Store all the frames of a SampleBlock (`frames`: those frames, when
        the caller holds them already)."""
        rows = self._block_rows(block)
        if rows is None:
            for f in block.frames() if frames is None else frames:
                self.add_frame(f)
            return
        # Commit at the same rows as add_frame would: never more than
        # commit_rows uncommitted.
        i = 0
        n = len(rows) // _WIDTH
        while i < n:
            take = min(n - i, max(self.commit_rows - self._pending, 1))
            self._samples += rows[i * _WIDTH:(i + take) * _WIDTH]
            self._pending += take
            i += take
            self.maybe_commit()

    def _block_rows(self, block):
        """Sample rows of a block as one flat list of values, or None when a
        value is not the usual well-formed number (then add_frame decides,
        frame by frame). Filled column by column: every _WIDTH-th value."""
        layout = block.layout
        cols = layout.sample_columns
        if cols is None:
            return None
        it, ip, iT, iq, ir, iur, ist = cols
        c = block.columns
        n = block.n
        rows = [None] * (_WIDTH * n)
        rows[0::_WIDTH] = [self.run_id] * n
        rows[1::_WIDTH] = [self.boot] * n
        rows[2::_WIDTH] = block.seqs
        rows[4::_WIDTH] = [block.host_utc] * n
        try:
            rows[3::_WIDTH] = map(float, c[it])
            rows[5::_WIDTH] = map(float, c[ip])
            rows[6::_WIDTH] = map(float, c[iT])
            rows[7::_WIDTH] = map(int, c[iq])
            rows[8::_WIDTH] = map(float, c[ir])
            rows[9::_WIDTH] = map(float, c[iur])
        except (TypeError, ValueError):
            return None
        if ist is not None:
            rows[10::_WIDTH] = map(_text, c[ist])
        extra = layout.extra_json(c)
        if extra is not None:
            rows[11::_WIDTH] = extra
        return rows

    def flush(self):
        """Write the rows held in memory into the open transaction."""
        values = self._samples
        if values:
            step = _MULTI_ROWS * _WIDTH
            whole = len(values) - len(values) % step
            if whole:
                self.db.executemany(_INSERT[_MULTI_ROWS], [values[i:i + step] for i in range(0, whole, step)])
            if whole < len(values):
                self.db.execute(_INSERT[(len(values) - whole) // _WIDTH], values[whole:])
            self._samples = []
        if self._events:
            self.db.executemany("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?)", self._events)
            self._events = []

    def link_event(self, kind, detail=None, host_utc=None):
        self.db.execute("INSERT INTO link_events VALUES (?,?,?,?)",
                        (self.run_id, host_utc or time.time(), kind, detail))

    def maybe_commit(self):
        if time.monotonic() - self._last_commit >= self.commit_interval_s:
            self.commit()
        elif self._pending >= self.commit_rows:
            self.commit()

    def commit(self):
        self.flush()
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")
        self._pending = 0
        self._last_commit = time.monotonic()

    def end_run(self, stats):
        self.db.execute("UPDATE runs SET ended_utc=?, stats=? WHERE id=?",
                        (time.time(), json.dumps(stats), self.run_id))
        self.commit()

    def close(self):
        try:
            self.flush()
            self.db.execute("COMMIT")
        except sqlite3.OperationalError:
            pass
        self.db.close()


def log_error(path, exc):
    """One line for a log SQLite cannot read, by what went wrong."""
    text = str(exc)
    if "unable to open" in text:
        import os

        folder = os.path.dirname(os.path.abspath(str(path)))
        if not os.path.isdir(folder):
            return "cannot open %s: no folder %s" % (path, folder)
        return "cannot open %s (%s)" % (path, text)
    if "malformed" in text:
        return "%s is damaged or cut short (%s)" % (path, text)
    if "not a database" in text:
        return "%s is not an SQLite file, so not a leakrig log" % path
    return "%s is not a leakrig log (%s)" % (path, text)


def open_log(path):
    """Read-only connection to an existing log, with a clear error for a file
    that is missing or not a leakrig log."""
    import os
    if not os.path.exists(path):
        raise FileNotFoundError("no such log: %s" % path)
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        db.execute("SELECT count(*) FROM samples").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ValueError(log_error(path, exc))
    return db
