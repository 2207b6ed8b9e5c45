"""Checked frames on the host, and the host's fast path for runs of sample
frames.

A board streams sample frames with the same fields in the same order, one
read after another. For the whole lines of one read the host checks them all
at once: the byte-level shape of every line, every CRC (zlib's crc32, the
protocol's CRC-32), the field syntax, the protocol, kind and sequence
numbers, with a few calls that each run over all the lines in C, and splits
the values into one column per field. The frames of such a block are light
views on it (SampleFrame): their `fields` dict is built only when asked for,
and the store writes a block's rows column by column.

A read whose lines are not all well-formed samples of one layout (a hello,
an event, a reply, a bad CRC, an escaped value, garbage) takes the general
path, line by line through `leakrig_fw.frame.decode`; the fast path accepts
a line only when that decoder would accept it with the same result."""
from binascii import crc32, unhexlify
from itertools import repeat
from operator import itemgetter
from struct import unpack

from . import fwpath  # noqa: F401  (puts the shared firmware modules on the path)
from leakrig_fw import frame

# A body on the fast path holds only these bytes besides ',' and '=':
# printable ASCII without the escape character and without the characters
# that JSON would escape, so a value is its own text and its own JSON.
_PLAIN = bytes(b for b in range(0x20, 0x7F) if b not in b',=%"\\')
_MAX_BODY = frame.MAX_FRAME - 11  # '$' + body + '*' + 8 hex digits + CR within MAX_FRAME
_HEX = b"0123456789ABCDEF"
_SAMPLE_COLUMNS = ("t", "p", "T", "q", "r", "ur", "st")
_new = tuple.__new__


class Frame:
    __slots__ = ("seq", "kind", "fields", "raw", "host_utc")

    def __init__(self, seq, kind, fields, raw, host_utc):
        self.seq = seq
        self.kind = kind
        self.fields = fields
        self.raw = raw
        self.host_utc = host_utc

    def __repr__(self):
        return "Frame(%r, %r, %r)" % (self.seq, self.kind, self.fields)


def _identifier(key):
    return key.isidentifier() and key.isascii()


class Layout:
    """The field keys of a sample frame, in order, and what the store needs
    to turn its values into a row: the column of each stored field and the
    JSON template for the others."""

    def __init__(self, keys):
        self.keys = keys
        index = {k: i for i, k in enumerate(keys)}
        self.index = index
        # The store's fast row needs every numeric column; 'st' may be absent.
        self.sample_columns = None
        if all(k in index for k in _SAMPLE_COLUMNS[:6]):
            self.sample_columns = tuple(index.get(k) for k in _SAMPLE_COLUMNS)
        extra = [k for k in keys if k not in _SAMPLE_COLUMNS]
        self.extra_columns = tuple(index[k] for k in extra)
        # Keys are identifiers and values plain text: json.dumps of the
        # dict of extra fields (separators ',' ':') is this template.
        self.extra_json = "{" + ",".join('"%s":"%%s"' % k for k in extra) + "}" if extra else None

    @staticmethod
    def usable(keys):
        return all(map(_identifier, keys)) and len(set(keys)) == len(keys)


class SampleBlock:
    """Consecutive sample frames of one read with one layout, as columns."""
    __slots__ = ("layout", "seqs", "columns", "bodies", "host_utc", "n")

    def __init__(self, layout, seqs, columns, bodies, host_utc):
        self.layout = layout
        self.seqs = seqs
        self.columns = columns
        self.bodies = bodies
        self.host_utc = host_utc
        self.n = len(seqs)

    def frames(self):
        return list(map(_new, repeat(SampleFrame), zip(repeat(self), range(self.n))))

    @staticmethod
    def of(frames):
        """The block when `frames` is exactly all of one block's frames, in
        order; otherwise None."""
        if not frames:
            return None
        first = frames[0]
        if type(first) is not SampleFrame:
            return None
        block = first[0]
        if len(frames) != block.n or frames[-1][0] is not block:
            return None
        if list(map(type, frames)).count(SampleFrame) != block.n:
            return None
        if list(map(_block_of, frames)).count(block) != block.n:
            return None
        if list(map(_position, frames)) != list(range(block.n)):
            return None
        return block


