"""Simulated buses: route the VM's transfers to the chip emulators attached
at an I2C address, an SPI chip select, or on a 1-Wire line."""


class Nack(OSError):
    """No device acknowledged (absent address, or a fault injected)."""


# A write-acknowledge mask (see I2CBus.write_acks): bit b of byte b >> 3 set
# when a write starting with byte b is acknowledged.
ACK_EVERY_WRITE = b"\xff" * 32


def ack_mask(first_bytes):
    """The write-acknowledge mask of a chip that acknowledges a write when,
    and only when, its first byte is one of first_bytes."""
    mask = bytearray(32)
    for b in first_bytes:
        mask[b >> 3] |= 1 << (b & 7)
    return bytes(mask)


class I2CBus:
    def __init__(self):
        self.devices = {}

    def attach(self, addr, device):
        self.devices[int(addr)] = device

    def _device(self, addr):
        device = self.devices.get(addr)
        if device is None:
            raise Nack("no device at 0x%02x" % addr)
        return device

    def write(self, addr, data, stop=True):
        self._device(addr).i2c_write(bytes(data), stop)

    def read(self, addr, n, stop=True):
        data = bytes(self._device(addr).i2c_read(n, stop))
        if len(data) != n:
            raise ValueError("device 0x%02x returned %d of %d bytes" % (addr, len(data), n))
        return data

    def write_acks(self):
        """[(addr, mask)] for the devices that will acknowledge a write as
        long as nothing on the host side changes: each device's
        write_ack_mask() gives the first bytes it acknowledges a write with,
        or None when it may NACK anyway (a NACK fault, told to NACK). A
        device without the method is not listed."""
        out = []
        for addr, device in self.devices.items():
            f = getattr(device, "write_ack_mask", None)
            if f is not None:
                mask = f()
                if mask is not None:
                    out.append((addr, mask))
        return out

    def scan(self):
        found = []
        for addr in sorted(self.devices):
            try:
                self.devices[addr].i2c_write(b"", True)
                found.append(addr)
            except Nack:
                pass
        return found


class SPIBus:
    def __init__(self):
        self.devices = {}
        self.selected = None

    def attach(self, cs_pin_id, device):
        self.devices[str(cs_pin_id)] = device

    def has_cs(self, pin_id):
        return str(pin_id) in self.devices

    def select(self, cs_pin_id, active):
        device = self.devices[str(cs_pin_id)]
        if active:
            self.selected = device
        elif self.selected is device:
            self.selected = None
        device.spi_select(active)

    def transfer(self, data):
        if self.selected is None:
            return b"\xff" * len(data)  # nothing drives MISO: pulled high
        out = bytes(self.selected.spi_transfer(bytes(data)))
        if len(out) != len(data):
            raise ValueError("SPI device returned %d of %d bytes" % (len(out), len(data)))
        return out


class OneWireBus:
    """Open-drain line: a read sees 0 if any device pulls it low."""

    def __init__(self):
        self.devices = []

    def attach(self, device):
        self.devices.append(device)

    def reset(self):
        present = False
        for d in self.devices:
            present = d.ow_reset() or present
        return present

    def write_bit(self, bit):
        for d in self.devices:
            d.ow_write_bit(1 if bit else 0)

    def read_bit(self):
        level = 1
        for d in self.devices:
            level &= d.ow_read_bit()
        return level

    def write_byte(self, value):
        for i in range(8):
            self.write_bit((value >> i) & 1)

    def read_byte(self):
        value = 0
        for i in range(8):
            value |= self.read_bit() << i
        return value
