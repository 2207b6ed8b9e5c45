"""TI ADS1115 16-bit ADC at register level (pointer, conversion, config,
Lo/Hi threshold), with the two pressure front ends the rig uses: a 0.5–4.5 V
ratiometric transducer behind a divider, and a 4–20 mA transducer across a
shunt resistor.

Board wiring assumed by the defaults (see docs/sensors.md): the ADS1115
runs from 3.3 V; the ratiometric transducer from 5 V, its output through a
10 kΩ / 20 kΩ divider (ratio 2/3, so 0.5–4.5 V reaches the pin as
0.333–3.0 V) read with the ±4.096 V range; the current loop across 165 Ω
(4–20 mA → 0.66–3.3 V), same range."""
from ..bus import ACK_EVERY_WRITE, Nack

# Deadlines are compared to float seconds built from whole microseconds.
CLOCK_EPS_S = 1e-9

REG_CONVERSION = 0
REG_CONFIG = 1
REG_LO_THRESH = 2
REG_HI_THRESH = 3

CONFIG_DEFAULT = 0x8583
OS = 0x8000
MODE_SINGLE = 0x0100
FULL_SCALE_V = (6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256)  # by PGA field
DATA_RATE_SPS = (8, 16, 32, 64, 128, 250, 475, 860)                    # by DR field
# (positive input, negative input) by MUX field; None = GND.
MUX_INPUTS = ((0, 1), (0, 3), (1, 3), (2, 3), (0, None), (1, None), (2, None), (3, None))
# The data sheet allows the oscillator to run 10 % slow: model the slowest part.
RATE_FACTOR = 0.9


def conversion_time_s(config):
    return 1.0 / (DATA_RATE_SPS[(config >> 5) & 7] * RATE_FACTOR)


def code_from_volts(volts, full_scale_v):
    """Output code for a differential input; saturates at 0x7FFF / 0x8000."""
    code = int(round(volts * 32768.0 / full_scale_v))
    return max(-32768, min(32767, code))


class ADS1115Emulator:
    """ADS1115 on an I2C bus (0x48–0x4B by the ADDR pin).

    ain: up to four zero-argument callables giving the voltage at AIN0..AIN3
    (None: the pin is tied to GND). vdd_v: supply; pins are clamped by the
    input diodes to GND-0.3 V .. VDD+0.3 V.
    """

    def __init__(self, clock, ain=(), vdd_v=3.3):
        self.clock = clock
        self.ain = list(ain) + [None] * (4 - len(ain))
        self.vdd_v = vdd_v
        self.nack = False
        self.config = CONFIG_DEFAULT
        self.lo_thresh = 0x8000
        self.hi_thresh = 0x7FFF
        self.conversion = 0
        self._pointer = REG_CONVERSION
        self._single = None       # (done_at_s, code) of a single-shot conversion
        self._continuous_t0 = None

    def pin_volts(self, index):
        source = self.ain[index] if index is not None else None
        volts = float(source()) if source is not None else 0.0
        return max(-0.3, min(self.vdd_v + 0.3, volts))

    def _sample(self):
        pos, neg = MUX_INPUTS[(self.config >> 12) & 7]
        volts = self.pin_volts(pos) - (self.pin_volts(neg) if neg is not None else 0.0)
        return code_from_volts(volts, FULL_SCALE_V[(self.config >> 9) & 7])

    def _update(self):
        now = self.clock.now_s + CLOCK_EPS_S
        if self._single is not None and now >= self._single[0]:
            self.conversion = self._single[1]
            self._single = None
        if self._continuous_t0 is not None and now - self._continuous_t0 >= conversion_time_s(self.config):
            self.conversion = self._sample()

    def _write_config(self, value):
        self.config = value & 0x7FFF
        if value & MODE_SINGLE:
            self._continuous_t0 = None
            if value & OS and self._single is None:
                self._single = (self.clock.now_s + conversion_time_s(value), self._sample())
        elif self._continuous_t0 is None:
            self._continuous_t0 = self.clock.now_s

    def _read_reg(self, reg):
        if reg == REG_CONVERSION:
            return self.conversion & 0xFFFF
        if reg == REG_CONFIG:
            busy = self._single is not None or self._continuous_t0 is not None
            return self.config | (0 if busy else OS)
        if reg == REG_LO_THRESH:
            return self.lo_thresh
        return self.hi_thresh

    def write_ack_mask(self):
        """Every write is acknowledged, unless the part is told to NACK."""
        return None if self.nack else ACK_EVERY_WRITE

    def i2c_write(self, data, stop):
        if self.nack:
            raise Nack("ADS1115 not responding")
        self._update()
        if not data:
            return
        self._pointer = data[0] & 3
        if len(data) >= 3:
            value = (data[1] << 8) | data[2]
            if self._pointer == REG_CONFIG:
                self._write_config(value)
            elif self._pointer == REG_LO_THRESH:
                self.lo_thresh = value
            elif self._pointer == REG_HI_THRESH:
                self.hi_thresh = value

    def i2c_read(self, n, stop):
        if self.nack:
            raise Nack("ADS1115 not responding")
        self._update()
        word = self._read_reg(self._pointer).to_bytes(2, "big")
        return (word * ((n + 1) // 2))[:n]


class RatiometricFrontEnd:
    """0.5–4.5 V ratiometric pressure transducer (10 %–90 % of its supply over
    p_min..p_max) behind a resistor divider; call it for the ADC pin voltage.
    Beyond its range the output keeps its slope until the output stage
    saturates at 5 % / 95 % of the supply."""

    def __init__(self, pressure_pa, p_min_pa=0.0, p_max_pa=1.0e6, supply_v=5.0, divider=2.0 / 3.0):
        self.pressure_pa = pressure_pa
        self.p_min_pa = p_min_pa
        self.p_max_pa = p_max_pa
        self.supply_v = supply_v
        self.divider = divider
        self.disconnected = False   # broken signal wire: the divider pulls the pin to 0 V

    def output_v(self):
        fraction = (self.pressure_pa() - self.p_min_pa) / (self.p_max_pa - self.p_min_pa)
        ratio = max(0.05, min(0.95, 0.1 + 0.8 * fraction))
        return ratio * self.supply_v

    def __call__(self):
        if self.disconnected:
            return 0.0
        return self.output_v() * self.divider


class CurrentLoopFrontEnd:
    """4–20 mA pressure transducer across a shunt; call it for the voltage on
    the shunt. Beyond its range the current saturates at 3.8 / 20.5 mA (NAMUR
    NE 43 signal limits); an open loop carries no current."""

    def __init__(self, pressure_pa, p_min_pa=0.0, p_max_pa=1.0e6, shunt_ohm=165.0):
        self.pressure_pa = pressure_pa
        self.p_min_pa = p_min_pa
        self.p_max_pa = p_max_pa
        self.shunt_ohm = shunt_ohm
        self.open_loop = False

    def current_a(self):
        if self.open_loop:
            return 0.0
        fraction = (self.pressure_pa() - self.p_min_pa) / (self.p_max_pa - self.p_min_pa)
        return max(3.8e-3, min(20.5e-3, 4e-3 + 16e-3 * fraction))

    def __call__(self):
        return self.current_a() * self.shunt_ohm
