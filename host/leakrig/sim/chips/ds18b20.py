"""Maxim DS18B20 1-Wire thermometer at bit level: 64-bit ROM (family 0x28,
CRC8), READ/MATCH/SKIP/SEARCH ROM and ALARM SEARCH, CONVERT T with the
conversion time of each resolution, READ/WRITE/COPY SCRATCHPAD, RECALL E2,
READ POWER SUPPLY, and the 85 °C power-on value."""

# Deadlines are compared to float seconds built from whole microseconds.
CLOCK_EPS_S = 1e-9

FAMILY = 0x28
READ_ROM = 0x33
MATCH_ROM = 0x55
SKIP_ROM = 0xCC
SEARCH_ROM = 0xF0
ALARM_SEARCH = 0xEC
CONVERT_T = 0x44
WRITE_SCRATCHPAD = 0x4E
READ_SCRATCHPAD = 0xBE
COPY_SCRATCHPAD = 0x48
RECALL_E2 = 0xB8
READ_POWER_SUPPLY = 0xB4

POWER_ON_RAW = 0x0550   # +85 °C
CONVERSION_TIME_S = {9: 0.09375, 10: 0.1875, 11: 0.375, 12: 0.75}  # data sheet maxima
COPY_TIME_S = 0.010
T_MIN_C = -55.0
T_MAX_C = 125.0


