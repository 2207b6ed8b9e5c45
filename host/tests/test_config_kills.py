"""Config saves survive a power cut at any point: the VM saves config after
config in a loop and is killed (SIGKILL) at random moments; every time, the
config then loads as the one being saved or the one before it, never a
corrupt one and never the defaults."""
import os
import random
import subprocess
import time

from leakrig import fwpath
from leakrig.sim.vmenv import vm_command
from leakrig_fw import config

KILLS = int(os.environ.get("LEAKRIG_CONFIG_KILLS", "200"))

SAVER = """
import sys
from leakrig_fw import config
cfg = config.defaults()
k = %d
while True:
    k += 1
    cfg["ring_frames"] = 16 + k
    cfg["rig_name"] = "rig%%d" %% k
    sys.stdout.write("saving %%d\\n" %% k)
    config.save(cfg)
"""


def test_config_survives_random_kills(tmp_path, record_property):
    rng = random.Random(1)
    env = dict(os.environ, MICROPYPATH=str(fwpath.firmware_dir()) + ":.frozen")
    cwd = os.getcwd()
    # A config on the board before the first kill: the first save can be
    # killed before it writes anything, and then this one must load.
    os.chdir(tmp_path)
    try:
        config.save(dict(config.defaults(), ring_frames=16, rig_name="rig0"))
    finally:
        os.chdir(cwd)
    last = 0
    outcomes = {"file": 0, "backup": 0}
    for i in range(KILLS):
        proc = subprocess.Popen(vm_command(boot=False) + ["-c", SAVER % last], cwd=tmp_path,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        first = proc.stdout.readline()
        assert first.startswith(b"saving"), first
        time.sleep(rng.uniform(0.0, 0.03))
        proc.kill()
        out = first + proc.stdout.read()
        proc.wait()
        said = [int(ln.split()[1]) for ln in out.decode(errors="replace").splitlines()
                if ln.startswith("saving ") and ln.split()[1].isdigit()]
        being_saved = said[-1]
        os.chdir(tmp_path)
        try:
            cfg, source = config.load()
        finally:
            os.chdir(cwd)
        assert source in ("file", "backup"), "kill %d: config came up as %s; files %s; VM said %r" % (
            i, source, sorted(os.listdir(tmp_path)), out[-200:])
        k = cfg["ring_frames"] - 16
        assert k in (being_saved, being_saved - 1), \
            "kill %d: loaded config %d while saving %d" % (i, k, being_saved)
        assert cfg["rig_name"] == "rig%d" % k
        outcomes[source] += 1
        last = k
    record_property("config_kills", KILLS)
    record_property("booted_from_backup", outcomes["backup"])
