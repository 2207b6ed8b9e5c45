"""The log store: rows written in batches (multi-row INSERTs of any size,
duplicates skipped), and logs written by earlier versions (rowid tables)
opened, appended to and read."""
import sqlite3

from leakrig import analyze, fwpath  # noqa: F401
from leakrig.link import FrameReader
from leakrig.store import Store
from leakrig_fw import frame

# The samples and events tables as logs before WITHOUT ROWID had them.
OLD_SCHEMA = """
CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT, notes TEXT, port TEXT, board TEXT,
    firmware TEXT, started_utc REAL, ended_utc REAL, stats TEXT);
CREATE TABLE samples (run_id INTEGER NOT NULL, boot INTEGER NOT NULL, seq INTEGER NOT NULL,
    t_s REAL NOT NULL, host_utc REAL NOT NULL, pressure_pa REAL, temperature_c REAL,
    quality INTEGER, rate_pa_s REAL, rate_sigma_pa_s REAL, state TEXT, extra TEXT,
    PRIMARY KEY (run_id, boot, seq));
CREATE TABLE events (run_id INTEGER NOT NULL, boot INTEGER NOT NULL, seq INTEGER NOT NULL,
    t_s REAL, host_utc REAL NOT NULL, event TEXT NOT NULL, fields TEXT,
    PRIMARY KEY (run_id, boot, seq));
CREATE TABLE link_events (run_id INTEGER NOT NULL, host_utc REAL NOT NULL, kind TEXT NOT NULL,
    detail TEXT);
"""


def samples(first, last, extra=""):
    return b"".join(frame.seal("LR1,%d,S,t=%d.5,p=%d,T=20.5,q=0,r=0.1,ur=0.2,st=ok%s" % (s, s, 300000 + s, extra))
                    for s in range(first, last + 1))


def stored(path):
    db = sqlite3.connect(str(path))
    try:
        return db.execute("SELECT seq, t_s, pressure_pa, quality, state, extra FROM samples "
                          "ORDER BY run_id, boot, seq").fetchall()
    finally:
        db.close()


def test_batches_of_any_size_store_every_row_once(tmp_path):
    # Reads of 1 to 70 frames against 32-row statements and 50-row commits,
    # half of them read twice (a resend of what is held already).
    store = Store(tmp_path / "b.sqlite", commit_rows=50, commit_interval_s=1e9)
    store.start_run()
    r = FrameReader()
    seq = 0
    for size in list(range(1, 71)) + [3, 31, 32, 33, 64, 65]:
        data = samples(seq + 1, seq + size, ",x=%d" % size)
        store.add_frames(r.feed(data, host_utc=2.0))
        if size % 2:
            store.add_frames(FrameReader().feed(data, host_utc=3.0))
        seq += size
    store.close()
    rows = stored(store.path)
    assert [row[0] for row in rows] == list(range(1, seq + 1))
    assert rows[0] == (1, 1.5, 300001.0, 0, "ok", '{"x":"1"}')
    assert rows[-1] == (seq, seq + 0.5, 300000.0 + seq, 0, "ok", '{"x":"65"}')


def test_log_of_an_earlier_version_is_appended_to_and_read(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(str(path))
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO runs (id, name, port) VALUES (1, 'old', 'loop://')")
    db.execute("INSERT INTO samples VALUES (1, 1, 7, 7.5, 1.0, 300007, 20.5, 0, 0.1, 0.2, 'ok', NULL)")
    db.commit()
    db.close()
    store = Store(path)
    store.start_run(port="loop://")
    assert store.last_position("loop://") == (7, 7.5)
    store.add_frames(FrameReader().feed(samples(1, 40), host_utc=2.0))
    store.close()
    db = sqlite3.connect(str(path))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    kinds = dict(db.execute("SELECT name, sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE type='table'"))
    db.close()
    assert kinds["samples"] == 0  # the earlier table, kept as it is
    rows = stored(path)
    assert len(rows) == 41 and rows[0][:3] == (7, 7.5, 300007.0)
    assert len(analyze.read_samples(str(path))) == 41


def test_new_log_clusters_samples_and_events_on_their_key(tmp_path):
    store = Store(tmp_path / "n.sqlite")
    store.close()
    db = sqlite3.connect(str(tmp_path / "n.sqlite"))
    sql = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type='table'"))
    db.close()
    assert "WITHOUT ROWID" in sql["samples"] and "WITHOUT ROWID" in sql["events"]


def test_cut_short_or_foreign_logs_get_one_line(tmp_path):
    """A log cut short (a copy that stopped part way) and a file that is not
    SQLite at all: export, report and analyze each say which, in one line."""
    import subprocess
    import sys

    from synthetic_log import write_log

    whole = tmp_path / "whole.sqlite"
    write_log(whole, hours=1.0)
    data = whole.read_bytes()
    cut = tmp_path / "cut.sqlite"
    cut.write_bytes(data[:len(data) // 3])
    foreign = tmp_path / "notes.sqlite"
    foreign.write_bytes(bytes(range(256)) * 20)
    for path, words in ((cut, "is damaged or cut short"), (foreign, "is not an SQLite file")):
        # (analyze reads a file that is not SQLite as CSV, and says what its header lacks)
        for args in (["export", str(path), "--csv", str(tmp_path / "x.csv")], ["report", str(path)],
                     ["analyze", str(path)])[:3 if path == cut else 2]:
            r = subprocess.run([sys.executable, "-m", "leakrig.cli"] + args, capture_output=True,
                               text=True, timeout=60)
            assert r.returncode == 2, (args, r.stderr)
            assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, (args, r.stderr)


def test_log_to_a_path_it_cannot_use_is_one_line_and_touches_nothing(tmp_path):
    import subprocess
    import sys

    junk = tmp_path / "notes.sqlite"
    junk.write_bytes(b"not a log\n" * 100)
    for out, words in ((tmp_path / "no" / "such" / "run.sqlite", "no folder"),
                       (junk, "is not an SQLite file")):
        r = subprocess.run([sys.executable, "-m", "leakrig.cli", "log", "--port", "/dev/null", "--out", str(out)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, r.stderr
    assert junk.read_bytes() == b"not a log\n" * 100
