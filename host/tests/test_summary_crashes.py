"""A crash is never only one line among the events: the run's summary
counts crashes with the last message and names a boot loop."""
from leakrig.logger import format_summary

BASE = {"samples": 10, "board_time_s": 1.0, "gaps": 0, "missing": 0, "recovered": 0, "lost": 0,
        "crc_errors": 0, "events": 0, "out": "x.sqlite"}


def test_summary_counts_crashes_with_the_last_message():
    text = format_summary(dict(BASE, crashes=0, last_crash=None, boot_loop=False))
    assert "crashes      0" in text and "boot loop" not in text
    events = [{"ev": "crash", "t": "0.000", "msg": "MemoryError: first"},
              {"ev": "crash", "t": "0.000", "msg": "RuntimeError: second"},
              {"ev": "boot_loop", "t": "0.000", "boots": "6"}]
    text = format_summary(dict(BASE, events=3, crashes=2, last_crash="RuntimeError: second", boot_loop=True),
                          events)
    assert "crashes      2 (last: RuntimeError: second)" in text
    assert "boot loop    the board stopped sampling" in text
