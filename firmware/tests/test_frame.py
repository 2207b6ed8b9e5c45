# Frame codec on the VM: the bytes must be exactly the host's.
from leakrig_fw import frame


def test_known_frame_bytes():
    # The same fields encode to the same bytes and CRC on CPython (host test).
    f = frame.encode(7, "S", [("t", "1.500"), ("p", "301325.000"), ("q", 0)])
    assert f == b"$LR1,7,S,t=1.500,p=301325.000,q=0*5E54D25E\r\n", f


def test_round_trip_with_reserved_characters():
    text = "a,b*c=d%e$f\r\ng"
    seq, kind, fields = frame.decode(frame.encode(3, "E", [("msg", text)]))
    assert (seq, kind, fields["msg"]) == (3, "E", text)


def test_corrupted_byte_rejected():
    good = frame.encode(11, "S", [("p", "100.0")])
    for i in range(1, len(good) - 2):
        bad = bytearray(good)
        bad[i] = bad[i] ^ 0x01
        try:
            frame.decode(bytes(bad))
        except frame.FrameError:
            continue
        raise AssertionError("accepted corruption at byte %d" % i)


def test_soft_crc_matches_binascii():
    data = b"LR1,1,S,p=1.0"
    assert frame._crc32_soft(data) == frame.checksum(data)


def test_sequence_wraps():
    assert frame.seq_gap(frame.SEQ_MODULO - 1, 0) == 0
    assert frame.seq_gap(frame.SEQ_MODULO - 1, 2) == 2
    assert frame.seq_gap(10, 5) == -1
