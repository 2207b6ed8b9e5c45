"""Checked frames on the host, and the host's fast path for runs of sample
frames.

A board streams sample frames with the same fields in the same order, one
read after another. For the whole lines of one read the host checks them all
at once, with a few calls that each run over all the lines in C: the
byte-level shape of every line and its separators (counts, one translate),
the protocol, kind, sequence number and keys (the layout's regular
expression, compiled once per layout, which also splits out the values the
store needs), every CRC (zlib's crc32, the protocol's CRC-32). The frames of
such a block are light views on it (SampleFrame): their `fields` dict is
built only when asked for, and the store writes a block's rows column by
column.

A read whose lines are not all well-formed samples of one layout (a hello,
an event, a reply, a bad CRC, an escaped value, garbage) takes the general
path, line by line through `leakrig_fw.frame.decode`; the fast path accepts
a line only when that decoder would accept it with the same result."""
import re
from binascii import crc32, unhexlify
from itertools import repeat
from operator import itemgetter
from struct import unpack

from . import fwpath  # noqa: F401  (puts the shared firmware modules on the path)
from leakrig_fw import frame

# A body on the fast path holds only these bytes besides ',' and '=':
# printable ASCII without the escape character and without the characters
# that JSON would escape, so a value is its own text and its own JSON; and
# without '$', which only starts a line.
_PLAIN = bytes(b for b in range(0x20, 0x7F) if b not in b'$,=%"\\')
_MAX_BODY = frame.MAX_FRAME - 11  # '$' + body + '*' + 8 hex digits + CR within MAX_FRAME
_SAMPLE_COLUMNS = ("t", "p", "T", "q", "r", "ur", "st")
_new = tuple.__new__
# A value in the layout's pattern: anything up to the next ','. Possessive
# (Python 3.11): what follows a value is a ',', which the value cannot take,
# so giving characters back never helps and the matcher need not keep track
# of them. The same matches as the greedy form, a quarter faster.
try:
    re.compile(b"a*+")
    _VALUE = b"[^,]*+"
except re.error:
    _VALUE = b"[^,]*"


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
    """The field keys of a sample frame, in order; the pattern that matches
    a line of this layout and splits out what the store needs; and how its
    groups map to stored columns.

    Groups of the pattern: 0 the body, 1 the sequence number, then one per
    field the store keeps in a column of its own (t, p, T, q, r, ur, st) and
    one per run of consecutive other fields ("p2=1,T2=2": they are stored
    together as JSON), then the CRC."""

    def __init__(self, keys):
        self.keys = keys
        self.seps = b"$,," + b",=" * len(keys) + b"\r\n"  # the syntax bytes of a line
        # Segments: a key with a column of its own, or a run of other keys.
        segments = []
        for k in keys:
            if k in _SAMPLE_COLUMNS or not segments or segments[-1][0] in _SAMPLE_COLUMNS:
                segments.append([k])
            else:
                segments[-1].append(k)
        parts = []
        self.group = {}   # key -> group of its value, for keys with a column of their own
        runs = []
        for g, seg in enumerate(segments, 2):
            if seg[0] in _SAMPLE_COLUMNS:
                self.group[seg[0]] = g
                parts.append(b",%s=(%s)" % (seg[0].encode(), _VALUE))
            else:
                runs.append(g)
                parts.append(b",(" + b",".join(b"%s=%s" % (k.encode(), _VALUE) for k in seg) + b")")
        if parts:
            # The last value runs to the '*' before the CRC (it may hold a
            # '*' itself, as the general path's decoder allows).
            parts[-1] = parts[-1][:-len(_VALUE) - 1] + b".*)"
        self.runs = tuple(runs)
        self.crc_group = 2 + len(segments)
        self.pattern = re.compile(b"\\$(" + frame.PROTOCOL.encode() + b",([0-9]{1,10}),"
                                  + frame.KIND_SAMPLE.encode() + b"".join(parts)
                                  + b")\\*([0-9A-F]{8})\r\n")
        # The store's fast row needs every numeric column; 'st' may be absent.
        self.sample_columns = None
        if all(k in self.group for k in _SAMPLE_COLUMNS[:6]):
            self.sample_columns = tuple(self.group.get(k) for k in _SAMPLE_COLUMNS)

    @staticmethod
    def usable(keys):
        return all(map(_identifier, keys)) and len(set(keys)) == len(keys)

    def extra_json(self, columns):
        """The other fields of each frame as the JSON text the store keeps
        (json.dumps of the dict, separators ',' ':'), or None without any.
        Keys are identifiers and values plain text, each its own JSON, so
        "k1=v1,k2=v2" becomes {"k1":"v1","k2":"v2"} by replacing bytes, for
        all the frames at once."""
        if not self.runs:
            return None
        if len(self.runs) == 1:
            texts = columns[self.runs[0]]
        else:
            texts = map(b",".join, zip(*[columns[g] for g in self.runs]))
        text = b"\n".join(texts).replace(b"=", b'":"').replace(b",", b'","').decode("ascii")
        return ('{"' + text.replace("\n", '"}\n{"') + '"}').split("\n")


