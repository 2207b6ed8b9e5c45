# The app's command handling and telemetry on the VM, with a board that has
# no sensors and in-memory streams (the loop itself runs in the HIL tests).
import io

from leakrig_fw import frame
from leakrig_fw.app import App


class _Board:
    name = "bench"
    channels = []

    def feed_watchdog(self):
        pass


def _cfg(**kw):
    from leakrig_fw import config
    c = config.defaults()
    c.update(kw)
    return c


def _frames(out):
    lines = out.getvalue().split(b"\r\n")
    return [frame.decode(ln) for ln in lines if ln]


def _app():
    out = io.BytesIO()
    app = App(_Board(), cfg=_cfg(autostart=0), out=out, inp=io.BytesIO())
    return app, out


def test_ping_plain_and_framed():
    app, out = _app()
    app.handle(b"ping")
    app.handle(frame.encode(9, "C", [("cmd", "ping")]).strip())
    replies = _frames(out)
    assert replies[0][1] == "R" and replies[0][2]["cmd"] == "ping"
    assert replies[1][2]["id"] == "9"


def test_unknown_and_malformed_get_error_frames():
    app, out = _app()
    for bad in (b"frobnicate", b"resend x", b"config set rate_hz -5", b"config get nokey",
                b"$LR1,1,C,cmd=ping*00000000", b"\xff\xfe", None, b"config"):
        app.handle(bad)
    got = _frames(out)
    assert len(got) == 8, got
    for seq, kind, fields in got:
        assert kind == "X", (kind, fields)
    codes = [f["err"] for _, _, f in got]
    assert codes == ["unknown_command", "bad_argument", "bad_argument", "bad_argument",
                     "bad_frame", "bad_input", "too_long", "bad_argument"], codes


def test_sequence_numbers_count_up():
    app, out = _app()
    for _ in range(5):
        app.handle(b"ping")
    assert [s for s, _, _ in _frames(out)] == [0, 1, 2, 3, 4]


def test_resend_replays_held_frames_only():
    app, out = _app()
    for _ in range(20):
        app.handle(b"ping")
    out = io.BytesIO()
    app.tx.out = out
    app.handle(b"resend 5 3")
    got = _frames(out)
    assert [s for s, _, _ in got[:3]] == [5, 6, 7]
    assert got[3][2]["sent"] == "3"


class _Sink:
    """An output that keeps nothing (a long run must not fill the heap)."""

    def write(self, data):
        return len(data)


def _ring_check(ring_frames, ring_bytes, sizes):
    """Frames of the given sizes through a Telemetry ring; every frame the
    ring says it holds comes back byte for byte, and the newest ones are
    held as far as the buffer and the index allow."""
    from leakrig_fw.app import Telemetry

    def sent(seq):  # what send() wrote for seq (made again: a small heap keeps no copies)
        return frame.encode(seq, "S", [("pad", "x" * sizes[seq])])

    tx = Telemetry(_Sink(), ring_frames, ring_bytes)
    for i in range(len(sizes)):
        tx.send("S", [("pad", "x" * sizes[i])])
    held = 0
    for seq in range(len(sizes)):
        out = io.BytesIO()
        tx.out = out
        if tx.resend(seq, 1):
            assert out.getvalue() == sent(seq), seq
            held += 1
    assert held == tx.held
    # the newest frames are held without a hole, back to the oldest held
    assert tx.oldest == len(sizes) - held
    room = 0
    seq = len(sizes) - 1
    while seq >= 0 and len(sent(seq)) + room <= ring_bytes // 2:
        room += len(sent(seq))
        seq -= 1
    assert held >= min(ring_frames, len(sizes) - 1 - seq), (held, seq)
    return held


