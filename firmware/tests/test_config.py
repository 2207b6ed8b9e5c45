# Config file handling on the VM: validation, atomic save with backup, and
# falling back to the backup or the defaults.
import os

from leakrig_fw import config


def _clean():
    for name in (config.FILE, config.BACKUP, config.TEMP):
        try:
            os.remove(name)
        except OSError:
            pass


def test_defaults_without_file():
    _clean()
    cfg, source = config.load()
    assert source == "defaults" and cfg == config.defaults()


def test_save_then_load_keeps_previous_as_backup():
    _clean()
    first = config.defaults()
    first["rate_hz"] = 5.0
    config.save(first)
    second = dict(first)
    second["rate_hz"] = 20.0
    config.save(second)
    cfg, source = config.load()
    assert source == "file" and cfg["rate_hz"] == 20.0
    os.remove(config.FILE)
    cfg, source = config.load()
    assert source == "backup" and cfg["rate_hz"] == 5.0


def test_corrupt_file_falls_back_to_backup_then_defaults():
    _clean()
    good = config.defaults()
    good["rate_hz"] = 2.0
    config.save(good)
    config.save(good)
    with open(config.FILE, "w") as f:
        f.write('{"rate_hz": 2.')
    cfg, source = config.load()
    assert source == "backup" and cfg["rate_hz"] == 2.0
    with open(config.BACKUP, "w") as f:
        f.write('{"rate_hz": -1}')
    cfg, source = config.load()
    assert source == "invalid" and cfg == config.defaults()


def test_validation_rejects_bad_values():
    for key, value in (("rate_hz", "fast"), ("rate_hz", 0), ("rate_hz", float("nan")),
                       ("ring_frames", 10 ** 9), ("nokey", 1), ("rig_name", "")):
        try:
            config.coerce(key, value)
        except config.ConfigError:
            continue
        raise AssertionError("accepted %s=%r" % (key, value))
    assert config.coerce("rate_hz", "2.5") == 2.5
    assert config.coerce("autostart", True) == 1


def test_interrupted_save_leaves_old_or_new():
    # A save interrupted after the temp file is written but before the
    # renames leaves the old config in place.
    _clean()
    old = config.defaults()
    old["rate_hz"] = 3.0
    config.save(old)
    with open(config.TEMP, "w") as f:
        f.write('{"rate_hz": 7.0}')
    cfg, _ = config.load()
    assert cfg["rate_hz"] == 3.0
    _clean()


def test_save_after_a_save_cut_short_keeps_the_backup_until_the_new_file():
    # A save cut short after moving the file to the backup leaves only the
    # backup. The next save must not delete it before its own file is in
    # place: at every step one good config is on the filesystem.
    _clean()
    good = config.defaults()
    good["rate_hz"] = 4.0
    config.save(good)
    os.rename(config.FILE, config.BACKUP)  # the cut: file moved, new one never renamed
    steps = []

    def check(name):
        try:
            os.stat(config.FILE)
            steps.append((name, True))
        except OSError:
            try:
                os.stat(config.BACKUP)
                steps.append((name, True))
            except OSError:
                steps.append((name, False))

    class _Spy:  # the os module as config sees it, checking after each change
        stat = staticmethod(os.stat)

        @staticmethod
        def remove(path):
            os.remove(path)
            check("remove " + path)

        @staticmethod
        def rename(a, b):
            os.rename(a, b)
            check("rename %s %s" % (a, b))

    config.os = _Spy
    try:
        newer = dict(good)
        newer["rate_hz"] = 6.0
        config.save(newer)
    finally:
        config.os = os
    assert steps and all(ok for _, ok in steps), steps
    cfg, source = config.load()
    assert source == "file" and cfg["rate_hz"] == 6.0
    _clean()
