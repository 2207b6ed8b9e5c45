"""The command parser under garbage: random bytes, overlong lines, NULs,
partial frames, framed commands with bad CRCs and malformed arguments. The
board must answer each bad line with an error frame (or ignore noise), keep
streaming with no gap, and never restart."""
import os

from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from leakrig import fwpath  # noqa: F401
from leakrig_fw import frame

BATCH = 500
BATCHES = int(os.environ.get("LEAKRIG_FUZZ_BATCHES", "20"))  # 20 x 500 = 10,000 inputs

# ^C is the interrupt character of every MicroPython board's console: it
# stops the firmware on purpose (that is how mpremote reaches the REPL), so
# it is not noise to survive.
_noise = st.binary(max_size=80).map(lambda b: b.replace(b"\x03", b"\x00"))
_overlong = st.integers(min_value=161, max_value=1200).map(lambda n: b"A" * n)
_nuls = st.integers(min_value=1, max_value=40).map(lambda n: b"\x00" * n)


@st.composite
def _partial_frames(draw):
    f = frame.encode(draw(st.integers(0, 10 ** 6)), "C", [("cmd", "ping")]).rstrip()
    return f[:draw(st.integers(0, len(f) - 1))]


@st.composite
def _bad_crc_frames(draw):
    f = bytearray(frame.encode(draw(st.integers(0, 10 ** 6)), "C", [("cmd", "status")]).rstrip())
    i = draw(st.integers(len(f) - 8, len(f) - 1))
    f[i] = ord("0") if f[i] != ord("0") else ord("1")
    return bytes(f)


_bad_args = st.sampled_from([
    b"resend", b"resend x", b"resend -4 2", b"resend 1 0", b"config", b"config get nokey",
    b"config set rate_hz fast", b"config set rate_hz -1", b"config set nokey 1",
    b"config set ring_frames 99999999", b"config set rate_hz nan", b"config frob",
    b"status\x00", b"p\xffing", b"PING PONG", b"ping;reset", b"__import__('os')",
    b"config set rig_name " + b"x" * 100])
_inputs = st.one_of(_noise, _overlong, _nuls, _partial_frames(), _bad_crc_frames(), _bad_args)
_endings = st.sampled_from([b"\n", b"\r", b"\r\n"])
_lines = st.tuples(_inputs, _endings).map(lambda t: t[0] + t[1])

SENT = {"inputs": 0, "errors": 0, "batches": 0}


# No shrinking: a failing batch is reported as it was sent; shrinking 500
# lines against a board that may need a 60 s timeout per try takes hours.
@settings(max_examples=BATCHES, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@given(batch=st.lists(_lines, min_size=BATCH, max_size=BATCH))
def _fuzz(dut, batch):
    link = dut.open().link
    boots_before = link.stats.boots
    link.ser.write(b"".join(batch))
    reply = link.command("ping", timeout=60)
    assert reply.kind == "R" and reply.fields["pong"] == "1"
    errors = [f for f in link.backlog if f.kind == "X"]
    link.backlog = []
    SENT["inputs"] += len(batch)
    SENT["errors"] += len(errors)
    SENT["batches"] += 1
    assert link.stats.boots == boots_before, "the board restarted"


def test_fuzz_command_parser(dut, record):
    link = dut.open().link
    dut.samples(5)  # streaming: any reset from before this test is over
    boots_at_start = dut.virtual.boots if dut.virtual else None
    _fuzz(dut)
    stats = link.stats
    record("fuzz_inputs", SENT["inputs"], "lines", low=BATCH * BATCHES)
    record("error_frames", SENT["errors"], "frames", low=1)
    record("sequence_gaps", stats.gaps, "", high=0)
    record("crc_errors_from_board", stats.crc_errors, "", high=0)
    # still streaming, still answering, same VM
    before = len(dut.samples(20))
    assert before == 20
    assert dut.command("status")["state"] == "running"
    if boots_at_start is not None:
        record("vm_restarts", dut.virtual.boots - boots_at_start, "", high=0)
