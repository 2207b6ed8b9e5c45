"""The simulated rig: a scenario's loop physics behind chip emulators, wired
to a board definition's buses exactly where the board says its sensors sit."""
import random

from .. import boards
from .clock import SimClock
from .hardware import SimHardware
from .vboard import VirtualBoard


class Rig:
    """Physics + emulators + the board's hardware. `controls` for tests."""

    def __init__(self, board_def, scenario=None, seed=None, clock=None):
        self.board_def = board_def
        self.clock = clock or SimClock()
        self.hardware = SimHardware(self.clock)
        self.scenario = scenario
        self.seed = seed if seed is not None else getattr(scenario, "seed", 0)
        self.rng = random.Random(self.seed)
        self.model = scenario.build_model() if scenario is not None else None
        self.emulators = {}
        for role, spec in board_def.get("sensors", {}).items():
            self.emulators[role] = self._attach(role, spec)

    # Physical inputs, evaluated lazily at the current simulated time.
    def _advance(self):
        if self.model is not None:
            self.model.advance_to(self.clock.now_s)
        return self.model

    def value(self, name):
        model = self._advance()
        if model is None:
            return {"loop_pressure_pa": 300000.0, "loop_temperature_c": 20.0,
                    "ambient_pressure_pa": 101325.0, "ambient_temperature_c": 20.0}[name]
        return getattr(model, name)

    def _attach(self, role, spec):
        from . import wiring
        return wiring.attach(self, role, spec)


def build_virtual_board(board_name, scenario_name=None, seed=None, lockstep=True, speed=1.0,
                        flash_dir=None, heap_kb=None):
    board_def = boards.load(board_name)
    scenario = None
    if scenario_name:
        from .scenario import load_scenario
        try:
            scenario = load_scenario(scenario_name)
        except (ValueError, OSError) as exc:
            from ..errors import UserError
            raise UserError(str(exc))
    rig = Rig(board_def, scenario, seed=seed, clock=SimClock(lockstep=lockstep, speed=speed))
    vb = VirtualBoard(flash_dir=flash_dir, hardware=rig.hardware,
                      heap_kb=heap_kb or board_def.get("sim_heap_kb"))
    vb.rig = rig
    return vb