def crc8(data):
    """Dallas/Maxim CRC8 (x^8 + x^5 + x^4 + 1, bits LSB first)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


def make_rom(serial, family=FAMILY):
    body = bytes([family]) + int(serial).to_bytes(6, "little")
    return body + bytes([crc8(body)])


def raw_from_celsius(temperature_c, resolution=12):
    """Temperature register for a temperature: 1/16 °C two's complement,
    truncated to the resolution (undefined low bits read 0), saturating at
    the -55..+125 °C measurement range."""
    t = max(T_MIN_C, min(T_MAX_C, temperature_c))
    step = 1 << (12 - resolution)
    raw = int(round(t * 16.0 / step)) * step
    return raw & 0xFFFF


def celsius_from_raw(raw):
    if raw & 0x8000:
        raw -= 0x10000
    return raw / 16.0


class DS18B20Emulator:
    """DS18B20 on a 1-Wire bus, externally powered.

    temperature_c: zero-argument callable sampled when CONVERT T starts
    (with `latch_at_read`, when the converted scratchpad is read instead: a
    replayed log gives the value logged for the cycle that reads it).
    serial: 48-bit serial number (the ROM is family, serial, CRC8).
    Fault injection: `present` False takes it off the bus; `flip_scratchpad_bit`
    (0..71) inverts one bit of the scratchpad as it is read out.
    """

    def __init__(self, clock, temperature_c, serial=0x0000_0000_0001, th=75, tl=70,
                 config=0x7F):
        self.clock = clock
        self.temperature_c = temperature_c
        self.rom = make_rom(serial)
        self.present = True
        self.flip_scratchpad_bit = None
        self.latch_at_read = False
        self._converted = False
        self.eeprom = [th & 0xFF, tl & 0xFF, config]
        self.scratchpad = bytearray(9)
        self._power_on()

    def _power_on(self):
        self.scratchpad[0] = POWER_ON_RAW & 0xFF
        self.scratchpad[1] = POWER_ON_RAW >> 8
        self.scratchpad[2], self.scratchpad[3], self.scratchpad[4] = self.eeprom
        self.scratchpad[5] = 0xFF
        self.scratchpad[6] = 0x0C
        self.scratchpad[7] = 0x10
        self._conversion = None    # (done_at_s, raw)
        self._converted = False    # the scratchpad holds a conversion
        self._copy_done_at = None
        self._state = "idle"

    @property
    def resolution(self):
        return 9 + ((self.scratchpad[4] >> 5) & 3)

    def _finish(self):
        now = self.clock.now_s + CLOCK_EPS_S
        if self._conversion is not None and now >= self._conversion[0]:
            raw = self._conversion[1]
            self.scratchpad[0] = raw & 0xFF
            self.scratchpad[1] = raw >> 8
            self._conversion = None
            self._converted = True
        if self._copy_done_at is not None and now >= self._copy_done_at:
            self._copy_done_at = None

    def alarm(self):
        temp_int = ((self.scratchpad[1] << 8) | self.scratchpad[0]) >> 4
        temp_int = temp_int - 0x1000 if temp_int & 0x800 else temp_int
        th = self.scratchpad[2] - 256 if self.scratchpad[2] & 0x80 else self.scratchpad[2]
        tl = self.scratchpad[3] - 256 if self.scratchpad[3] & 0x80 else self.scratchpad[3]
        return temp_int >= th or temp_int <= tl

    # Bus signalling ---------------------------------------------------
    def ow_reset(self):
        if not self.present:
            return False
        self._finish()
        self._state = "rom_cmd"
        self._bits = 0
        self._nbits = 0
        return True

    def _begin_bits(self, state):
        self._state = state
        self._bits = 0
        self._nbits = 0

    def _out_bits(self, data):
        self._out = [(data[i >> 3] >> (i & 7)) & 1 for i in range(len(data) * 8)]
        self._out_pos = 0

    def ow_write_bit(self, bit):
        if not self.present:
            return
        state = self._state
        if state in ("rom_cmd", "func_cmd", "write_sp"):
            self._bits |= bit << self._nbits
            self._nbits += 1
            if self._nbits == 8:
                byte = self._bits
                self._bits = 0
                self._nbits = 0
                if state == "rom_cmd":
                    self._rom_command(byte)
                elif state == "func_cmd":
                    self._function_command(byte)
                else:
                    if self._sp_index == 2:
                        byte = (byte & 0x60) | 0x1F  # only R1, R0 are writable
                    self.scratchpad[2 + self._sp_index] = byte
                    self._sp_index += 1
                    if self._sp_index == 3:
                        self._state = "idle"
        elif state == "match":
            expected = (self.rom[self._nbits >> 3] >> (self._nbits & 7)) & 1
            self._nbits += 1
            if bit != expected:
                self._state = "idle"
            elif self._nbits == 64:
                self._begin_bits("func_cmd")
        elif state == "search" and self._search_phase == 2:
            if bit != self._search_bit():
                self._state = "idle"
                return
            self._nbits += 1
            self._search_phase = 0
            if self._nbits == 64:
                self._begin_bits("func_cmd")

    def _search_bit(self):
        return (self.rom[self._nbits >> 3] >> (self._nbits & 7)) & 1

    def ow_read_bit(self):
        if not self.present:
            return 1
        state = self._state
        if state == "search":
            if self._search_phase == 0:
                self._search_phase = 1
                return self._search_bit()
            if self._search_phase == 1:
                self._search_phase = 2
                return self._search_bit() ^ 1
            return 1
        if state == "send":
            if self._out_pos >= len(self._out):
                return 1
            bit = self._out[self._out_pos]
            if self._sending_scratchpad and self._out_pos == self.flip_scratchpad_bit:
                bit ^= 1
            self._out_pos += 1
            return bit
        if state == "busy":
            self._finish()
            return 1 if self._conversion is None and self._copy_done_at is None else 0
        if state == "recall":
            return 1
        if state == "power":
            return 1
        return 1

    def _rom_command(self, cmd):
        if cmd == READ_ROM:
            self._out_bits(self.rom)
            self._sending_scratchpad = False
            self._state = "send"
        elif cmd == MATCH_ROM:
            self._begin_bits("match")
        elif cmd == SKIP_ROM:
            self._begin_bits("func_cmd")
        elif cmd == SEARCH_ROM or (cmd == ALARM_SEARCH and self.alarm()):
            self._begin_bits("search")
            self._search_phase = 0
        else:
            self._state = "idle"

    def _function_command(self, cmd):
        self._finish()
        if cmd == CONVERT_T:
            res = self.resolution
            raw = raw_from_celsius(self.temperature_c(), res)
            self._conversion = (self.clock.now_s + CONVERSION_TIME_S[res], raw)
            self._state = "busy"
        elif cmd == READ_SCRATCHPAD:
            if self.latch_at_read and self._converted:
                raw = raw_from_celsius(self.temperature_c(), self.resolution)
                self.scratchpad[0] = raw & 0xFF
                self.scratchpad[1] = raw >> 8
            self.scratchpad[8] = crc8(self.scratchpad[:8])
            self._out_bits(self.scratchpad)
            self._sending_scratchpad = True
            self._state = "send"
        elif cmd == WRITE_SCRATCHPAD:
            self._begin_bits("write_sp")
            self._sp_index = 0
        elif cmd == COPY_SCRATCHPAD:
            self.eeprom = [self.scratchpad[2], self.scratchpad[3], self.scratchpad[4]]
            self._copy_done_at = self.clock.now_s + COPY_TIME_S
            self._state = "busy"
        elif cmd == RECALL_E2:
            self.scratchpad[2], self.scratchpad[3], self.scratchpad[4] = self.eeprom
            self._state = "recall"
        elif cmd == READ_POWER_SUPPLY:
            self._state = "power"
        else:
            self._state = "idle"
