# The firmware's main loop: sample at a fixed rate on the board clock, run the
# detector on every sample, stream frames, and answer commands between samples.
import gc
import sys
import time
from array import array

try:
    import select
except ImportError:
    select = None

from . import VERSION
from . import config as config_mod
from . import frame

try:
    from .detector import DEFAULTS as DETECTOR_DEFAULTS, Detector, check_params
except ImportError:  # a build without the detector streams raw samples only
    Detector = check_params = None
    DETECTOR_DEFAULTS = {}

# decay start KEY=VALUE...: the keys and the DecayTest parameters they set
_DECAY_KEYS = {"reject": "reject_pa_s", "fill": "fill_s", "stabilise": "stabilise_s",
               "test": "test_s", "vent": "vent_s", "coverage": "coverage",
               "pa_per_k": "pa_per_k", "min_fill": "min_fill_pa"}

_MAX_LINE = 160  # bytes: longer command lines are dropped with an error frame
# Garbage is collected at one known point of the cycle, every few cycles: a
# collection costs about the same however much garbage there is (it marks
# the whole live heap), and a cycle leaves about 1 KB of garbage. The few
# cycles' garbage is kept under 1/32 of the heap, at most 8 cycles, so a
# small heap collects more often and keeps its headroom (see _gc_every).
_GC_MAX_EVERY = 8
_GC_BYTES_PER_CYCLE = 1024


def _gc_every():
    heap = gc.mem_free() + gc.mem_alloc()
    n = heap // 32 // _GC_BYTES_PER_CYCLE
    return 1 if n < 1 else (_GC_MAX_EVERY if n > _GC_MAX_EVERY else n)

Q_MISSING = 8  # quality bit: the sensor gave no value this cycle


class Telemetry:
    """Numbers frames, writes them out and keeps the last ones for resend.

    The kept frames sit back to back in one buffer allocated at start-up
    (ring_bytes), found through an index of ring_frames slots (slot = seq
    modulo ring_frames): the ring's memory is fixed from boot, with no
    object per frame to fragment the heap. A new frame overwrites the oldest
    ones; a frame never wraps around the buffer's end (the tail it would
    not fit in is left unused until the next lap)."""

    def __init__(self, out, ring_frames, ring_bytes):
        self.out = out
        self.seq = 0
        self.buf = bytearray(ring_bytes)
        # Each frame is built in this buffer: the frame path asks the heap
        # for no block the size of a frame (frame.encode_into).
        self._fbuf = bytearray(frame.MAX_FRAME)
        self._fmv = memoryview(self._fbuf)
        self._view = memoryview(self.buf)
        self.slot_seq = array("i", bytes(4 * ring_frames))  # seq held in each slot, -1: none
        for k in range(ring_frames):
            self.slot_seq[k] = -1
        self.slot_off = array("i", bytes(4 * ring_frames))
        self.slot_len = array("H", bytes(2 * ring_frames))
        self.oldest = 0  # seq of the oldest frame held
        self.held = 0    # frames held
        self.wp = 0      # where the next frame goes in buf

    def send(self, kind, fields):
        seq = self.seq
        data = self._fmv[:frame.encode_into(self._fbuf, seq, kind, fields)]
        self.keep(seq, data)
        self.seq = (seq + 1) % frame.SEQ_MODULO
        self.out.write(data)
        return seq

    def _drop_oldest(self):
        self.slot_seq[self.oldest % len(self.slot_seq)] = -1
        self.oldest = (self.oldest + 1) % frame.SEQ_MODULO
        self.held -= 1

    def keep(self, seq, data):
        n = len(data)
        size = len(self.buf)
        slots = len(self.slot_seq)
        if n > size:
            return
        if self.held == slots:
            self._drop_oldest()  # its index slot is the one seq takes
        start = self.wp
        if start + n > size:
            # Wrap: the frames in the unused tail are the oldest; they go first.
            while self.held and self.slot_off[self.oldest % slots] >= start:
                self._drop_oldest()
            start = 0
        end = start + n
        while self.held:
            k = self.oldest % slots
            off = self.slot_off[k]
            if off >= end or off + self.slot_len[k] <= start:
                break
            self._drop_oldest()
        self._view[start:end] = data
        k = seq % slots
        self.slot_seq[k] = seq
        self.slot_off[k] = start
        self.slot_len[k] = n
        if not self.held:
            self.oldest = seq
        self.held += 1
        self.wp = end

    def resend(self, first, count):
        """Write again the held frames first..first+count-1; return how many."""
        sent = 0
        slots = len(self.slot_seq)
        for i in range(min(count, slots)):
            seq = (first + i) % frame.SEQ_MODULO
            k = seq % slots
            if self.slot_seq[k] == seq:
                off = self.slot_off[k]
                self.out.write(self._view[off:off + self.slot_len[k]])
                sent += 1
        return sent


