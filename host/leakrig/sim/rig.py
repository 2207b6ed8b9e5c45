"""The simulated rig: a scenario's loop physics behind chip emulators, wired
to a board definition's buses exactly where the board says its sensors sit."""
import copy
import math
import sys

from .. import boards
from .clock import SimClock
from .hardware import SimHardware
from .vboard import VirtualBoard
from .vmenv import board_vm, unfaithful_warning

# Physical values when no scenario is loaded: a loop at rest.
_AT_REST = {"loop_pressure_pa": 300000.0, "loop_temperature_c": 20.0,
            "ambient_pressure_pa": 101325.0, "ambient_temperature_c": 20.0}


class Rig:
    """Physics + emulators + the board's hardware."""

    def __init__(self, board_def, scenario=None, seed=None, clock=None):
        self.board_def = board_def
        self.clock = clock or SimClock()
        self.hardware = SimHardware(self.clock)
        self.link_faults = None
        self.emulators = {}
        self._install(scenario, seed)

    def _install(self, scenario, seed):
        self.scenario = scenario
        self.replay = getattr(scenario, "recording", None)  # recording.ReplaySpec or None
        self.seed = seed if seed is not None else getattr(scenario, "seed", 0)
        self.model = scenario.build_model() if scenario is not None else None
        self.t0_s = self.clock.now_s  # scenario time zero
        self.sensor_faults = self._sensor_faults()
        for bus in list(self.hardware.i2c_buses.values()):
            bus.devices.clear()
        for bus in list(self.hardware.spi_buses.values()):
            bus.devices.clear()
            bus.selected = None
        for bus in list(self.hardware.onewire_buses.values()):
            bus.devices.clear()
        from . import wiring
        self.emulators = {}
        for role, spec in self.board_def.get("sensors", {}).items():
            chip = self.emulators[role] = wiring.attach(self, role, spec)
            if self.replay is not None and self.replay.role_keys(spec) and hasattr(chip, "latch_at_read"):
                chip.latch_at_read = True  # a conversion read one cycle later
        self._apply_device_faults()
        self.link_faults = self._link_faults()

    def load_scenario(self, name_or_path, seed=None):
        """Swap the physics and faults under a running board; time goes on."""
        from .scenario import Scenario, load_scenario
        if isinstance(name_or_path, Scenario):
            scenario = name_or_path
        else:
            scenario = None if name_or_path in (None, "", "none") else load_scenario(name_or_path)
        self._install(scenario, seed)

    def on_board_boot(self):
        """A recording plays from the board's boot, as it was logged: each
        time the board boots, its scenario time starts again at zero."""
        if self.replay is not None:
            self.t0_s = self.clock.now_s

    @property
    def scenario_time_s(self):
        return self.clock.now_s - self.t0_s

    def value(self, name):
        """A physical quantity at the current simulated time."""
        if self.model is None:
            return _AT_REST[name]
        self.model.advance_to(self.scenario_time_s)
        return getattr(self.model, name)

    def sensed(self, role, name):
        """Callable giving what the sensor in `role` sees of quantity `name`,
        with the scenario's value faults for that sensor applied. A channel
        the scenario's recording plays comes from the recording."""
        key = self._played_key(role, name)
        if key is not None:
            true_value = self._recorded(key)
        else:
            def true_value():
                return self.value(name)
        faults = self.sensor_faults.get(role)
        if faults is None:
            return true_value
        return faults.wrap_value(true_value, name, lambda: self.scenario_time_s)

    def _played_key(self, role, name):
        """The recording's channel key that feeds quantity `name` of the
        sensor in `role`, or None."""
        if self.replay is None:
            return None
        from .faults import quantity_of
        from .recording import PRESSURE_KEYS
        want_pressure = quantity_of(name) == "pressure"
        for key in self.replay.role_keys(self.board_def["sensors"].get(role, {})):
            if (key in PRESSURE_KEYS) == want_pressure:
                return key
        return None

    def _recorded(self, key):
        """Callable: the recording's channel `key` now. Where the log has no
        value the sensor does not answer (Silence), so what this returns
        then is never read; it repeats the last value for the chip's sake."""
        rec = self.replay.recording
        last = [next((v for v in rec.channels[key] if v is not None), 0.0)]

        def value():
            v = rec.value(key, self.scenario_time_s)
            if v is None:
                return last[0]
            last[0] = v
            return v
        return value

    # Fault hooks: the scenario describes them, faults.py applies them.
    def _sensor_faults(self):
        if self.scenario is None:
            return {}
        from . import faults
        found = faults.sensor_faults_for(self.scenario, self.seed)
        if self.replay is None:
            return found
        from .recording import Silence
        # A replayed sensor does not answer where its channels have no value;
        # with others = "absent", a sensor the recording does not feed never does.
        for role, spec in self.board_def.get("sensors", {}).items():
            keys = self.replay.role_keys(spec)
            if not keys and self.replay.others != "absent":
                continue
            old = found.get(role)
            fspec = copy.copy(old.spec) if old is not None else faults.SensorFaultSpec(role)
            if keys:
                fspec.nack = Silence(self.replay.recording, keys, also=fspec.nack)
            else:
                fspec.nack = faults.Schedule([(-math.inf, math.inf)])
            found[role] = faults.SensorFaults(fspec, self.seed)
        return found

    def _apply_device_faults(self):
        for role, chip in self.emulators.items():
            f = self.sensor_faults.get(role)
            if f is not None:
                f.apply_to_device(chip, lambda: self.scenario_time_s)

    def _link_faults(self):
        if self.scenario is None:
            return None
        from . import faults
        return faults.link_faults_for(self.scenario, self.seed, lambda: self.scenario_time_s)


def build_virtual_board(board_name, scenario_name=None, seed=None, lockstep=True, speed=1.0,
                        flash_dir=None, heap_kb=None, cpu="auto"):
    from ..errors import UserError
    board_def = boards.load(board_name)
    scenario = None
    from .scenario import Scenario
    if isinstance(scenario_name, Scenario):
        scenario, scenario_name = scenario_name, None
    if scenario_name and scenario_name != "none":
        from .scenario import load_scenario
        try:
            scenario = load_scenario(scenario_name)
        except (ValueError, OSError) as exc:
            raise UserError(str(exc))
    rig = Rig(board_def, scenario, seed=seed, clock=SimClock(lockstep=lockstep, speed=speed))
    vm_binary, faithful = board_vm(board_def)
    if not faithful:
        print(unfaithful_warning(board_def), file=sys.stderr)
    vb = VirtualBoard(flash_dir=flash_dir, hardware=rig.hardware,
                      heap_kb=heap_kb or board_def.get("sim_heap_kb"), link_faults=rig.link_faults,
                      cpu=cpu, vm_binary=vm_binary)
    vb.rig = rig
    vb.on_boot = rig.on_board_boot
    vb.faithful = faithful
    return vb