_block_of = itemgetter(0)
_position = itemgetter(1)


class SampleFrame(tuple):
    """One sample frame of a SampleBlock: the attributes of a Frame
    (seq, kind, fields, raw, host_utc), the fields dict made on first use."""

    kind = frame.KIND_SAMPLE

    @property
    def seq(self):
        return self[0].seqs[self[1]]

    @property
    def host_utc(self):
        return self[0].host_utc

    @property
    def fields(self):
        d = self.__dict__.get("fields")
        if d is None:
            block, i = self
            d = dict(zip(block.layout.keys, [col[i] for col in block.columns]))
            self.__dict__["fields"] = d
        return d

    @property
    def raw(self):
        body = self[0].bodies[self[1]]
        return b"$%s*%08X\r" % (body, crc32(body))

    def value(self, key, default=None):
        """One field's text without building the fields dict."""
        block, i = self
        j = block.layout.index.get(key)
        return default if j is None else block.columns[j][i]

    def __repr__(self):
        return "Frame(%r, %r, %r)" % (self.seq, self.kind, self.fields)

    # Frames compare by identity, as Frame objects do.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__


class SampleParser:
    """Parses whole lines of samples into a SampleBlock when every line is a
    valid sample frame of one layout; returns None otherwise."""

    def __init__(self):
        self._layouts = {}

    def parse(self, region, host_utc):
        """region: bytes of whole lines (ends with LF), starting outside a
        frame. Returns a SampleBlock of all its lines, or None."""
        # Every line starts with '$', holds no other '$' and no other LF,
        # and ends with CR LF.
        if region[:1] != b"$" or region[-2:] != b"\r\n":
            return None
        lines = region[1:-2].split(b"\r\n$")
        n = len(lines)
        if region.count(b"$") != n or region.count(b"\n") != n:
            return None
        bodies, stars, crcs = zip(*map(bytes.rpartition, lines, repeat(b"*")))
        # CRC: each line ends in '*' and the CRC of the bytes between '$'
        # and '*' in 8 upper-case hex digits (the general path's decoder
        # also takes some odd spellings of it: those lines go that way).
        if stars.count(b"*") != n:
            return None
        hexes = b"".join(crcs)
        if len(hexes) != 8 * n or max(map(len, crcs)) != 8 or hexes.translate(None, _HEX):
            return None  # not 8 upper-case hex digits each
        if unpack(">%dI" % n, unhexlify(hexes)) != tuple(map(crc32, bodies)):
            return None
        if max(map(len, bodies)) > _MAX_BODY:
            return None
        # Syntax: the same separators in every body, each field one '=',
        # and nothing else but plain printable ASCII.
        seps = bodies[0].translate(None, _PLAIN)
        fields = seps.count(b"=")
        if seps != b",," + b",=" * fields:
            return None
        if b"".join(bodies).translate(None, _PLAIN) != seps * n:
            return None
        flat = b",".join(bodies).decode("ascii").replace("=", ",").split(",")
        stride = 3 + 2 * fields
        if (flat[0::stride].count(frame.PROTOCOL) != n
                or flat[2::stride].count(frame.KIND_SAMPLE) != n):
            return None
        keys = tuple(flat[3:stride:2])
        layout = self._layouts.get(keys)
        if layout is None:
            if not Layout.usable(keys) or len(self._layouts) >= 64:
                return None
            layout = self._layouts[keys] = Layout(keys)
        for j, key in enumerate(keys):
            if flat[3 + 2 * j::stride].count(key) != n:
                return None
        seq_text = flat[1::stride]
        if (not "".join(seq_text).isdigit() or min(map(len, seq_text)) < 1
                or max(map(len, seq_text)) > 10):
            return None
        seqs = list(map(int, seq_text))
        if max(seqs) >= frame.SEQ_MODULO:
            return None
        columns = [flat[4 + 2 * j::stride] for j in range(fields)]
        return SampleBlock(layout, seqs, columns, bodies, host_utc)
