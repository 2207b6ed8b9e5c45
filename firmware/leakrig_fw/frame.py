# Telemetry frame codec, shared by the firmware and the host (docs/protocol.md).
# A frame is one text line:  $LR1,<seq>,<kind>,<key>=<value>,...*<crc32>\r\n
# The CRC-32 (zlib polynomial) covers the bytes between '$' and '*'.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

try:
    from binascii import crc32
except ImportError:  # ports built without binascii.crc32
    crc32 = None

PROTOCOL = "LR1"
SEQ_MODULO = const(1073741824)  # 2**30: sequence numbers wrap here
MAX_FRAME = const(512)          # bytes, including '$', '*', CRC and CRLF

KIND_HELLO = "H"
KIND_SAMPLE = "S"
KIND_EVENT = "E"
KIND_REPLY = "R"
KIND_ERROR = "X"
KIND_COMMAND = "C"
KINDS = "HSERXC"

# Characters with a meaning in the frame syntax are written as %XX in values.
_RESERVED_BYTES = b"%,*$=\r\n"
_RESERVED = tuple(bytes((b,)) for b in _RESERVED_BYTES)


class FrameError(ValueError):
    pass


def _crc32_soft(data, crc=0):
    crc = ~crc & 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xEDB88320 if crc & 1 else crc >> 1
    return ~crc & 0xFFFFFFFF


def checksum(body):
    """CRC-32 of the frame body (bytes) as an int."""
    if crc32 is None:
        return _crc32_soft(body)
    return crc32(body) & 0xFFFFFFFF


def _plain(text):
    """True when text needs no escaping (checked with a few whole-string
    searches rather than a loop over its bytes)."""
    raw = text.encode()
    if raw and (min(raw) < 32 or max(raw) > 126):
        return False
    for c in _RESERVED:
        if c in raw:
            return False
    return True


def escape(text):
    """Value text as printable ASCII: bytes outside 0x20..0x7E and the
    frame's own syntax characters become %XX."""
    if _plain(text):
        return text
    raw = text.encode()
    out = []
    for b in raw:
        if b < 32 or b > 126 or b in _RESERVED_BYTES:
            out.append("%%%02X" % b)
        else:
            out.append(chr(b))
    return "".join(out)


def unescape(text):
    if "%" not in text:
        return text
    raw = text.encode()
    out = bytearray()
    i = 0
    n = len(raw)
    while i < n:
        b = raw[i]
        if b == 37:  # '%'
            if i + 3 > n:
                raise FrameError("bad escape")
            try:
                out.append(int(raw[i + 1:i + 3], 16))
            except ValueError:
                raise FrameError("bad escape")
            i += 3
        else:
            out.append(b)
            i += 1
    try:
        return out.decode()
    except UnicodeError:
        # The board escapes whatever bytes it was sent, valid UTF-8 or not.
        return bytes(out).decode("utf-8", "replace")


def seal(body):
    """Whole frame (bytes) from a body (str): '$' + body + '*' + CRC + CRLF."""
    data = body.encode()
    frame = b"$" + data + b"*" + ("%08X" % checksum(data)).encode() + b"\r\n"
    if len(frame) > MAX_FRAME:
        raise FrameError("frame too long: %d bytes" % len(frame))
    return frame


def _put(buf, n, text):
    raw = text.encode()
    end = n + len(raw)
    if end > MAX_FRAME - 11:  # room for '*', the CRC and CRLF
        raise FrameError("frame too long: over %d bytes" % MAX_FRAME)
    buf[n:end] = raw
    return end


def encode_into(buf, seq, kind, fields):
    """Write the whole frame for seq, kind and (key, value) pairs into buf (a
    bytearray of at least MAX_FRAME bytes) and return its length: the bytes
    seal() makes of the body text, built piece by piece. On a board whose
    heap is full of small live objects (every float is one) the largest block
    this asks for is one value's text, never the frame's length."""
    buf[0] = 36  # '$'
    n = _put(buf, 1, PROTOCOL)
    n = _put(buf, n, "," + str(seq % SEQ_MODULO) + "," + kind)
    for key, value in fields:
        if isinstance(value, str):
            value = escape(value)
        elif isinstance(value, float):
            value = repr(value)
        else:
            value = str(value)
        buf[n] = 44  # ','
        n = _put(buf, n + 1, key)
        buf[n] = 61  # '='
        n = _put(buf, n + 1, value)
    end = n + 11
    buf[n:end] = ("*%08X\r\n" % checksum(memoryview(buf)[1:n])).encode()
    return end


def encode(seq, kind, fields):
    buf = bytearray(MAX_FRAME)
    return bytes(buf[:encode_into(buf, seq, kind, fields)])


def decode(line):
    """Parse one frame (bytes, with or without CRLF).

    Returns (seq, kind, fields) with fields a dict of str -> str.
    Raises FrameError for anything that is not a whole, valid frame."""
    if isinstance(line, str):
        line = line.encode()
    if line.endswith(b"\n"):
        line = line[:-1]
    if line.endswith(b"\r"):
        line = line[:-1]
    if len(line) < 15 or line[0] != 36:  # '$'
        raise FrameError("not a frame")
    star = len(line) - 9
    if line[star] != 42:  # '*'
        raise FrameError("no CRC")
    body = line[1:star]
    # Exactly 8 upper-case hex digits: int() alone would also take a space,
    # a sign or a '_' in place of a digit (" 892C49C" reads as "0892C49C").
    for b in line[star + 1:]:
        if not (48 <= b <= 57 or 65 <= b <= 70):  # '0'-'9', 'A'-'F'
            raise FrameError("bad CRC field")
    want = int(line[star + 1:], 16)
    if checksum(body) != want:
        raise FrameError("CRC mismatch")
    try:
        text = body.decode()
    except UnicodeError:
        raise FrameError("not text")
    parts = text.split(",")
    if len(parts) < 3 or parts[0] != PROTOCOL:
        raise FrameError("unknown protocol")
    seq_text = parts[1]
    if not seq_text.isdigit() or len(seq_text) > 10:
        raise FrameError("bad sequence number")
    seq = int(seq_text)
    if seq >= SEQ_MODULO:
        raise FrameError("bad sequence number")
    kind = parts[2]
    if len(kind) != 1 or kind not in KINDS:
        raise FrameError("unknown kind")
    if "%" not in text:
        # No escapes: each field splits at its first '='.
        try:
            fields = dict(part.split("=", 1) for part in parts[3:])
        except (ValueError, TypeError):
            raise FrameError("bad field")
        if "" in fields:
            raise FrameError("bad field")
        return seq, kind, fields
    fields = {}
    for part in parts[3:]:
        eq = part.find("=")
        if eq <= 0:
            raise FrameError("bad field")
        fields[part[:eq]] = unescape(part[eq + 1:])
    return seq, kind, fields


def seq_gap(last, seq):
    """Frames missing between sequence numbers last and seq (0 when seq
    follows last). A jump backwards or by half the range or more is not a
    gap but a restart or a replay, reported as -1."""
    d = (seq - last - 1) % SEQ_MODULO
    if d >= SEQ_MODULO // 2:
        return -1
    return d
