"""Scenarios: TOML files describing the rig (loop geometry and fluid,
temperature profile, leaks, ambient), the sensor and link faults, the seed
and the duration. Format: docs/simulator.md, "Scenarios"."""
import os
from pathlib import Path

from . import faults, physics, profiles
from .tables import Table

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

BUNDLED_DIR = Path(__file__).parent / "scenarios"
SEARCH_PATH_ENV = "LEAKRIG_SCENARIO_PATH"

PROFILE_KINDS = ("constant", "ramp", "settle", "sine", "orbital", "recorded")
LEAK_KINDS = ("rate", "orifice")


class Scenario:
    """A parsed scenario. build_model() gives a fresh LoopModel at t = 0;
    sensor_faults ({role: faults.SensorFaultSpec}) and link_faults
    (faults.LinkFaultSpec or None) are what faults.py applies."""

    def __init__(self, name, path, description, seed, duration_s, model_kwargs, sensor_faults,
                 link_faults, recording=None):
        self.name = name
        # A logged run the chips play back (recording.ReplaySpec), or None.
        self.recording = recording
        self.path = path
        self.description = description
        self.seed = seed
        self.duration_s = duration_s
        self.model_kwargs = model_kwargs
        self.sensor_faults = sensor_faults
        self.link_faults = link_faults

    def build_model(self):
        kw = dict(self.model_kwargs)
        kw["temperature"] = kw["temperature"]()
        kw["leaks"] = [make() for make in kw["leaks"]]
        return physics.LoopModel(**kw)

    def faults_for(self, role):
        """The SensorFaultSpec of a sensor role, or None."""
        return self.sensor_faults.get(role)

    def __repr__(self):
        return "Scenario({!r}, {})".format(self.name, self.path)


def scenario_dirs():
    """Folders searched for a scenario name: $LEAKRIG_SCENARIO_PATH, then the bundled ones."""
    dirs = [Path(p) for p in os.environ.get(SEARCH_PATH_ENV, "").split(os.pathsep) if p]
    return dirs + [BUNDLED_DIR]


def list_scenarios():
    """Names of the scenarios found in scenario_dirs(), sorted."""
    names = set()
    for d in scenario_dirs():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def find_scenario(name_or_path):
    """Path of a scenario given by name (searched) or by file path."""
    text = str(name_or_path)
    if text.endswith(".toml") or os.sep in text or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise ValueError("No such scenario file: {}".format(text))
        return path
    for d in scenario_dirs():
        path = d / (text + ".toml")
        if path.is_file():
            return path
    raise ValueError("Unknown scenario {!r} (known: {})".format(text, ", ".join(list_scenarios())))


