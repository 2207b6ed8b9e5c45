# MAX31865 driver: Callendar–Van Dusen inversion on the VM.
from leakrig_fw.drivers.max31865 import temperature_from_resistance


def test_reference_points():
    for r_ohm, t_c in ((100.0, 0.0), (138.5055, 100.0), (18.5201, -200.0), (390.4811, 850.0),
                       (84.2707, -40.0)):
        assert abs(temperature_from_resistance(r_ohm) - t_c) < 0.001, (r_ohm, t_c)


def test_datasheet_code_rref_400():
    # RTD data 87B6h with Rref = 400 ohm is 300 °C in the datasheet's table.
    r_ohm = (0x87B6 >> 1) * 400 / 32768
    assert abs(temperature_from_resistance(r_ohm) - 300.0) < 0.03