class SampleBlock:
    """Consecutive sample frames of one read with one layout: per group of
    the layout's pattern, the bytes of every frame."""
    __slots__ = ("layout", "seqs", "columns", "host_utc", "n")

    def __init__(self, layout, seqs, columns, host_utc):
        self.layout = layout
        self.seqs = seqs
        self.columns = columns
        self.host_utc = host_utc
        self.n = len(seqs)

    @property
    def bodies(self):
        return self.columns[0]

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
            # A body of the block has no escapes: each field splits at its
            # first '=', as the general path's decoder splits it.
            d = dict(part.split("=", 1) for part in block.columns[0][i].decode("ascii").split(",")[3:])
            self.__dict__["fields"] = d
        return d

    @property
    def raw(self):
        body = self[0].columns[0][self[1]]
        return b"$%s*%08X\r" % (body, crc32(body))

    def value(self, key, default=None):
        """One field's text without building the fields dict."""
        block, i = self
        g = block.layout.group.get(key)
        if g is not None:
            return block.columns[g][i].decode("ascii")
        return self.fields.get(key, default)

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
        if region[:1] != b"$" or region[-2:] != b"\r\n":
            return None
        # The layout: the keys of the first line.
        end = region.find(b"*", region.find(b"\r") - 9)
        keys = tuple(part.partition(b"=")[0] for part in region[1:end].split(b",")[3:])
        layout = self._layouts.get(keys)
        if layout is None:
            try:
                texts = tuple(k.decode("ascii") for k in keys)
            except UnicodeError:
                return None
            if not Layout.usable(texts) or len(self._layouts) >= 64:
                return None
            layout = Layout(texts)  # kept once a block of it is whole
        # Protocol, sequence number, kind and keys: the lines are matches of
        # the layout's pattern, one after another ('$' body '*' CRC CR LF:
        # 12 bytes besides the body), the whole region.
        matches = layout.pattern.findall(region)
        n = len(matches)
        if not n:
            return None
        columns = list(zip(*matches))
        bodies = columns[0]
        if sum(map(len, bodies)) + 12 * n != len(region) or max(map(len, bodies)) > _MAX_BODY:
            return None
        # Syntax: in every line one '$' (that starts it), the same
        # separators, each field one '=', one CR LF, and nothing else but
        # plain printable ASCII (no escapes, nothing JSON would escape).
        if region.translate(None, _PLAIN) != layout.seps * n:
            return None
        # CRC: each line ends in '*' and the CRC of the bytes between '$'
        # and '*' in 8 upper-case hex digits (the general path's decoder
        # also takes some odd spellings of it: those lines go that way).
        if unpack(">%dI" % n, unhexlify(b"".join(columns[layout.crc_group]))) != tuple(map(crc32, bodies)):
            return None
        seqs = list(map(int, columns[1]))
        if max(seqs) >= frame.SEQ_MODULO:
            return None
        self._layouts[keys] = layout
        return SampleBlock(layout, seqs, columns, host_utc)
