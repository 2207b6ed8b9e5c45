"""Logging a board's telemetry to the store without loss: every frame is
checked, gaps trigger a resend from the board's ring buffer, an unplugged
port is reopened, and the store commits in batches."""
import time

from .errors import LinkError
from .frames import SampleBlock
from .link import BoardLink, repl_advice, repl_state
from .store import Store


SILENT_S = 5.0  # no frame for this long: say so, once per silent spell
BOOT_BACKFILL = 256  # a first frame this close to its boot's start: ask for the boot's start


class Logger:
    def __init__(self, port, out, name=None, notes=None, resend=True, progress=None, warn=None):
        self.port = port
        self.store = Store(out)
        # the port opens before the run is recorded: opening it flushes what
        # the board wrote before, so a stored run means the logger already
        # listens, and a port that cannot open leaves no empty run behind
        try:
            self.link = BoardLink(port)
        except BaseException:
            self.store.close()
            raise
        self.store.start_run(name=name, notes=notes, port=port)
        self.stats = self.link.stats
        self.resend = resend
        self.progress = progress
        self.warn = warn
        self.samples = 0
        self.events = []
        self._wanted = set()  # sequence numbers missing and asked for again
        self.link.reader.on_gap = self._on_gap
        self.first_t = None
        self.last_t = None
        self.resumed_from = None
        # sequence numbers from before the first frame read, asked for; the
        # reader leaves sequence tracking alone for them
        self._backfill = self.link.reader.replays
        self._backfill_until = 0.0
        self.backfilled = 0
        self._early_events = 0
        self._first_seen = False
        if resend:
            self._resume()

    def _resume(self):
        """A logger restarted on the same store and port (after a crash, a
        kill, a reboot of the host) asks the board for what it missed while
        down: the sequence count goes on from the last stored frame, so the
        first frame read shows the gap, backfilled from the ring buffer like
        any other, and at once, before the board writes over it. A board
        that restarted meanwhile sends a hello or lower sequence numbers,
        which are no gap."""
        last = self.store.last_position(self.port)
        if last is None:
            return
        self.link.reader.last_seq = last[0]
        self.resumed_from = last[0]
        self.store.link_event("resume", "after %d" % last[0])

    def _on_gap(self, first, count):
        self.store.link_event("gap", "%d+%d" % (first, count))
        if self.resend:
            self._wanted.update(range(first, first + count))
            try:
                self.link.send_line("resend %d %d" % (first, count))
            except LinkError:
                pass

    def _boot_start(self, f):
        """The first frame read. A logger started soon after the board
        booted (after a deploy, say) asks for the frames it missed since the
        boot, hello included, while the board's ring buffer still holds
        them, so the log holds the whole boot."""
        self._first_seen = True
        if (not self.resend or self.resumed_from is not None or f.kind == "H"
                or not 0 < f.seq <= BOOT_BACKFILL):
            return
        self._backfill.update(range(0, f.seq))
        # what the board does not hold any more is not waited for
        self._backfill_until = time.monotonic() + 2.0
        self.store.link_event("backfill", "0+%d" % f.seq)
        try:
            self.link.send_line("resend 0 %d" % f.seq)
        except LinkError:
            self._end_backfill()

    def _end_backfill(self):
        self._backfill.clear()

    def ingest(self, frames):
        """Handle the frames of one read (as FrameReader.feed returns them)."""
        if frames and not self._first_seen:
            self._boot_start(frames[0])
        block = (SampleBlock.of(frames) if not self._wanted and not self._backfill and self.first_t is not None
                 else None)
        if block is None:
            for f in frames:
                self._handle(f)
            return
        # A block of samples, none of them asked for again: stored at once;
        # only the last one's time matters here.
        self.store.add_block(block, frames)
        self.samples += block.n
        self.last_t = _board_time(frames[-1].value("t", "nan"))

    def _handle(self, f):
        if f.seq in self._wanted:
            self._wanted.discard(f.seq)
            self.stats.recovered += 1
        elif self._backfill and f.seq in self._backfill:
            self._backfilled(f)
            return
        self.store.add_frame(f)
        if f.kind == "S":
            self.samples += 1
            t = _board_time(f.fields.get("t", "nan"))
            if self.first_t is None:
                self.first_t = t
            self.last_t = t
        elif f.kind == "E":
            self.events.append(f.fields)

    def _backfilled(self, f):
        """A frame from before the first one read: stored under the current
        boot (a resent hello names the board, and is no new boot)."""
        self._backfill.discard(f.seq)
        self.backfilled += 1
        if f.kind == "H":
            self.store.on_hello(f, new_boot=False)
            return
        self.store.add_frame(f)
        if f.kind == "S":
            self.samples += 1
            t = _board_time(f.fields.get("t", "nan"))
            if self.first_t is None or t < self.first_t:
                self.first_t = t
        elif f.kind == "E":
            # before every event read live
            self.events.insert(self._early_events, f.fields)
            self._early_events += 1

    def _reconnect(self, deadline):
        self.link.close()
        self.store.link_event("disconnect")
        self.store.commit()
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                reader = self.link.reader
                self.link = BoardLink(self.port)
                self.link.stats = self.stats
                self.link.reader = reader
                reader.on_gap = self._on_gap
                self.stats.reconnects += 1
                self.store.link_event("reconnect")
                return True
            except LinkError:
                continue
        return False

    def _silent(self, seconds):
        """No frame for `seconds`: a link event, and a line for the user that
        says why when the port shows it. An empty line is ignored by the
        firmware, and a board stopped at its REPL answers it with a prompt."""
        try:
            self.link.send_line("")
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                self.ingest(self.link.read_frames())
        except LinkError:
            pass
        state = repl_state(self.link.reader.text_tail)
        if state is not None:
            why = repl_advice(self.port, state)
        else:
            why = "is the firmware running, and sampling? (`leakrig status --port %s`)" % self.port
        self.store.link_event("silent", "%.0f s" % seconds)
        if self.warn:
            self.warn("no frames from %s for %.0f s; %s" % (self.port, seconds, why))

    def run(self, max_samples=None, duration_s=None, board_duration_s=None, reconnect_s=30.0,
            silent_s=SILENT_S):
        """Log until a limit is reached (None: until interrupted)."""
        start = time.monotonic()
        last_progress = 0.0
        last_frame = start
        said_silent = False
        while True:
            if max_samples is not None and self.samples >= max_samples:
                break
            if duration_s is not None and time.monotonic() - start >= duration_s:
                break
            if (board_duration_s is not None and self.first_t is not None and self.last_t is not None
                    and self.last_t - self.first_t >= board_duration_s):
                break
            try:
                frames = self.link.read_frames()
            except LinkError:
                if not self._reconnect(time.monotonic() + reconnect_s):
                    raise
                continue
            self.ingest(frames)
            self.store.maybe_commit()
            now = time.monotonic()
            if self._backfill and now > self._backfill_until:
                self._end_backfill()
            if frames:
                last_frame = now
                said_silent = False
            elif not said_silent and now - last_frame >= silent_s:
                said_silent = True
                self._silent(now - last_frame)
            if self.progress and now - last_progress > 0.5:
                last_progress = now
                self.progress(self)
        self.finish()

    def finish(self):
        # Give outstanding resends time to come back: as long as they keep
        # coming, and 5 s after the last one (a busy host or a slow link
        # takes seconds; with none outstanding this ends at once).
        deadline = time.monotonic() + 5.0
        while (self._wanted or self._backfill) and time.monotonic() < deadline:
            before = len(self._wanted) + len(self._backfill)
            try:
                self.ingest(self.link.read_frames())
            except LinkError:
                break
            if len(self._wanted) + len(self._backfill) < before:
                deadline = time.monotonic() + 5.0
        self.store.end_run(self.summary())

    def close(self):
        self.link.close()
        self.store.close()

    def summary(self):
        s = self.stats
        summary = {"samples": self.samples, "events": len(self.events), "frames": s.frames,
                "gaps": s.gaps, "missing": s.missing, "recovered": s.recovered,
                "lost": len(self._wanted), "crc_errors": s.crc_errors,
                "backfilled": self.backfilled,
                "garbage_bytes": s.garbage_bytes, "boots": s.boots, "reconnects": s.reconnects,
                "board_time_s": (self.last_t - self.first_t) if self.first_t is not None and self.last_t is not None else 0.0,
                "out": self.store.path}
        crashes = [ev for ev in self.events if ev.get("ev") == "crash"]
        summary["crashes"] = len(crashes)
        summary["last_crash"] = crashes[-1].get("msg", "?") if crashes else None
        summary["boot_loop"] = any(ev.get("ev") == "boot_loop" for ev in self.events)
        return summary


