"""The host's fast path for runs of sample frames (leakrig.frames) gives the
same frames, counts and stored rows as the general, frame-by-frame path,
whatever the input: clean, damaged, truncated, garbage, odd but CRC-valid."""
import random
import sqlite3

from leakrig import fwpath  # noqa: F401
from leakrig.frames import SampleFrame
from leakrig.link import FrameReader
from leakrig.store import Store
from leakrig_fw import frame

KEYS = ("t", "p", "T", "p2", "T2", "q", "r", "ur", "st")


def sample(seq, rng=None, **override):
    rng = rng or random.Random(seq)
    fields = [("t", "%.3f" % (seq / 1000)), ("p", "%.3f" % (300000 + rng.gauss(0, 30))),
              ("T", "%.3f" % 20.0), ("p2", "%.3f" % 300001.5), ("T2", "20.100"),
              ("q", 0), ("r", "%.4f" % rng.gauss(0, 0.05)), ("ur", "0.0500"), ("st", "ok")]
    fields = [(k, override.get(k, v)) for k, v in fields]
    return frame.encode(seq, "S", fields)


def seal(body):
    """frame.seal without its length limit, to make over-long frames."""
    data = body.encode()
    return b"$" + data + b"*" + b"%08X" % frame.checksum(data) + b"\r\n"


def general_reader():
    """A reader that never takes the fast path: the reference."""
    r = FrameReader()
    r._parser.parse = lambda region, now: None
    return r


def view(frames):
    return [(f.seq, f.kind, dict(f.fields), f.raw, f.host_utc) for f in frames]


def feed_both(data, chunks, last_seq=None):
    fast, ref = FrameReader(), general_reader()
    gaps_fast, gaps_ref = [], []
    fast.on_gap = lambda a, n: gaps_fast.append((a, n))
    ref.on_gap = lambda a, n: gaps_ref.append((a, n))
    fast.last_seq = ref.last_seq = last_seq
    out_fast, out_ref = [], []
    i = 0
    for size in chunks:
        out_fast += fast.feed(data[i:i + size], host_utc=1.0)
        out_ref += ref.feed(data[i:i + size], host_utc=1.0)
        i += size
    assert i >= len(data)
    assert view(out_fast) == view(out_ref)
    assert fast.stats.as_dict() == ref.stats.as_dict()
    assert gaps_fast == gaps_ref and fast.last_seq == ref.last_seq
    return out_fast, fast


def sizes(rng, total, lo=1, hi=4096):
    out = []
    while sum(out) < total:
        out.append(rng.randint(lo, hi))
    return out


