"""leakrig export --serial-studio: a project whose datasets match the sample
fields, and whose parser logic picks the right value for each index."""
import json
import subprocess
import sys

from leakrig.serialstudio import DEFAULT_KEYS, project
from synthetic_log import write_log


def leakrig(*args):
    return subprocess.run([sys.executable, "-m", "leakrig.cli"] + list(args),
                          capture_output=True, text=True, timeout=60)


def test_project_from_a_log_and_csv_still_works(tmp_path):
    log = tmp_path / "run.sqlite"
    write_log(log, hours=0.05, dt=1.0)
    out, csv_path = tmp_path / "rig.json", tmp_path / "run.csv"
    r = leakrig("export", str(log), "--serial-studio", str(out), "--csv", str(csv_path))
    assert r.returncode == 0, r.stderr
    proj = json.loads(out.read_text())
    assert (proj["frameStart"], proj["frameEnd"], proj["decoder"], proj["frameDetection"]) == ("$", "*", 0, 1)
    assert "function parse(frame)" in proj["frameParser"]
    datasets = {d["title"]: d for g in proj["groups"] for d in g["datasets"]}
    assert {"Loop pressure", "Loop temperature", "Leak rate", "Compensated pressure",
            "Ambient temperature"} <= set(datasets)
    # The parser's key list and the dataset indexes agree.
    keys = json.loads(proj["frameParser"].split("var KEYS = ")[1].split(";")[0])
    assert keys[datasets["Loop pressure"]["index"] - 1] == "p"
    assert keys[datasets["Leak rate"]["index"] - 1] == "r"
    assert sorted(d["index"] for d in datasets.values()) == list(range(1, len(keys) + 1))
    assert {a["txData"] for a in proj["actions"]} == {"start", "stop", "status"}
    assert csv_path.read_text().startswith("t_s,pressure_pa")


def test_default_project_and_missing_choice(tmp_path):
    assert len([d for g in project()["groups"] for d in g["datasets"]]) == len(DEFAULT_KEYS)
    write_log(tmp_path / "a.sqlite", hours=0.01, dt=1.0)
    r = leakrig("export", str(tmp_path / "a.sqlite"))
    assert r.returncode == 2 and "--serial-studio" in r.stderr


def test_parser_runs_on_a_real_frame(tmp_path):
    """The JavaScript parser, run by node when this host has it, on the text
    Serial Studio hands it for a frame the firmware codec wrote."""
    import shutil

    import pytest
    from leakrig_fw import frame

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the parser's JavaScript is not run")
    keys = list(DEFAULT_KEYS) + ["Ta"]
    line = frame.encode(41, "S", [("t", "12.300"), ("p", "301234.5"), ("T", "20.125"), ("q", 0),
                                  ("r", "-0.0123"), ("ur", "0.0040"), ("st", "ok"), ("Ta", "21.5")])
    body = line.decode().split("$", 1)[1].split("*", 1)[0]
    script = tmp_path / "p.js"
    script.write_text(project(keys)["frameParser"] +
                      "\nconsole.log(JSON.stringify([parse(%s), parse('LR1,3,E,ev=x')]));\n" % json.dumps(body))
    out = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=30)
    values, other = json.loads(out.stdout)
    assert values == ["12.300", "301234.5", "20.125", "0", "-0.0123", "0.0040", "ok", "21.5"]
    assert other == []
