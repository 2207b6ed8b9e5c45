"""`leakrig deploy` against a fresh virtual board: what it says it copied,
that a second deploy copies nothing, and that `mpremote resume fs ls` lists
the deployed firmware."""
import subprocess
import sys

from board_fixture import _answers
from leakrig.deploy import deploy
from leakrig.sim.rig import build_virtual_board


def test_deploy_counts_what_it_copies_and_fs_ls_lists_it():
    vb = build_virtual_board("sim", "nominal")
    vb.start()
    try:
        said = []
        files = deploy(vb.port, "sim", progress=said.append)
        n = len(files)
        assert n > 10
        assert "deploy: %d files for board 'sim' to %s" % (n, vb.port) in said
        assert "deploy: copied %d changed file(s), 0 already there" % n in said
        assert _answers(vb.port), "the firmware does not answer after deploy"

        said = []
        deploy(vb.port, "sim", progress=said.append)
        assert "deploy: copied 0 changed file(s), %d already there" % n in said

        r = subprocess.run([sys.executable, "-m", "mpremote", "connect", vb.port, "resume", "fs", "ls"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        listed = {ln.split()[-1] for ln in r.stdout.splitlines()[1:] if ln.strip()}
        assert {"boot.py", "main.py", "board.json", "leakrig_fw/"} <= listed
        r = subprocess.run([sys.executable, "-m", "mpremote", "connect", vb.port, "resume", "fs", "ls",
                            "leakrig_fw"], capture_output=True, text=True, timeout=60)
        assert {"app.mpy", "detector.mpy", "frame.mpy", "main.mpy"} <= {ln.split()[-1] for ln in r.stdout.splitlines()[1:]}
    finally:
        vb.stop()


def test_deploy_without_board_or_port_asks_the_board(tmp_path):
    """LEAKRIG_PORT names the port; the board's own sys.implementation._machine
    picks the definition (the unix port: `sim`)."""
    import os

    vb = build_virtual_board("sim", "nominal")
    vb.start()
    try:
        env = dict(os.environ, LEAKRIG_PORT=vb.port)
        r = subprocess.run([sys.executable, "-m", "leakrig.cli", "deploy"], capture_output=True, text=True,
                           timeout=300, env=env)
        assert r.returncode == 0, r.stderr
        assert "leakrig deploy: port %s (from LEAKRIG_PORT)" % vb.port in r.stderr
        assert "says it is 'linux" in r.stdout and "board definition 'sim'" in r.stdout
        assert "files verified by SHA-256" in r.stdout
        # with the firmware running, it names its definition (asking it does
        # not interrupt it, so a watchdog on a real board keeps being fed)
        assert _answers(vb.port)
        r = subprocess.run([sys.executable, "-m", "leakrig.cli", "deploy"], capture_output=True, text=True,
                           timeout=300, env=env)
        assert r.returncode == 0, r.stderr
        assert "the firmware on %s runs board definition 'sim'" % vb.port in r.stdout
        r = subprocess.run([sys.executable, "-m", "leakrig.cli", "status", "--timeout", "10"],
                           capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 0, r.stderr
        assert "board        sim" in r.stdout
    finally:
        vb.stop()


def test_a_board_definition_the_firmware_would_refuse_is_not_deployed(tmp_path, monkeypatch):
    """A ring below the firmware's minimum in a board's own config makes the
    firmware fall back to its defaults (a 40 KB ring a pyboard cannot hold):
    stage refuses it with the problem named, before anything is copied."""
    import pytest
    from leakrig import boards, deploy as deploy_mod
    from leakrig.errors import UserError
    good = boards.load("pyboard")
    bad = dict(good, config=dict(good["config"], ring_bytes=512))
    monkeypatch.setattr(deploy_mod.boards, "load", lambda name: bad)
    with pytest.raises(UserError, match="ring_bytes"):
        deploy_mod.stage("pyboard", dest=tmp_path / "out", mpy=False)
    assert not (tmp_path / "out").exists()
