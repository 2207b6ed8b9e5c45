# ADS1115 transducer models on the VM: scaling, range flags, open loop.
from leakrig_fw.drivers.ads1115 import CurrentLoopTransducer, RatiometricTransducer
from leakrig_fw.drivers.errors import Q_OK, Q_RANGE, SensorFault

# 1 Pa: a millionth of these transducers' 1 MPa span, 30x finer than the
# ADS1115's step on it (about 30 Pa), and 16x coarser than a single-precision
# float's step at 1 MPa (0.0625 Pa), where a board computes.
TOL_PA = 1.0


def test_ratiometric_scaling_and_flags():
    tr = RatiometricTransducer(0, 1000000, supply_v=5.0, divider=2 / 3)
    p, q = tr.pressure(2.5 * 2 / 3)
    assert abs(p - 500000) < TOL_PA and q == Q_OK
    p, q = tr.pressure(4.75 * 2 / 3)
    assert abs(p - 1062500) < TOL_PA and q == Q_RANGE
    try:
        tr.pressure(0.0)
    except SensorFault:
        pass
    else:
        raise AssertionError("broken wire not reported")


def test_current_loop_scaling_and_open_loop():
    tr = CurrentLoopTransducer(0, 1000000, shunt_ohm=165.0)
    p, q = tr.pressure(0.012 * 165.0)
    assert abs(p - 500000) < TOL_PA and q == Q_OK
    p, q = tr.pressure(0.0038 * 165.0)
    assert q == Q_RANGE and p < 0
    for volts in (0.0, 0.022 * 165.0):
        try:
            tr.pressure(volts)
        except SensorFault:
            pass
        else:
            raise AssertionError("loop fault not reported at %r V" % volts)
