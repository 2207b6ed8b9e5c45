# The virtual board's `onewire`: the OneWire class of MicroPython's driver,
# with bus timing replaced by requests to the simulator's 1-Wire bus. Writes
# get no answer on the wire (no ACK on 1-Wire), so they are posted.
import _simlink as _link
from _simlink import pin_key as _pin_key


class OneWireError(Exception):
    pass


class OneWire:
    SEARCH_ROM = 0xF0
    MATCH_ROM = 0x55
    SKIP_ROM = 0xCC

    def __init__(self, pin):
        self._key = _pin_key(pin._id if hasattr(pin, "_id") else pin)
        self._k = bytes((len(self._key),)) + self._key

    def reset(self, required=False):
        present = _link.call(_link.OP_OW_RESET, self._k)[0] == 1
        if required and not present:
            raise OneWireError
        return present

    def readbit(self):
        return _link.call(_link.OP_OW_READ_BIT, self._k)[0]

    def readbyte(self):
        return _link.call(_link.OP_OW_READ, self._k + b"\x01")[0]

    def writebit(self, value):
        _link.post(_link.OP_OW_WRITE_BIT, self._k + bytes((1 if value else 0,)))

    def writebyte(self, value):
        _link.post(_link.OP_OW_WRITE, self._k + bytes((value & 0xFF,)))

    def write(self, buf):
        _link.post(_link.OP_OW_WRITE, self._k + bytes(buf))

    def readinto(self, buf):
        _link.call_into(_link.OP_OW_READ, self._k + bytes((len(buf),)), buf)

    def select_rom(self, rom):
        self.reset()
        self.writebyte(self.MATCH_ROM)
        self.write(rom)

    def scan(self):
        """ROMs of all devices on the bus, by the binary search of the 1-Wire
        SEARCH ROM command: at each bit where devices disagree take 0 first,
        then revisit the last such fork with 1 on the next pass."""
        roms = []
        rom = bytearray(8)
        last_fork = 0  # 1-based bit position still to be taken as 1; 0 = done
        while True:
            if not self.reset():
                return roms
            self.writebyte(self.SEARCH_ROM)
            fork = 0
            for pos in range(1, 65):
                idx = (pos - 1) >> 3
                mask = 1 << ((pos - 1) & 7)
                bit = self.readbit()
                complement = self.readbit()
                if bit and complement:
                    return roms
                if bit == complement:
                    if pos < last_fork:
                        take = 1 if rom[idx] & mask else 0
                    else:
                        take = 1 if pos == last_fork else 0
                    if not take:
                        fork = pos
                else:
                    take = bit
                if take:
                    rom[idx] |= mask
                else:
                    rom[idx] &= ~mask & 0xFF
                self.writebit(take)
            roms.append(bytes(rom))
            last_fork = fork
            if not fork:
                return roms

    def crc8(self, data):
        crc = 0
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
        return crc