class Commands:
    """Reads command lines without blocking and turns them into calls."""

    def __init__(self, stream):
        self.stream = stream
        self.buf = bytearray()
        self.overflow = False
        self.poller = None
        if select is not None:
            self.poller = select.poll()
            self.poller.register(stream, select.POLLIN)

    def lines(self, limit=512):
        """Complete lines received so far (at most limit bytes read per call)."""
        out = []
        if self.poller is None:
            return out
        for _ in range(limit):
            if not self.poller.poll(0):
                break
            ch = self.stream.read(1)
            if not ch:
                break
            b = ch[0] if isinstance(ch, (bytes, bytearray)) else ord(ch)
            if b in (10, 13):
                if self.overflow:
                    out.append(None)  # marks a line that was too long
                elif self.buf:
                    out.append(bytes(self.buf))
                self.buf = bytearray()
                self.overflow = False
            elif b == 3:
                # ^C: a console that does not turn it into an interrupt by
                # itself hands it over as a byte; it means the same.
                self.buf = bytearray()
                raise KeyboardInterrupt
            elif b < 32 and b != 9:
                pass  # control bytes (a stray ^B or ^D from a REPL tool, NULs) are not text
            elif len(self.buf) >= _MAX_LINE:
                self.overflow = True
            else:
                self.buf.append(b)
        return out


