"""Frame codec (the firmware's own file, imported by the host)."""
import string

import pytest

from hypothesis import given, settings, strategies as st

from leakrig import fwpath  # noqa: F401
from leakrig_fw import frame

keys = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=8)
values = st.text(max_size=40)
field_lists = st.dictionaries(keys, values, max_size=8)
kinds = st.sampled_from(list(frame.KINDS))
seqs = st.integers(min_value=0, max_value=frame.SEQ_MODULO - 1)


def _fits(seq, kind, fields):
    """Whether the frame is within MAX_FRAME (longer ones raise FrameError)."""
    body = "LR1,%d,%s" % (seq, kind) + "".join(
        ",%s=%s" % (k, frame.escape(v)) for k, v in fields.items())
    return len(body.encode()) + 12 <= frame.MAX_FRAME  # $ body * CRC CRLF


@given(seqs, kinds, field_lists)
def test_encode_writes_the_documented_bytes(seq, kind, fields):
    body = "LR1,%d,%s" % (seq, kind) + "".join(
        ",%s=%s" % (k, frame.escape(v)) for k, v in fields.items())
    if not _fits(seq, kind, fields):
        with pytest.raises(frame.FrameError):
            frame.encode(seq, kind, list(fields.items()))
        return
    assert frame.encode(seq, kind, list(fields.items())) == frame.seal(body)


@given(seqs, kinds, field_lists)
def test_round_trip(seq, kind, fields):
    if not _fits(seq, kind, fields):
        return
    data = frame.encode(seq, kind, list(fields.items()))
    assert data.startswith(b"$") and data.endswith(b"\r\n")
    assert data.count(b"\n") == 1 and data.count(b"$") == 1
    assert all(32 <= b < 127 for b in data[:-2]), "frames are printable ASCII"
    assert frame.decode(data) == (seq, kind, fields)


@settings(max_examples=300)
@given(seqs, kinds, field_lists, st.data())
def test_any_single_byte_corruption_is_rejected(seq, kind, fields, data):
    if not _fits(seq, kind, fields):
        return
    good = frame.encode(seq, kind, list(fields.items()))
    i = data.draw(st.integers(min_value=0, max_value=len(good) - 3))
    new = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != good[i]))
    bad = bytearray(good)
    bad[i] = new
    try:
        decoded = frame.decode(bytes(bad))
    except frame.FrameError:
        return
    # A hex digit of the CRC changed case only (a-f vs A-F) is still rejected
    # above; anything that decodes must be the very same frame.
    raise AssertionError("corrupted frame accepted: %r -> %r" % (bytes(bad), decoded))


def test_a_crc_digit_replaced_by_what_int_would_skip_is_rejected():
    """A leading zero of the CRC replaced by a blank, a sign or a '_' reads
    as the same number to int(): the decoder must still refuse it."""
    good = frame.encode(240, "E", [])
    star = good.index(b"*")
    crc = good[star + 1:star + 9]
    assert crc.startswith(b"0"), good  # this frame's CRC has a leading zero
    frame.decode(good)
    for sub in (b"\t", b" ", b"+", b"_"):
        bad = good[:star + 1] + sub + good[star + 2:]
        with pytest.raises(frame.FrameError):
            frame.decode(bad)


@given(seqs, kinds, field_lists, st.data())
def test_truncated_frames_are_rejected(seq, kind, fields, data):
    if not _fits(seq, kind, fields):
        return
    good = frame.encode(seq, kind, list(fields.items())).rstrip(b"\r\n")
    cut = data.draw(st.integers(min_value=0, max_value=len(good) - 1))
    try:
        frame.decode(good[:cut])
    except frame.FrameError:
        return
    raise AssertionError("truncated frame accepted")


@given(st.binary(max_size=200))
def test_random_bytes_never_crash_the_decoder(blob):
    try:
        frame.decode(blob)
    except frame.FrameError:
        pass


def test_frame_is_readable_text():
    data = frame.encode(42, "S", [("t", "12.500"), ("p", "301325.000")])
    assert data.decode().startswith("$LR1,42,S,t=12.500,p=301325.000*")


def test_too_long_frame_refused():
    try:
        frame.encode(1, "E", [("msg", "x" * 600)])
    except frame.FrameError:
        return
    raise AssertionError("over-long frame encoded")


def test_seq_gap():
    assert frame.seq_gap(5, 6) == 0
    assert frame.seq_gap(5, 9) == 3
    assert frame.seq_gap(frame.SEQ_MODULO - 2, 1) == 2
    assert frame.seq_gap(9, 4) == -1
