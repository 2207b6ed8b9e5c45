"""Maxim MAX31865 RTD-to-digital converter with a PT100 at register level
over SPI (modes 1 and 3): configuration, RTD data with its fault bit,
high/low fault thresholds, fault status; one-shot and automatic conversion,
the fault detection cycle, open and shorted RTD faults."""

# Deadlines are compared to float seconds built from whole microseconds.
CLOCK_EPS_S = 1e-9

REG_CONFIG = 0x00
REG_RTD_MSB = 0x01
REG_HFT_MSB = 0x03
REG_LFT_MSB = 0x05
REG_FAULT = 0x07
WRITE = 0x80

CFG_VBIAS = 0x80
CFG_AUTO = 0x40
CFG_1SHOT = 0x20
CFG_3WIRE = 0x10
CFG_FAULT_CYCLE = 0x0C
CFG_FAULT_CLEAR = 0x02
CFG_50HZ = 0x01

FAULT_HIGH = 0x80       # RTD >= high threshold (open element: full scale)
FAULT_LOW = 0x40        # RTD <= low threshold (shorted element: near zero)
FAULT_REFIN_HIGH = 0x20  # REFIN- > 0.85 VBIAS: open RTD, found by the fault cycle
FAULT_REFIN_LOW = 0x10
FAULT_RTDIN_LOW = 0x08
FAULT_OVUV = 0x04

# Callendar–Van Dusen coefficients of IEC 60751 (the C term only below 0 °C).
CVD_A = 3.9083e-3
CVD_B = -5.775e-7
CVD_C = -4.183e-12

# Conversion times (typical, data sheet): one-shot, then automatic mode period.
ONE_SHOT_S = {False: 0.052, True: 0.0625}     # by 50 Hz filter bit
AUTO_PERIOD_S = {False: 0.0167, True: 0.020}
FAULT_CYCLE_S = 0.0006


def pt_resistance(temperature_c, r0=100.0):
    """PT100 (or PTxxx) resistance in ohms by Callendar–Van Dusen."""
    t = temperature_c
    r = 1.0 + CVD_A * t + CVD_B * t * t
    if t < 0.0:
        r += CVD_C * (t - 100.0) * t * t * t
    return r0 * r


def rtd_code(resistance_ohm, r_ref):
    """15-bit ADC code: 32768 * R / Rref, saturating at 0 and 0x7FFF."""
    if resistance_ohm >= r_ref:
        return 0x7FFF
    return max(0, min(0x7FFF, int(round(resistance_ohm * 32768.0 / r_ref))))


class MAX31865Emulator:
    """MAX31865 on an SPI bus, selected by its chip-select pin.

    temperature_c: zero-argument callable. Fault injection: set `open_rtd`
    (element broken: full-scale reading, REFIN- high in the fault cycle) or
    `short_rtd` (element shorted: near-zero reading), or `lead_ohm` for the
    uncompensated lead resistance of a 2-wire connection.
    """

    def __init__(self, clock, temperature_c, r0=100.0, r_ref=430.0):
        self.clock = clock
        self.temperature_c = temperature_c
        self.r0 = r0
        self.r_ref = r_ref
        self.open_rtd = False
        self.short_rtd = False
        self.lead_ohm = 0.0
        self.regs = bytearray(8)
        self.regs[REG_HFT_MSB] = 0xFF
        self.regs[REG_HFT_MSB + 1] = 0xFF
        self._selected = False
        self._addr = None
        self._write = False
        self._conversion_done_at = None
        self._auto_next = None
        self._fault_cycle_done_at = None

    def resistance_ohm(self):
        if self.open_rtd:
            return float("inf")
        if self.short_rtd:
            return 0.0
        return pt_resistance(self.temperature_c(), self.r0) + self.lead_ohm

    # Conversions ------------------------------------------------------
    def _convert(self):
        code = rtd_code(self.resistance_ohm(), self.r_ref)
        hft = ((self.regs[REG_HFT_MSB] << 8) | self.regs[REG_HFT_MSB + 1]) >> 1
        lft = ((self.regs[REG_LFT_MSB] << 8) | self.regs[REG_LFT_MSB + 1]) >> 1
        if code >= hft:
            self.regs[REG_FAULT] |= FAULT_HIGH
        if code <= lft:
            self.regs[REG_FAULT] |= FAULT_LOW
        word = (code << 1) | (1 if self.regs[REG_FAULT] else 0)
        self.regs[REG_RTD_MSB] = word >> 8
        self.regs[REG_RTD_MSB + 1] = word & 0xFF

    def _update(self):
        now = self.clock.now_s + CLOCK_EPS_S
        cfg = self.regs[REG_CONFIG]
        if self._conversion_done_at is not None and now >= self._conversion_done_at:
            self._conversion_done_at = None
            self.regs[REG_CONFIG] &= ~CFG_1SHOT
            self._convert()
        if self._auto_next is not None and now >= self._auto_next:
            self._convert()
            period = AUTO_PERIOD_S[bool(cfg & CFG_50HZ)]
            missed = int((now - self._auto_next) // period)
            self._auto_next += (missed + 1) * period
        if self._fault_cycle_done_at is not None and now >= self._fault_cycle_done_at:
            self._fault_cycle_done_at = None
            if self.open_rtd:
                self.regs[REG_FAULT] |= FAULT_REFIN_HIGH
            self.regs[REG_CONFIG] &= ~CFG_FAULT_CYCLE

    def _write_config(self, value):
        now = self.clock.now_s + CLOCK_EPS_S
        if value & CFG_FAULT_CLEAR:
            self.regs[REG_FAULT] = 0
        cfg = value & ~CFG_FAULT_CLEAR
        fifty = bool(cfg & CFG_50HZ)
        if cfg & CFG_VBIAS and cfg & CFG_AUTO:
            if self._auto_next is None:
                self._auto_next = now + ONE_SHOT_S[fifty]
            cfg &= ~CFG_1SHOT
        else:
            self._auto_next = None
        if cfg & CFG_1SHOT and not cfg & CFG_AUTO and self._conversion_done_at is None:
            self._conversion_done_at = now + ONE_SHOT_S[fifty]
        if (cfg & CFG_FAULT_CYCLE) == 0x04 and cfg & CFG_VBIAS:
            self._fault_cycle_done_at = now + FAULT_CYCLE_S
        self.regs[REG_CONFIG] = cfg

    # SPI --------------------------------------------------------------
    def spi_select(self, active):
        self._update()
        self._selected = bool(active)
        self._addr = None

    def spi_transfer(self, data):
        if not self._selected:
            return b"\xff" * len(data)
        self._update()
        out = bytearray()
        for byte in data:
            if self._addr is None:
                self._write = bool(byte & WRITE)
                self._addr = byte & 0x07
                out.append(0xFF)
                continue
            reg = self._addr
            if self._write:
                out.append(0xFF)
                if reg == REG_CONFIG:
                    self._write_config(byte)
                elif REG_HFT_MSB <= reg <= REG_LFT_MSB + 1:
                    self.regs[reg] = byte
            else:
                out.append(self.regs[reg])
            self._addr = (reg + 1) & 0x07
        return bytes(out)