def test_clean_stream_takes_the_fast_path():
    data = b"".join(sample(s) for s in range(1, 200))
    out, r = feed_both(data, [4096] * (len(data) // 4096 + 1), last_seq=0)
    assert len(out) == 199 and r.stats.frames == 199 and r.stats.crc_errors == 0
    assert sum(isinstance(f, SampleFrame) for f in out) > 150
    f = out[10]
    assert f.kind == "S" and f.seq == 11 and frame.decode(f.raw)[2] == f.fields
    assert f.value("st") == "ok" and f.value("nope", "x") == "x"
    assert f.fields is f.fields  # built once
    assert f != out[11] and f == f


def odd_but_valid_bodies():
    """Bodies with a correct CRC that the general path rejects or treats
    specially; the fast path must agree on each."""
    good = "t=1.000,p=2.5,T=20.0,q=0,r=0.1,ur=0.05,st=ok"
    return [
        "LR1,%d,S," + good,
        "LR1,%d,S,t=1=2,p=3",               # a value with '=': general path accepts
        "LR1,%d,S,t=1,p",                   # a field without '='
        "LR1,%d,S,=1,p=2",                  # empty key
        "LR1,%d,S,t=1,t=2",                 # duplicate key
        "LR1,%d,S,1t=1,p=2",                # key not an identifier
        "LR1,%d,S,t=,p=",                   # empty values
        "LR1,%d,S,t=1%%2C5,p=2",            # escaped value
        "LR1,%d,S,t=1*5,p=2",               # '*' inside a value
        "LR1,%d,S,t=\"x\",p=2",             # a quote (JSON would escape it)
        "LR1,%d,S,t=1\t,p=2",               # control byte
        "LR1,%d,S,t=\u00e9,p=2",            # non-ASCII UTF-8
        "LR2,%d,S," + good,                 # other protocol version
        "LR1,%d,Z," + good,                 # unknown kind
        "LR1,%d,E,ev=x,t=1",                # an event
        "LR1,%d,S",                         # no fields
        "LR1,0%d,S," + good,                # leading zero in seq
        "LR1,-%d,S," + good,                # negative seq
        "LR1,%d ,S," + good,                # space in seq
        "LR1,1073741824%d,S," + good,       # seq too long / too large
        "LR1,000000000000%d,S," + good,     # seq of more than 10 digits
        "LR1,107374182%d,S," + good,        # seq of 10 digits, 2**30 or more
        "LR1,%d,S," + good + ",x=" + "v" * 600,  # longer than a frame may be
        "LR1,%d,S,t=nan,p=inf,T=1e3,q=1.5,r=0x1,ur=1_0,st=ok",  # odd numbers
    ]


def test_odd_frames_with_valid_crc_agree():
    rng = random.Random(5)
    for body in odd_but_valid_bodies():
        for n_before in (0, 3):
            parts = [sample(s) for s in range(1, 1 + n_before)]
            text = body % (n_before + 1) if "%d" in body else body
            parts.append(seal(text))
            parts += [sample(s) for s in range(n_before + 2, n_before + 5)]
            data = b"".join(parts)
            feed_both(data, [len(data)], last_seq=0)
            feed_both(data, sizes(rng, len(data), 1, 64), last_seq=0)
    # a block of nothing but one odd layout, on its own
    for body in odd_but_valid_bodies():
        data = b"".join(seal(body % s if "%d" in body else body) for s in range(1, 6))
        feed_both(data, [len(data)], last_seq=0)


def test_other_keys_in_the_same_shape_agree():
    """Frames with the same number of fields but other keys, or the same
    keys in another order, in one read."""
    rng = random.Random(7)
    a = [sample(s) for s in range(1, 6)]
    renamed = frame.encode(6, "S", [("t", "1"), ("p", "2"), ("T", "3"), ("pb", "4"), ("T2", "5"),
                                    ("q", "0"), ("r", "0"), ("ur", "0"), ("st", "ok")])
    swapped = frame.encode(7, "S", [("p", "2"), ("t", "1"), ("T", "3"), ("p2", "4"), ("T2", "5"),
                                    ("q", "0"), ("r", "0"), ("ur", "0"), ("st", "ok")])
    b = [sample(s) for s in range(8, 12)]
    for mid in ([renamed], [swapped], [renamed, swapped]):
        data = b"".join(a + mid + b)
        out, _ = feed_both(data, [len(data)], last_seq=0)
        feed_both(data, sizes(rng, len(data), 100, 900), last_seq=0)
        assert [f.fields.get("pb") for f in out if f.seq == 6] in ([], ["4"])
        assert [f.fields["t"] for f in out if f.seq == 7] in ([], ["1"])


def test_crc_field_forms_agree():
    body = b"LR1,1,S,t=1,p=2"
    crc = frame.checksum(body)
    for field in (b"%08X" % crc, b"%08x" % crc, b"%07X" % crc, b"%09X" % crc, b"0X%06X" % (crc & 0xFFFFFF)):
        line = b"$" + body + b"*" + field + b"\r\n"
        data = line + sample(2) + sample(3)
        feed_both(data, [len(data)], last_seq=0)


def test_crc_digits_shifted_between_lines_agree():
    """Two lines whose CRC fields are 7 and 9 digits long: together the
    right 16 digits, each line wrong."""
    a, b = b"LR1,1,S,t=1,p=2", b"LR1,2,S,t=2,p=3"
    ca, cb = b"%08X" % frame.checksum(a), b"%08X" % frame.checksum(b)
    data = b"$" + a + b"*" + ca[:7] + b"\r\n$" + b + b"*" + ca[7:] + cb + b"\r\n" + seal("LR1,3,S,t=3,p=4")
    out, r = feed_both(data, [len(data)], last_seq=0)
    assert [f.seq for f in out] == [3] and r.stats.crc_errors == 2


def damage(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        what = rng.random()
        i = rng.randrange(len(data))
        if what < 0.3:
            data[i] ^= 1 << rng.randrange(8)                            # bit flip
        elif what < 0.45:
            del data[i:i + rng.randint(1, 200)]                         # bytes lost
        elif what < 0.6:
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 30)))  # noise
        elif what < 0.7:
            data[i:i] = b"$"                                            # stray start
        elif what < 0.8:
            data[i:i] = b"\n"                                           # stray LF
        elif what < 0.9:
            data[i:i] = b"x" * rng.randint(400, 1200)                   # over-long line
        else:
            data[i:i] = b"\r\n>>> Traceback\r\n"                         # REPL text
    return bytes(data)