def _board_time(text):
    try:
        return float(text)
    except ValueError:
        return None


def format_summary(summary, events=()):
    lines = ["samples      %d over %.1f s of board time" % (summary["samples"], summary["board_time_s"]),
             "gaps         %d (%d frames missing, %d recovered by resend, %d lost)"
             % (summary["gaps"], summary["missing"], summary["recovered"], summary["lost"]),
             "CRC errors   %d" % summary["crc_errors"]]
    # A crash is never only one of the events: it has its line, with the
    # last message, and so has a boot loop (the board stopped autostart).
    if summary.get("crashes"):
        lines.append("crashes      %d (last: %s)" % (summary["crashes"], summary["last_crash"]))
    else:
        lines.append("crashes      0")
    if summary.get("boot_loop"):
        lines.append("boot loop    the board stopped sampling after crashing at every boot: "
                     "fix the cause, then send it `start` (monitor: key s) or reset it")
    lines.append("events       %d" % summary["events"])
    for ev in list(events)[:10]:
        extra = " ".join("%s=%s" % (k, v) for k, v in ev.items() if k not in ("ev", "t"))
        lines.append("  t=%-10s %-16s %s" % (ev.get("t", "?"), ev.get("ev", "?"), extra))
    if summary.get("backfilled"):
        lines.insert(1, "             (%d frames from the boot's start, before logging began, "
                        "read back from the board's ring buffer)" % summary["backfilled"])
    lines.append("log          %s" % summary["out"])
    return "\n".join(lines)