def load_scenario(name_or_path):
    """A Scenario from a bundled name or a .toml path. A malformed file
    raises ValueError naming the file and the key."""
    path = find_scenario(name_or_path)
    where = str(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError("{}: not valid TOML: {}".format(where, exc)) from None
    return parse_scenario(data, where, path)


def parse_scenario(data, where, path=None):
    top = Table(data, where)
    base_dir = Path(path).parent if path is not None else Path(".")
    name = top.string("name", Path(path).stem if path is not None else "scenario")
    description = top.string("description", "")
    seed = top.integer("seed", 0)
    duration_s = top.number("duration_s", None, low=0.0, low_open=True)

    loop = top.table("loop", {})
    model_kwargs = _loop_kwargs(loop)
    fluid = top.table("fluid", {})
    model_kwargs["fluid"] = _fluid(fluid)
    ambient = top.table("ambient", {})
    model_kwargs["ambient_pressure_pa"] = ambient.number("pressure_pa", physics.P_ATM_PA, low=0.0)
    model_kwargs["ambient_temperature_c"] = ambient.number("temperature_c", 22.0, low=-273.15)
    ambient.done()
    temp = top.table("temperature", {})
    model_kwargs["temperature"] = _profile(temp, model_kwargs["fill_temperature_c"], base_dir)
    model_kwargs["leaks"] = [_leak(t) for t in top.tables("leaks")]

    fault_table = top.table("faults", {})
    sensor_faults = faults.parse_sensor_faults(fault_table)
    link_table = top.table("link", None)
    link_faults = faults.LinkFaultSpec.parse(link_table) if link_table is not None else None
    rec_table = top.table("recording", None)
    replay = _replay(rec_table, base_dir) if rec_table is not None else None
    if duration_s is None:
        if replay is None:
            raise top.error("duration_s", "missing")
        duration_s = replay.recording.duration_s
    top.done()

    scenario = Scenario(name, path, description, seed, duration_s, model_kwargs, sensor_faults, link_faults,
                        recording=replay)
    try:
        scenario.build_model()  # physics that cannot be (an unreachable dP/dT, ...)
    except ValueError as exc:
        raise ValueError("{}: {}".format(where, exc)) from None
    return scenario


def for_recording(run_path, base=None):
    """A scenario that plays run_path (a log or CSV) through the sensors;
    the loop physics of `base` (a scenario name or path; default: the
    defaults, a loop at rest) feeds the sensors the log does not cover. Its
    leaks and duration are not taken: the recording is the run."""
    data = {}
    if base and base not in ("none", "nominal"):
        with open(load_scenario(base).path, "rb") as f:
            data = tomllib.load(f)
        data.pop("duration_s", None)
        data.pop("leaks", None)
    data["description"] = "replay of %s" % run_path
    data["recording"] = {"path": str(Path(run_path).resolve())}
    return parse_scenario(data, "replay of %s" % run_path)


def _replay(t, base_dir):
    """The [recording] table: a logged run the chips play back."""
    from . import recording

    path = Path(t.string("path"))
    if not path.is_absolute():
        path = base_dir / path
    boot = t.integer("boot", None)
    start_s = t.number("start_s", None)
    end_s = t.number("end_s", None)
    speed = t.number("speed", 1.0, low=0.0, low_open=True)
    channels = t.raw("channels", None)
    if channels is not None and (not isinstance(channels, list)
                                 or not all(c in recording.CHANNEL_KEYS for c in channels)):
        raise t.error("channels", "must be a list of channel keys ({}), got {!r}".format(
            ", ".join(recording.CHANNEL_KEYS), channels))
    others = t.string("others", "physics", choices=("physics", "absent"))
    t.done()
    try:
        rec = recording.load(path, boot=boot).window(start_s, end_s, speed)
    except recording.RecordingError as exc:
        raise t.error("path", str(exc)) from None
    return recording.ReplaySpec(rec, channels, others)


def _loop_kwargs(t):
    kw = {
        "loop_volume_l": t.number("volume_l", 44.0, low=0.0, low_open=True),
        "fill_pressure_pa": t.number("fill_pressure_pa", 300000.0, low=0.0, low_open=True),
        "fill_temperature_c": t.number("fill_temperature_c", 20.0, low=-273.15),
        "gas_volume_l": t.number("gas_volume_l", None, low=0.0),
        "dp_dt_pa_per_k": t.number("dp_dt_pa_per_k", 2000.0, low=0.0, low_open=True),
        "wall_compliance_per_pa": t.number("wall_compliance_per_pa", 1.1e-10, low=0.0),
        "wall_expansion_per_k": t.number("wall_expansion_per_k", 6.9e-5),
        "max_step_s": t.number("max_step_s", 1.0, low=0.0, low_open=True),
    }
    if kw["gas_volume_l"] is not None and "dp_dt_pa_per_k" in t:
        raise t.error("dp_dt_pa_per_k", "give gas_volume_l or dp_dt_pa_per_k, not both")
    t.done()
    return kw


def _fluid(t):
    fluid = physics.Fluid(
        density_kg_m3=t.number("density_kg_m3", 1040.0, low=0.0, low_open=True),
        expansion_per_k=t.number("expansion_per_k", 5.0e-4),
        compressibility_per_pa=t.number("compressibility_per_pa", 3.8e-10, low=0.0),
        reference_c=t.number("reference_c", 20.0),
        name=t.string("name", "propylene glycol/water 50 %"),
    )
    t.done()
    return fluid


def _profile(t, fill_c, base_dir):
    """A factory of the temperature profile (models are built fresh)."""
    kind = t.string("profile", "constant", choices=PROFILE_KINDS)
    if kind == "constant":
        args = (t.number("value_c", fill_c),)
        make = profiles.Constant
    elif kind == "ramp":
        args = (t.number("start_c", fill_c), t.number("end_c"),
                t.number("duration_s", low=0.0, low_open=True), t.number("start_s", 0.0))
        make = profiles.Ramp
    elif kind == "settle":
        args = (t.number("start_c"), t.number("end_c", fill_c),
                t.number("tau_s", low=0.0, low_open=True), t.number("start_s", 0.0))
        make = profiles.Settle
    elif kind == "sine":
        args = (t.number("mean_c", fill_c), t.number("amplitude_c"),
                t.number("period_s", low=0.0, low_open=True), t.number("phase_deg", 0.0))
        make = profiles.Sine
    elif kind == "orbital":
        period = t.number("period_s", profiles.ORBIT_PERIOD_S, low=0.0, low_open=True)
        eclipse = t.number("eclipse_s", profiles.ECLIPSE_S, low=0.0, low_open=True)
        if eclipse >= period:
            raise t.error("eclipse_s", "must be shorter than period_s ({} s)".format(period))
        args = (t.number("hot_c", 28.0), t.number("cold_c", 8.0), period, eclipse,
                t.number("tau_s", 900.0, low=0.0), t.number("orbit_start_s", 0.0))
        make = profiles.Orbital
    else:
        csv_path = base_dir / t.string("csv")
        repeat = t.boolean("repeat", False)
        try:
            recorded = profiles.Recorded(csv_path, repeat=repeat)
        except OSError as exc:
            raise t.error("csv", "cannot read {}: {}".format(csv_path, exc.strerror)) from None
        except ValueError as exc:
            raise t.error("csv", str(exc)) from None
        t.done()
        return lambda: recorded  # read-only after loading: shared safely
    t.done()
    return lambda: make(*args)


def _leak(t):
    """A factory of one leak."""
    kind = t.string("kind", choices=LEAK_KINDS)
    when = {
        "onset_s": t.number("onset_s", 0.0),
        "end_s": t.number("end_s", None),
        "period_s": t.number("period_s", None, low=0.0, low_open=True),
        "duty": t.number("duty", 1.0, low=0.0, low_open=True, high=1.0),
        "growth": t.string("growth", "none", choices=("none", "linear", "exponential")),
        "growth_per_h": t.number("growth_per_h", 0.0),
        "max_factor": t.number("max_factor", None, low=0.0),
    }
    if when["end_s"] is not None and when["end_s"] <= when["onset_s"]:
        raise t.error("end_s", "must be after onset_s")
    if kind == "rate":
        rate = t.number("rate_ml_min", low=0.0)
        t.done()
        return lambda: physics.RateLeak(rate, **when)
    diameter = t.number("diameter_mm", low=0.0, low_open=True)
    cd = t.number("cd", 0.61, low=0.0, low_open=True, high=1.0)
    outlet = t.number("outlet_pressure_pa", None, low=0.0)
    t.done()
    return lambda: physics.OrificeLeak(diameter, cd=cd, outlet_pressure_pa=outlet, **when)
