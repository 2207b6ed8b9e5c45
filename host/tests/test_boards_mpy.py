"""Board definitions are sound, every firmware module compiles for every
architecture a board uses, the mip and freeze manifests list the firmware,
and a board runs the compiled firmware."""
import copy
import json
import subprocess
import sys

import pytest

from leakrig import boards
from leakrig.deploy import firmware_sources
from leakrig.fwpath import firmware_dir
from leakrig.mpy import ENTRY_POINTS, build, compile_file, firmware_version, package_json

ARCHS = sorted({boards.load(n)["arch"] for n in boards.names() if boards.load(n)["arch"]})
MODULES = [rel for _, rel in firmware_sources() if rel not in ENTRY_POINTS]


@pytest.mark.parametrize("name", boards.names())
def test_board_definition_is_valid(name):
    assert boards.validate(boards.load(name)) == []


def test_every_issue_board_is_defined():
    assert {"pico", "pico2", "esp32", "pyboard", "sim"} <= set(boards.names())
    assert set(ARCHS) == {"armv6m", "armv7emsp", "xtensawin"}


def _broken(**change):
    d = copy.deepcopy(boards.load("pico"))
    for path, value in change.items():
        node = d
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        if value is None:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return boards.validate(d)


@pytest.mark.parametrize("change, words", [
    ({"sensors__ambient__addr": 118}, "taken by"),                    # two chips at 0x76
    ({"sensors__ambient__addr": 0x50}, "cannot answer"),              # a BMP280 is 0x76/0x77
    ({"sensors__ambient__bus": "i2c9"}, "not defined"),
    ({"sensors__ambient__part": "bme999"}, "unknown part"),
    ({"sensors__loop_temperature__cs": 4}, "already used"),           # cs on the I2C SDA pin
    ({"sensors__loop_temperature__bus": "i2c0"}, "sits on a spi bus"),
    ({"buses__i2c0__scl": None}, "no pin"),
    ({"watchdog_ms": 20000}, "at most 8388"),
    ({"watchdog_ms": 10}, "at least"),
    ({"arch": "z80"}, "unknown arch"),
    ({"outputs__alarm": 25}, "already used"),                         # alarm on the LED pin
])
def test_validate_names_the_problem(change, words):
    problems = _broken(**change)
    assert any(words in p for p in problems), problems


def test_spi_chip_selects_must_differ():
    d = copy.deepcopy(boards.load("pico"))
    d["sensors"]["rtd2"] = dict(d["sensors"]["loop_temperature"], keys=["T3"])
    assert any("chip select 17 on spi0 is taken" in p for p in boards.validate(d))


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("module", MODULES)
def test_firmware_module_compiles(module, arch, tmp_path):
    out = compile_file(firmware_dir() / module, tmp_path / "m.mpy", arch, source_name=module)
    head = out.read_bytes()[:4]
    assert head[0:1] == b"M" and head[1] == 6, head  # .mpy magic, version 6


def test_build_keeps_entry_points_as_source(tmp_path):
    b = build("pico", tmp_path)
    names = {rel for rel, _, _ in b.files}
    assert {"main.py", "boot.py"} <= names
    assert all(n.endswith(".mpy") for n in names - set(ENTRY_POINTS))
    assert 0 < b.mpy_bytes < b.py_bytes


def test_make_mpy_command_builds_every_real_board(tmp_path):
    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "mpy", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for name in ("pico", "pico2", "esp32", "pyboard"):
        assert name in r.stdout and (tmp_path / name / "leakrig_fw" / "app.mpy").exists()
    assert not (tmp_path / "sim").exists()


def test_unknown_board_is_one_line():
    r = subprocess.run([sys.executable, "-m", "leakrig.cli", "mpy", "--board", "nope"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "unknown board 'nope'" in r.stderr and "Traceback" not in r.stderr


def test_package_json_lists_every_module():
    committed = json.loads((firmware_dir() / "package.json").read_text())
    assert committed == package_json(), "firmware/package.json is out of date: run `make mpy`"


def test_manifest_and_package_carry_the_firmware_version():
    text = (firmware_dir() / "manifest.py").read_text()
    assert 'version="%s"' % firmware_version() in text
    assert 'package("leakrig_fw")' in text and 'module("main.py")' in text


def test_virtual_board_runs_the_compiled_firmware():
    from board_fixture import start_board

    vb = start_board(mpy=True)
    try:
        fw = vb.flash_dir / "leakrig_fw"
        assert (fw / "app.mpy").exists() and not (fw / "app.py").exists()
        assert (vb.flash_dir / "main.py").exists()
    finally:
        vb.stop()