def stream(rng, n):
    out = [frame.encode(0, "H", [("fw", "0.1.0"), ("board", "pico"), ("rate", 1000)])]
    seq = 1
    for _ in range(n):
        r = rng.random()
        if r < 0.02:
            seq += rng.randint(1, 5)                                      # a gap
        elif r < 0.03:
            out.append(frame.encode(seq, "E", [("ev", "leak_suspected"), ("t", "1.0")]))
            seq += 1
            continue
        elif r < 0.04:
            out.append(sample(max(1, seq - rng.randint(1, 5)), rng))      # a resent frame
            continue
        elif r < 0.05:
            out.append(sample(seq, rng, dc="test"))                       # another layout
            seq += 1
            continue
        out.append(sample(seq, rng))
        seq += 1
    return b"".join(out)


def test_damaged_streams_agree_in_any_chunking():
    rng = random.Random(1)
    for trial in range(60):
        data = stream(rng, rng.randint(20, 300))
        if trial % 4:
            data = damage(rng, data)
        for chunks in ([len(data)], sizes(rng, len(data), 1, 300), sizes(rng, len(data), 512, 4096)):
            out, r = feed_both(data, chunks)
        assert r.stats.frames == len(out)


def test_good_frames_around_bad_ones_survive():
    good = [sample(s) for s in range(1, 41)]
    bad = bytearray(good[20])
    bad[12] ^= 0x01
    truncated = good[30][:50]
    data = b"".join(good[:20]) + bytes(bad) + b"".join(good[21:30]) + truncated + b"\xff\x00junk" + b"".join(good[30:])
    out, r = feed_both(data, [4096] * 2, last_seq=0)
    assert [f.seq for f in out] == [s for s in range(1, 41) if s != 21]
    assert r.stats.crc_errors == 2 and r.stats.gaps == 1 and r.stats.missing == 1


def rows(path):
    db = sqlite3.connect(path)
    try:
        return (db.execute("SELECT * FROM samples ORDER BY run_id, boot, seq").fetchall(),
                db.execute("SELECT * FROM events ORDER BY run_id, boot, seq").fetchall())
    finally:
        db.close()


def test_store_rows_from_blocks_equal_rows_frame_by_frame(tmp_path):
    rng = random.Random(3)
    odd = [frame.seal("LR1,%d,S,t=%d.5,p=%s,T=20,q=%s,r=0.1,ur=0.2%s" % (s, s, p, q, extra))
           for s, p, q, extra in ((1, "nan", "0", ""), (2, "", "1", ",st=ok"), (3, "1e5", "1.5", ",x=\"y\""),
                                  (4, "2", "3", ",dc=test"))]
    data = b"".join(odd) + stream(rng, 500)
    data = data[data.index(b"$", 1):] if data.startswith(b"$LR1,0,H") else data
    fast_store = Store(tmp_path / "fast.sqlite", commit_rows=50)
    ref_store = Store(tmp_path / "ref.sqlite", commit_rows=50)
    fast_store.start_run()
    ref_store.start_run()
    fast, ref = FrameReader(), general_reader()
    most = 0
    for i in range(0, len(data), 1000):
        fast_store.add_frames(fast.feed(data[i:i + 1000], host_utc=5.0))
        most = max(most, fast_store._pending)
        for f in ref.feed(data[i:i + 1000], host_utc=5.0):
            ref_store.add_frame(f)
    assert most < 50
    fast_store.close()
    ref_store.close()
    assert rows(fast_store.path) == rows(ref_store.path)
    assert len(rows(fast_store.path)[0]) > 400