def test_ring_holds_frames_in_one_buffer():
    from leakrig_fw.app import Telemetry
    # the index is the limit
    assert _ring_check(16, 8192, [20] * 100) == 16
    # the buffer is the limit, frames of mixed sizes, many wraps
    sizes = [(i * 37) % 150 for i in range(500)]
    held = _ring_check(64, 2048, sizes)
    assert 5 < held < 64
    # a frame larger than the whole buffer is sent but not held
    tx = Telemetry(io.BytesIO(), 16, 64)
    tx.send("S", [("pad", "x" * 100)])
    assert tx.held == 0 and tx.resend(0, 1) == 0
    tx.send("S", [("a", 1)])
    assert tx.held == 1 and tx.resend(1, 1) == 1


def test_start_stop_status():
    app, out = _app()
    app.handle(b"start")
    assert app.running
    app.handle(b"stop")
    assert not app.running
    app.handle(b"status")
    status = _frames(out)[-1][2]
    assert status["state"] == "stopped" and status["board"] == "bench"


def test_sample_without_sensors_flags_quality():
    app, out = _app()
    app.sample()
    seq, kind, fields = _frames(out)[-1]
    assert kind == "S" and int(fields["q"]) != 0


def test_invalid_utf8_input_gives_printable_error_frame():
    app, out = _app()
    app.handle(b"\xc1\x92")
    app.handle(b"n\xe0\x90\xa8^o")
    data = out.getvalue()
    for b in data:
        assert b in (10, 13) or 32 <= b < 127, data
    assert len(_frames(out)) == 2


def test_noise_before_a_command_does_not_cost_it():
    # mpremote leaves "\r\x02" behind when it lets go of a board; line noise
    # can put anything before a frame. The frame's request id still comes back.
    app, out = _app()
    ping = frame.encode(7, "C", [("cmd", "ping")]).strip()
    app.handle(b"garbage" + ping)
    app.handle(b"\x02" + ping)
    got = _frames(out)
    assert [(k, f.get("id")) for _, k, f in got] == [("R", "7"), ("R", "7")], got


def test_control_bytes_are_dropped_from_command_lines():
    from leakrig_fw.app import Commands
    ping = frame.encode(5, "C", [("cmd", "ping")])
    with open("_cmd_input.bin", "wb") as f:
        f.write(b"\r\x02" + ping + b"\x00st\x04atus\n")
    try:
        with open("_cmd_input.bin", "rb") as f:
            lines = Commands(f).lines()
    finally:
        import os
        os.remove("_cmd_input.bin")
    assert lines == [ping.strip(), b"status"], lines


def test_ctrl_c_byte_interrupts_like_a_console():
    from leakrig_fw.app import Commands
    with open("_cmd_input.bin", "wb") as f:
        f.write(b"status\n\r\x03\r\x01")
    try:
        with open("_cmd_input.bin", "rb") as f:
            c = Commands(f)
            try:
                c.lines()
            except KeyboardInterrupt:
                rest = f.read()
            else:
                rest = None
    finally:
        import os
        os.remove("_cmd_input.bin")
    assert rest == b"\r\x01", rest  # what follows the ^C is left for the REPL


class _Channel:
    name = "loop"
    keys = ("p", "T")
    primary = True
    failures = 0

    def __init__(self, rate_pa_s):
        self.rate = rate_pa_s
        self.t = 0.0
        self.n = 0

    def read(self):
        self.n += 1
        wobble = (5.0, -3.0, 1.0, -4.0, 2.0)[self.n % 5]  # bounded, repeatable noise
        return (300000.0 + self.rate * self.t + wobble, 20.0, 0)


class _EventSink:
    """Keeps only event and reply frames: hundreds of samples would not fit
    in the test VM's heap as one growing buffer."""

    def __init__(self):
        self.kept = []

    def write(self, data):
        data = bytes(data)  # the firmware writes a buffer (a memoryview)
        if data[frame_kind_at(data)] in b"ER":
            self.kept.append(data)
        return len(data)

    def getvalue(self):
        return b"".join(self.kept)


def frame_kind_at(data):
    # $LR1,<seq>,<kind>: the kind follows the second comma
    return data.find(b",", 5) + 1


