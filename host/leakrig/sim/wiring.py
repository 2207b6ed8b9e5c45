"""One function per part: build its emulator from the board's sensor spec,
feed it the rig's physical values for the sensor's role, and attach it to
the bus the board definition names."""

# Which physical quantities a sensor in each role sees.
ROLE_QUANTITIES = {
    "loop_pressure": ("loop_pressure_pa", "loop_temperature_c"),
    "loop_pressure_aux": ("loop_pressure_pa", "loop_temperature_c"),
    "loop_temperature": ("loop_pressure_pa", "loop_temperature_c"),
    "radiator_temperature": ("loop_pressure_pa", "loop_temperature_c"),
    "ambient": ("ambient_pressure_pa", "ambient_temperature_c"),
}


def attach(rig, role, spec):
    """Emulator for the sensor `role` described by `spec`, on its bus."""
    part = spec.get("part")
    maker = _PARTS.get(part)
    if maker is None:
        raise ValueError("sensor %s: no emulator for part %r" % (role, part))
    pressure_name, temperature_name = ROLE_QUANTITIES.get(role, ROLE_QUANTITIES["loop_pressure"])
    pressure = rig.sensed(role, pressure_name)
    temperature = rig.sensed(role, temperature_name)
    bus_spec = rig.board_def["buses"][spec["bus"]]
    return maker(rig, spec, bus_spec, pressure, temperature)


def _ads1115(rig, spec, bus_spec, pressure, temperature):
    from .chips.ads1115 import ADS1115Emulator, CurrentLoopFrontEnd, RatiometricFrontEnd
    fe = dict(spec.get("front_end", {}))
    kind = fe.pop("type", "ratiometric")
    if kind == "ratiometric":
        front = RatiometricFrontEnd(pressure, p_min_pa=fe.get("p_min_pa", 0.0),
                                    p_max_pa=fe.get("p_max_pa", 1.0e6),
                                    supply_v=fe.get("supply_v", 5.0), divider=fe.get("divider", 2.0 / 3.0))
    elif kind == "current_loop":
        front = CurrentLoopFrontEnd(pressure, p_min_pa=fe.get("p_min_pa", 0.0),
                                    p_max_pa=fe.get("p_max_pa", 1.0e6), shunt_ohm=fe.get("shunt_ohm", 165.0))
    else:
        raise ValueError("ads1115: unknown front end %r" % kind)
    ain = [None] * 4
    ain[spec.get("channel", 0)] = front
    chip = ADS1115Emulator(rig.clock, ain=ain)
    chip.front_end = front
    rig.hardware.i2c(bus_spec["id"]).attach(spec.get("addr", 0x48), chip)
    return chip


def _ms5837(rig, spec, bus_spec, pressure, temperature):
    from .chips.ms5837 import MS5837Emulator
    chip = MS5837Emulator(rig.clock, pressure, temperature)
    rig.hardware.i2c(bus_spec["id"]).attach(spec.get("addr", 0x76), chip)
    return chip


def _bmp280(rig, spec, bus_spec, pressure, temperature):
    from .chips.bmp280 import BMP280Emulator
    chip = BMP280Emulator(rig.clock, pressure, temperature)
    rig.hardware.i2c(bus_spec["id"]).attach(spec.get("addr", 0x77), chip)
    return chip


def _max31865(rig, spec, bus_spec, pressure, temperature):
    from .chips.max31865 import MAX31865Emulator
    chip = MAX31865Emulator(rig.clock, temperature, r0=spec.get("r0", 100.0), r_ref=spec.get("r_ref", 430.0))
    rig.hardware.spi(bus_spec["id"]).attach(str(spec["cs"]), chip)
    return chip


def _ds18b20(rig, spec, bus_spec, pressure, temperature):
    from .chips.ds18b20 import DS18B20Emulator
    chip = DS18B20Emulator(rig.clock, temperature)
    rig.hardware.onewire(str(bus_spec["pin"])).attach(chip)
    return chip


_PARTS = {"ads1115": _ads1115, "ms5837": _ms5837, "bmp280": _bmp280,
          "max31865": _max31865, "ds18b20": _ds18b20}