def test_store_rows_agree_wherever_the_other_fields_are(tmp_path):
    """Fields without a column of their own (stored as JSON) first, last,
    between columns, in one run or several, or none at all."""
    orders = [("t", "p", "T", "q", "r", "ur", "st"),
              ("a", "t", "p", "T", "q", "r", "ur", "st"),
              ("t", "p", "T", "q", "r", "ur", "st", "z"),
              ("a", "b", "t", "p", "c", "T", "q", "d", "e", "r", "ur", "st", "f"),
              ("t", "p", "T", "q", "r", "ur"),
              ("t", "p", "T", "x", "q", "r", "ur"),
              ("t", "p", "q", "r")]
    values = {"t": "1.5", "p": "300000.25", "T": "20", "q": "0", "r": "-0.1", "ur": "0.05", "st": "ok"}
    for k, keys in enumerate(orders):
        data = b"".join(frame.encode(s, "S", [(key, values.get(key, "v%d/%s x" % (s, key))) for key in keys])
                        for s in range(1, 41))
        fast_store = Store(tmp_path / ("fast%d.sqlite" % k))
        ref_store = Store(tmp_path / ("ref%d.sqlite" % k))
        fast_store.start_run()
        ref_store.start_run()
        fast = FrameReader().feed(data, host_utc=2.0)
        assert all(isinstance(f, SampleFrame) for f in fast)
        fast_store.add_frames(fast)
        for f in general_reader().feed(data, host_utc=2.0):
            ref_store.add_frame(f)
        fast_store.close()
        ref_store.close()
        got, want = rows(fast_store.path), rows(ref_store.path)
        assert got == want and len(got[0]) == 40, keys
        assert fast[3].fields == frame.decode(fast[3].raw)[2]


def test_block_commits_at_the_same_rows(tmp_path):
    data = b"".join(sample(s) for s in range(1, 301))
    store = Store(tmp_path / "c.sqlite", commit_rows=16, commit_interval_s=1e9)
    store.start_run()
    commits = []
    real_commit = store.commit

    def commit():
        commits.append(store._pending)
        real_commit()
    store.commit = commit
    r = FrameReader()
    r.last_seq = 0
    for i in range(0, len(data), 4096):
        store.add_frames(r.feed(data[i:i + 4096]))
    assert commits and set(commits) == {16}


def test_length_limit_agrees_at_the_boundary():
    base = "LR1,%d,S,t=1.0,p=2.0,T=3,q=0,r=0,ur=0,st=ok,x="
    accepted = set()
    for size in range(498, 505):
        bodies = [base % s for s in range(1, 4)]
        bodies = [b + "v" * (size - len(b)) for b in bodies]
        data = b"".join(seal(b) for b in bodies)
        out, r = feed_both(data, [len(data)], last_seq=0)
        if out:
            accepted.add(size)
    assert accepted == {498, 499, 500, 501}


def test_sample_with_odd_quality_is_stored_with_null_quality(tmp_path):
    data = stream(random.Random(5), 20)
    data += b"".join(frame.seal("LR1,%d,S,t=%d,p=300000,T=20,q=%s,r=0,ur=0.1,st=ok" % (s, s, q))
                     for s, q in ((1001, "nan"), (1002, "inf"), (1003, "-inf"), (1004, "1.5"), (1005, "2"),
                                  (1006, "x")))
    store = Store(tmp_path / "q.sqlite")
    store.start_run()
    store.add_frames(FrameReader().feed(data, host_utc=1.0))
    store.close()
    got = {r[2]: r[7] for r in rows(store.path)[0]}
    assert [got[s] for s in range(1001, 1007)] == [None, None, None, None, 2, None]
    assert len(got) == 25  # the stream's 19 samples are stored too