def _fmt_ms(t_ms):
    return "%d.%03d" % (t_ms // 1000, t_ms % 1000)


class App:
    def __init__(self, board, cfg=None, out=None, inp=None):
        self.board = board
        if cfg is None:
            cfg, source = config_mod.load(getattr(board, "definition", {}).get("config"))
        else:
            source = "given"
        self.cfg = cfg
        self.config_source = source
        out = out or getattr(sys.stdout, "buffer", sys.stdout)
        inp = inp or getattr(sys.stdin, "buffer", sys.stdin)
        self.tx = Telemetry(out, cfg["ring_frames"], cfg["ring_bytes"])
        self.commands = Commands(inp)
        self.running = bool(cfg["autostart"])
        self.samples = 0
        self.overruns = 0
        self.t_ms = 0
        self.last_event = ""
        self.mem_low = -1  # least free heap after a cycle's collection, bytes
        self.crashes_in_a_row = 0  # boots before this one that ended in a crash (main.py)
        self.detector = None
        self.decay = None        # a pressure-decay test run (decay start)
        if Detector is not None:
            self.detector = self._make_detector()
        self._period_us = int(1000000 / cfg["rate_hz"])
        self.boot_events = []    # (name, fields) to send after the hello frame
        self.on_settled = None   # (cycles, callback) once the loop has run that long

    def _make_detector(self):
        params = dict(self.cfg.get("detector") or {})
        params.setdefault("min_pressure_pa", self.cfg["min_pressure_pa"])
        if self.cfg["compliance_ml_per_kpa"] > 0:
            params.setdefault("compliance_ml_per_kpa", self.cfg["compliance_ml_per_kpa"])
        try:
            return Detector(**params)
        except (TypeError, ValueError) as exc:
            self.event("config_error", [("msg", "detector: %s" % exc)])
            return Detector()

    # --- output -----------------------------------------------------------
    def event(self, name, fields=()):
        self.last_event = name
        self.tx.send(frame.KIND_EVENT, [("ev", name), ("t", _fmt_ms(self.t_ms))] + list(fields))

    def reply(self, cmd, req_id, fields=()):
        head = [("cmd", cmd)]
        if req_id is not None:
            head.append(("id", req_id))
        self.tx.send(frame.KIND_REPLY, head + list(fields))

    def error(self, code, msg, req_id=None):
        fields = [("err", code), ("msg", msg)]
        if req_id is not None:
            fields.append(("id", req_id))
        self.tx.send(frame.KIND_ERROR, fields)

    def hello(self):
        self.tx.send(frame.KIND_HELLO, [
            ("fw", VERSION), ("board", self.board.name), ("rate", self.cfg["rate_hz"]),
            ("config", self.config_source), ("ring", len(self.tx.slot_seq))])

    # --- sampling ---------------------------------------------------------
    def sample(self):
        """Read every sensor, run the detector, send one sample frame."""
        fields = [("t", _fmt_ms(self.t_ms))]
        quality = 0
        pressure = temperature = None
        for channel in self.board.channels:
            try:
                values = channel.read()
            except OSError as exc:
                channel.failures += 1
                if channel.failures == 1:
                    self.event("sensor_fault", [("sensor", channel.name), ("msg", str(exc))])
                if channel.primary:
                    quality |= Q_MISSING
                continue
            if channel.failures:
                channel.failures = 0
                self.event("sensor_ok", [("sensor", channel.name)])
            q = values[-1]
            for i in range(len(channel.keys)):
                key = channel.keys[i]
                # The detector reads the values as sent, so that replaying
                # the log (leakrig analyze) gives the board's own results.
                if key == "p":
                    text = "%.3f" % (values[i] - self.cfg["zero_offset_pa"])
                    pressure = float(text)
                else:
                    text = "%.3f" % values[i]
                    if key == "T":
                        temperature = float(text)
                fields.append((key, text))
            if channel.primary:
                quality |= q
        if pressure is None or temperature is None:
            quality |= Q_MISSING
        fields.append(("q", quality))
        det = self.detector
        if det is not None:
            ev = det.update_ms(self.t_ms,
                               pressure if pressure is not None else float("nan"),
                               temperature if temperature is not None else float("nan"),
                               quality)
            fields.append(("r", "%.4f" % det.rate_pa_s))
            fields.append(("ur", "%.4f" % det.rate_sigma_pa_s))
            fields.append(("pc", "%.1f" % det.compensated_pa))
            fields.append(("st", det.state))
            while ev:
                extra = [("r", "%.4f" % det.rate_pa_s)]
                if det.rate_ml_min is not None:
                    extra.append(("rml", "%.4f" % det.rate_ml_min))
                if det.time_to_min_s is not None:
                    extra.append(("ttm", "%.0f" % det.time_to_min_s))
                self.event(ev, extra)
                ev = det.pending()
        test = self.decay
        if test is not None and test.phase not in ("idle", "done"):
            ev = test.update_ms(self.t_ms,
                                pressure if pressure is not None else float("nan"),
                                temperature if temperature is not None else float("nan"),
                                quality)
            fields.append(("dc", test.phase))
            if ev is not None:
                self.event("decay_phase", [("phase", ev)])
                if test.verdict is not None and not self._decay_reported:
                    self._decay_reported = True
                    self.event("decay_result", self._decay_fields())
        self.tx.send(frame.KIND_SAMPLE, fields)
        self.samples += 1

    def _decay_fields(self):
        test = self.decay
        return [("verdict", test.verdict or "none"), ("phase", test.phase),
                ("r", "%.4f" % test.rate_pa_s), ("ur", "%.4f" % test.rate_sigma_pa_s),
                ("reject", "%.4f" % test.reject_pa_s), ("reason", test.reason)]

    # --- commands ---------------------------------------------------------
    def handle(self, line):
        """Answer one command line; never raises for bad input."""
        if line is None:
            self.error("too_long", "line longer than %d bytes" % _MAX_LINE)
            return
        req_id = None
        start = line.rfind(b"$")
        if start > 0:
            line = line[start:]  # noise before a frame does not cost the command
        try:
            text = line.decode().strip()
        except UnicodeError:
            self.error("bad_input", "not text")
            return
        if text.startswith("$"):
            try:
                req_id, kind, fields = frame.decode(line)
            except frame.FrameError as exc:
                self.error("bad_frame", str(exc))
                return
            if kind != frame.KIND_COMMAND or "cmd" not in fields:
                self.error("bad_frame", "not a command", req_id)
                return
            text = fields["cmd"]
        words = text.split()
        if not words:
            return
        name = words[0].lower()
        handler = getattr(self, "cmd_" + name, None) if name.isalpha() else None
        if handler is None:
            self.error("unknown_command", name[:32], req_id)
            return
        try:
            handler(words[1:], req_id)
        except (ValueError, TypeError, IndexError, KeyError, config_mod.ConfigError) as exc:
            self.error("bad_argument", "%s: %s" % (name, exc), req_id)
        except MemoryError:
            # A command that needs more heap than is free is refused; the
            # loop, its ring buffer and its detector go on as they were.
            gc.collect()
            self.error("no_memory", "%s: not enough free heap" % name, req_id)

    def cmd_ping(self, args, req_id):
        self.reply("ping", req_id, [("pong", 1)])

    def cmd_status(self, args, req_id):
        fields = [("state", "running" if self.running else "stopped"),
                  ("t", _fmt_ms(self.t_ms)), ("samples", self.samples),
                  ("seq", self.tx.seq), ("overruns", self.overruns),
                  ("rate", self.cfg["rate_hz"]), ("board", self.board.name),
                  ("fw", VERSION), ("last_event", self.last_event),
                  ("crashes", self.crashes_in_a_row),
                  ("mem_free", gc.mem_free()), ("mem_low", self.mem_low),
                  ("mem_total", gc.mem_free() + gc.mem_alloc())]
        det = self.detector
        if det is not None:
            fields += [("det", det.state), ("r", "%.4f" % det.rate_pa_s),
                       ("ur", "%.4f" % det.rate_sigma_pa_s)]
        self.reply("status", req_id, fields)

    def cmd_start(self, args, req_id):
        self.running = True
        self.reply("start", req_id)

    def cmd_stop(self, args, req_id):
        self.running = False
        self.reply("stop", req_id)

    def cmd_resend(self, args, req_id):
        first = int(args[0])
        count = int(args[1]) if len(args) > 1 else 1
        if first < 0 or count < 1:
            raise ValueError("resend FIRST COUNT")
        sent = self.tx.resend(first, count)
        self.reply("resend", req_id, [("first", first), ("sent", sent)])

    def cmd_config(self, args, req_id):
        action = args[0]
        if action == "get":
            keys = args[1:] or sorted(config_mod.SCHEMA)
            out = []
            for k in keys:
                if k.startswith("detector."):
                    name = self._detector_key(k)
                    out.append((k, (self.cfg.get("detector") or {}).get(name, DETECTOR_DEFAULTS[name])))
                elif k not in config_mod.SCHEMA:
                    raise config_mod.ConfigError("unknown key: " + k)
                else:
                    out.append((k, self.cfg[k]))
            self.reply("config", req_id, out)
        elif action == "set":
            key = args[1]
            new = dict(self.cfg)
            if key.startswith("detector."):
                # a detector parameter: checked against the detector's rules;
                # used from the next boot (or `reset`)
                name = self._detector_key(key)
                try:
                    value = float(" ".join(args[2:]))
                    params = dict(new.get("detector") or {})
                    params[name] = value
                    check_params(params)
                except ValueError as exc:
                    raise config_mod.ConfigError("%s: %s" % (key, exc))
                new["detector"] = params
            else:
                value = config_mod.coerce(key, " ".join(args[2:]))
                new[key] = value
            config_mod.save(new)
            self.cfg = new
            if key == "rate_hz":
                self._period_us = int(1000000 / value)
            self.reply("config", req_id, [(key, value), ("saved", 1)])
        else:
            raise ValueError("config get|set")

    @staticmethod
    def _detector_key(key):
        name = key[len("detector."):]
        if name not in DETECTOR_DEFAULTS:
            raise config_mod.ConfigError("unknown key: " + key)
        return name

    def cmd_zero(self, args, req_id):
        """Tare: take the current pressure as the zero offset and save it."""
        if not self.board.channels:
            raise ValueError("no sensors")
        test = self.decay
        if test is not None and test.phase not in ("idle", "done"):
            raise ValueError("a decay test is running")
        values = self.board.pressure_channel().read()
        old = self.cfg["zero_offset_pa"]
        offset = values[0] - (float(args[0]) if args else 0.0)
        config_mod.save(dict(self.cfg, zero_offset_pa=offset))
        self.cfg["zero_offset_pa"] = offset
        # Samples from now on read offset - old lower; the detector's
        # references follow, and the event lets a replay do the same.
        if self.detector is not None:
            self.detector.shift(offset - old)
        self.event("zeroed", [("offset", "%.3f" % offset), ("shift", "%.3f" % (offset - old))])
        self.reply("zero", req_id, [("zero_offset_pa", "%.3f" % offset)])

    def cmd_decay(self, args, req_id):
        """decay start [reject=PA_S fill=S stabilise=S test=S vent=S ...]:
        run a pressure-decay test on the samples from now (the rig's valves
        follow the phase events); decay stop; decay status."""
        if not args or args[0] not in ("start", "stop", "status"):
            raise ValueError("decay start|stop|status")
        if Detector is None:
            raise ValueError("no detector in this build")
        if args[0] == "start":
            params = {}
            for word in args[1:]:
                key, _, value = word.partition("=")
                if key not in _DECAY_KEYS or not value:
                    raise ValueError("decay start takes " + " ".join(k + "=" for k in _DECAY_KEYS))
                params[_DECAY_KEYS[key]] = float(value)
            params.setdefault("min_fill_pa", self.cfg["min_pressure_pa"])
            self.decay = None  # the last run's memory goes before the new one is taken
            gc.collect()
            if self.detector is not None:
                params["guard"] = self.detector  # its fault checks, without a second detector's memory
            from .decay import DecayTest  # loaded on first use: heap only for who tests
            test = DecayTest(**params)
            test.start()
            self.decay = test
            self._decay_reported = False
        elif args[0] == "stop":
            if self.decay is not None and self.decay.phase not in ("idle", "done"):
                self.decay.phase = "idle"
                self.event("decay_phase", [("phase", "stopped")])
        test = self.decay
        if test is None:
            self.reply("decay", req_id, [("phase", "idle"), ("verdict", "none")])
        else:
            self.reply("decay", req_id, self._decay_fields())

    def cmd_reset(self, args, req_id):
        self.reply("reset", req_id)
        self.board.reset()

    # --- loop -------------------------------------------------------------
    def step(self):
        """One cycle: sample if running, then serve commands."""
        if self.running:
            self.sample()
        for line in self.commands.lines():
            self.handle(line)

    def run(self, cycles=-1):
        """Loop for ever (or for `cycles` cycles): each cycle reads the board
        clock, samples, serves commands, feeds the watchdog only after a full
        cycle, collects garbage at this one known point (every few
        cycles), then sleeps until the next sample is due."""
        self.hello()
        if self.config_source == "invalid":
            self.event("config_invalid", [("msg", "using defaults")])
        for name, fields in self.boot_events:
            self.event(name, fields)
        settle_at, on_settled = self.on_settled or (0, None)
        cycle = 0
        gc_every = _gc_every()
        next_us = time.ticks_us()
        last_ms = time.ticks_ms()
        while cycles != 0:
            now_ms = time.ticks_ms()
            self.t_ms += time.ticks_diff(now_ms, last_ms)
            last_ms = now_ms
            self.step()
            self.board.feed_watchdog()
            if cycle % gc_every == 0:
                gc.collect()
                # What a collection leaves is what the firmware holds: the
                # least of it is the high-water mark of its live data.
                free = gc.mem_free()
                if free < self.mem_low or self.mem_low < 0:
                    self.mem_low = free
            next_us = time.ticks_add(next_us, self._period_us)
            wait = time.ticks_diff(next_us, time.ticks_us())
            if wait > 0:
                time.sleep_us(wait)
            elif wait < -self._period_us:
                self.overruns += 1
                next_us = time.ticks_us()
            cycle += 1
            if on_settled is not None and cycle >= settle_at:
                on_settled()
                on_settled = None
            if cycles > 0:
                cycles -= 1
