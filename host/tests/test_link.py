"""Frame reader: CRC check, gap accounting, garbage between frames."""
from leakrig import fwpath  # noqa: F401
from leakrig.link import FrameReader
from leakrig_fw import frame


def frames(seqs, kind="S"):
    return b"".join(frame.encode(s, kind, [("p", "1.0")]) for s in seqs)


def test_gap_is_counted_and_reported():
    gaps = []
    r = FrameReader(on_gap=lambda first, n: gaps.append((first, n)))
    out = r.feed(frames([0, 1, 2, 5, 6]))
    assert [f.seq for f in out] == [0, 1, 2, 5, 6]
    assert r.stats.gaps == 1 and r.stats.missing == 2
    assert gaps == [(3, 2)]


def test_corrupt_frame_rejected_and_counted():
    data = bytearray(frames([0, 1, 2]))
    second = data.index(b"$", 1)
    data[second + 10] ^= 0x04
    r = FrameReader()
    out = r.feed(bytes(data))
    assert [f.seq for f in out] == [0, 2]
    assert r.stats.crc_errors == 1 and r.stats.gaps == 1


def test_garbage_and_split_reads():
    data = b"noise>>> " + frames([0, 1]) + b"\x00\xff" + frames([2])
    r = FrameReader()
    out = []
    for i in range(0, len(data), 7):
        out += r.feed(data[i:i + 7])
    assert [f.seq for f in out] == [0, 1, 2]
    assert r.stats.garbage_bytes == len(b"noise>>> ") + 2
    assert r.stats.crc_errors == 0


def test_truncated_frame_followed_by_frame():
    whole = frames([1])
    data = frames([0]) + whole[:20] + frames([1])
    r = FrameReader()
    out = r.feed(data)
    assert [f.seq for f in out] == [0, 1]
    assert r.stats.crc_errors == 1


def test_hello_restarts_sequence_without_gap():
    r = FrameReader()
    r.feed(frames([0, 1, 2, 3]))
    r.feed(frame.encode(0, "H", [("fw", "x")]) + frames([1, 2]))
    assert r.stats.gaps == 0 and r.stats.boots == 1


def test_replayed_frames_do_not_count_as_gaps():
    r = FrameReader()
    r.feed(frames([0, 1, 4, 5, 2, 3, 6]))
    assert r.stats.gaps == 1 and r.stats.missing == 2
