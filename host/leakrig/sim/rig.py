"""The simulated rig: a scenario's loop physics behind chip emulators, wired
to a board definition's buses exactly where the board says its sensors sit."""
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
            self.emulators[role] = wiring.attach(self, role, spec)
        self._apply_device_faults()
        self.link_faults = self._link_faults()

    def load_scenario(self, name_or_path, seed=None):
        """Swap the physics and faults under a running board; time goes on."""
        from .scenario import load_scenario
        scenario = None if name_or_path in (None, "", "none") else load_scenario(name_or_path)
        self._install(scenario, seed)

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
        with the scenario's value faults for that sensor applied."""
        def true_value():
            return self.value(name)
        faults = self.sensor_faults.get(role)
        if faults is None:
            return true_value
        return faults.wrap_value(true_value, name, lambda: self.scenario_time_s)

    # Fault hooks: the scenario describes them, faults.py applies them.
    def _sensor_faults(self):
        if self.scenario is None:
            return {}
        from . import faults
        return faults.sensor_faults_for(self.scenario, self.seed)

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
    vb.faithful = faithful
    return vb