def _decay_run(rate_pa_s):
    ch = _Channel(rate_pa_s)
    board = _Board()
    board.channels = [ch]
    out = _EventSink()
    app = App(board, cfg=_cfg(autostart=0), out=out, inp=io.BytesIO())
    app.handle(b"decay start reject=2 fill=1 stabilise=2 test=20 vent=1")
    for i in range(300):
        ch.t = i * 0.1
        app.t_ms = i * 100
        app.sample()
    app.handle(b"decay status")
    got = _frames(out)
    events = [f for _, k, f in got if k == "E"]
    phases = [e["phase"] for e in events if e["ev"] == "decay_phase"]
    results = [e for e in events if e["ev"] == "decay_result"]
    status = [f for _, k, f in got if k == "R" and f["cmd"] == "decay"][-1]
    return phases, results, status


def test_decay_test_through_commands_passes_a_good_part_and_fails_a_leak():
    phases, results, status = _decay_run(-0.1)
    assert phases == ["stabilise", "test", "vent", "done"], phases
    assert len(results) == 1 and results[0]["verdict"] == "PASS", results
    assert status["verdict"] == "PASS" and status["phase"] == "done"
    phases, results, status = _decay_run(-10.0)
    assert results[0]["verdict"] == "FAIL", results
    assert abs(float(results[0]["r"]) + 10.0) < 0.5, results


def test_decay_command_rejects_bad_arguments():
    app, out = _app()
    for bad in (b"decay", b"decay go", b"decay start reject=", b"decay start frob=1",
                b"decay start reject=-1"):
        app.handle(bad)
    got = _frames(out)
    assert [f["err"] for _, k, f in got] == ["bad_argument"] * 5, got


def test_detector_parameter_set_checked_saved_and_read_back():
    import os
    from leakrig_fw import config
    app, out = _app()
    app.handle(b"config get detector.learn_s")
    app.handle(b"config set detector.learn_s 1200")
    app.handle(b"config get detector.learn_s detector.arl0_h")
    for bad in (b"config set detector.nokey 1", b"config set detector.learn_s -5",
                b"config set detector.learn_s abc", b"config get detector.nokey"):
        app.handle(bad)
    got = _frames(out)
    assert float(got[0][2]["detector.learn_s"]) == 7200.0
    assert got[1][2]["saved"] == "1"
    assert float(got[2][2]["detector.learn_s"]) == 1200.0
    assert float(got[2][2]["detector.arl0_h"]) == 1000.0
    assert [f.get("err") for _, _, f in got[3:]] == ["bad_argument"] * 4, got[3:]
    saved, source = config.load()
    assert source == "file" and saved["detector"] == {"learn_s": 1200.0}
    for name in (config.FILE, config.BACKUP):
        try:
            os.remove(name)
        except OSError:
            pass


class _Tally:
    def __init__(self):
        self.bytes = 0

    def write(self, data):
        self.bytes += len(data)
        return len(data)


def test_a_long_frame_goes_out_when_the_free_heap_is_in_small_pieces():
    # On a board every float is a small heap object, and the detector's live
    # ones lie all over the heap: after a collection the free heap can be
    # many kilobytes in pieces of a few blocks. A frame must go out then.
    import gc
    from leakrig_fw.app import Telemetry
    fields = [("k%02d" % i, "v%019d" % i) for i in range(18)]  # about 480 bytes
    tally = _Tally()
    tx = Telemetry(tally, 8, 2048)
    gc.collect()
    chain = None
    try:
        while True:
            chain = [chain, bytearray(40)]
    except MemoryError:
        pass
    node, n = chain, 0
    while node is not None:  # free every other filler: holes of one filler each
        if n % 2:
            node[1] = None
        node, n = node[0], n + 1
    gc.collect()
    try:
        seq = tx.send("R", fields)
        sent = tally.bytes
    finally:
        chain = node = None
        gc.collect()
    assert n > 1000 and sent > 400, (n, sent)
    out = io.BytesIO()
    tx.out = out
    assert tx.resend(seq, 1) == 1
    got = frame.decode(out.getvalue())
    assert got[1] == "R" and [(k, got[2][k]) for k, v in fields] == fields
