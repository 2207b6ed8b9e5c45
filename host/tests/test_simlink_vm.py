"""The VM's end of the sim link on the real VM: posted requests reach the
simulator in order and at their simulated time, an I2C NACK still raises at
the write, lockstep time is the VM's own but follows a host-side advance,
a loop that only sleeps keeps the simulator's clock close behind, and I2C
writes the acknowledge table promises are posted without changing where a
NACK raises; SPI bytes clocked under one chip select go as one transfer."""
from leakrig.sim.bus import Nack, ack_mask
from leakrig.sim.testing import VMHarness


class _Recorder:
    """I2C device that logs (time, what) and NACKs when told to."""

    def __init__(self, clock):
        self.clock = clock
        self.log = []
        self.nack = False

    def i2c_write(self, data, stop):
        if self.nack:
            raise Nack("off")
        self.log.append((self.clock.now_us, "w", bytes(data)))

    def i2c_read(self, n, stop):
        if self.nack:
            raise Nack("off")
        self.log.append((self.clock.now_us, "r", n))
        return bytes(range(n))


def test_transfers_happen_at_the_vm_time_and_nack_raises_at_the_write():
    with VMHarness() as h:
        dev = _Recorder(h.clock)
        h.i2c(0).attach(0x40, dev)
        rc, out = h.run("""
import time, machine
i2c = machine.I2C(0)
time.sleep_ms(5)
i2c.writeto(0x40, b"\\x01")
time.sleep_us(250)
time.sleep_us(250)
b = bytearray(3)
i2c.readfrom_mem_into(0x40, 0x07, b)
print("R", list(b), time.ticks_us())
try:
    i2c.writeto(0x41, b"\\x00")
except OSError as e:
    print("E", e.args[0])
""")
    assert rc == 0, out
    assert "R [0, 1, 2] 5500" in out
    assert "E 19" in out  # ENODEV from the write itself
    assert dev.log == [(5000, "w", b"\x01"), (5500, "w", b"\x07"), (5500, "r", 3)]


def test_host_advance_reaches_the_vm_and_time_never_goes_back():
    with VMHarness() as h:
        dev = _Recorder(h.clock)
        h.i2c(0).attach(0x40, dev)
        orig = dev.i2c_write

        def write_and_advance(data, stop):
            orig(data, stop)
            if data == b"\x02":
                h.clock.advance_s(2.0)
        dev.i2c_write = write_and_advance
        rc, out = h.run("""
import time, machine
i2c = machine.I2C(0)
time.sleep_ms(10)
t0 = time.ticks_ms()
i2c.writeto(0x40, b"\\x02")
print("T", t0, time.ticks_ms())
""")
    assert rc == 0, out
    assert "T 10 2010" in out


def test_a_loop_that_only_sleeps_keeps_the_simulator_clock_close():
    with VMHarness() as h:
        rc, out = h.run("""
import time, machine
wdt = machine.WDT(timeout=5000)
for i in range(100):
    wdt.feed()
    time.sleep_ms(100)
print("done", time.ticks_ms())
""")
        assert rc == 0, out
        assert "done 10000" in out
        # At most 200 ms of simulated time waits for a reply to carry it.
        assert 9800000 <= h.clock.now_us <= 10000000
        assert h.hardware.watchdog._fed_sim_us >= 9600000


def test_nack_on_the_register_read_raises_and_the_link_stays_in_step():
    with VMHarness() as h:
        dev = _Recorder(h.clock)
        h.i2c(0).attach(0x40, dev)
        rc, out = h.run("""
import machine, _simlink
i2c = machine.I2C(0)
b = bytearray(2)
i2c.readfrom_mem_into(0x40, 1, b)
_simlink.call(_simlink.OP_TIME_NOW, b"")
dev_off = True
try:
    i2c.readfrom_mem_into(0x48, 1, b)
except OSError as e:
    print("E", e.args[0])
i2c.readfrom_mem_into(0x40, 1, b)
print("R", list(b))
""")
    assert rc == 0, out
    assert "E 19" in out and "R [0, 1]" in out


class _Promising(_Recorder):
    """A _Recorder that promises to acknowledge writes starting with 0x01
    or 0x02 (and NACKs any other write), unless told to NACK."""

    def write_ack_mask(self):
        return None if self.nack else ack_mask((1, 2))

    def i2c_write(self, data, stop):
        if data and data[0] not in (1, 2):
            raise Nack("unknown command")
        _Recorder.i2c_write(self, data, stop)


def test_promised_writes_are_posted_at_their_time_and_others_nack_at_the_write():
    with VMHarness() as h:
        dev = _Promising(h.clock)
        h.i2c(0).attach(0x40, dev)
        rc, out = h.run("""
import time, machine, _simlink
i2c = machine.I2C(0)
_simlink.call(_simlink.OP_TIME_NOW, b"")
print("A", sorted(_simlink.acks))
time.sleep_ms(5)
i2c.writeto(0x40, b"\\x01")
time.sleep_ms(1)
i2c.writeto(0x40, b"\\x02\\x09")
time.sleep_ms(1)
try:
    i2c.writeto(0x40, b"\\x03")
except OSError as e:
    print("E", e.args[0], time.ticks_ms())
b = bytearray(2)
i2c.readfrom_mem_into(0x40, 0x01, b)
print("R", list(b))
""")
        rounds = h.server.round_trips
    assert rc == 0, out
    assert "A [64]" in out  # bus 0 << 8 | 0x40
    assert "E 19 7" in out  # the unpromised write NACKs at the write
    assert "R [0, 1]" in out
    assert dev.log == [(5000, "w", b"\x01"), (6000, "w", b"\x02\x09"), (7000, "w", b"\x01"), (7000, "r", 2)]
    # HELLO, the TIME_NOW, the NACKed write and the read: the promised writes cost none.
    assert rounds == 4


def test_a_device_told_to_nack_is_no_longer_promised():
    with VMHarness() as h:
        dev = _Promising(h.clock)
        h.i2c(0).attach(0x40, dev)
        orig = dev.i2c_read

        def read_then_fail(n, stop):
            out = orig(n, stop)
            dev.nack = True  # the host pulls the part while the VM reads it
            return out
        dev.i2c_read = read_then_fail
        rc, out = h.run("""
import machine, _simlink
i2c = machine.I2C(0)
b = bytearray(2)
i2c.readfrom_mem_into(0x40, 0x01, b)
print("A", sorted(_simlink.acks))
try:
    i2c.writeto(0x40, b"\\x01")
except OSError as e:
    print("E", e.args[0])
""")
    assert rc == 0, out
    assert "A []" in out and "E 19" in out


def test_a_promised_write_nacked_after_all_raises_at_the_next_reply():
    # The host changes the rig after the VM has the table and before its
    # posted write is applied: the NACK raises at the next request that
    # waits for a reply, and the link stays in step.
    with VMHarness() as h:
        dev = _Promising(h.clock)
        h.i2c(0).attach(0x40, dev)
        other = _Recorder(h.clock)
        h.i2c(0).attach(0x41, other)

        def on_request(op):
            if op == 14 and h.clock.now_us == 0:  # the first posted sleep
                dev.nack = True
        h.server.on_request = on_request
        rc, out = h.run("""
import time, machine
i2c = machine.I2C(0)
b = bytearray(2)
i2c.readfrom_mem_into(0x41, 0x01, b)
time.sleep_ms(1)
i2c.writeto(0x40, b"\\x01")
try:
    i2c.readfrom_mem_into(0x41, 0x01, b)
except OSError as e:
    print("E", e.args[0])
i2c.readfrom_mem_into(0x41, 0x01, b)
print("R", list(b))
""")
    assert rc == 0, out
    assert "E 19" in out and "R [0, 1]" in out
    assert dev.log == []



class _SpiRecorder:
    """SPI device that logs each select and transfer and answers a
    transfer with the bytes it got plus one."""

    def __init__(self):
        self.log = []

    def spi_select(self, active):
        self.log.append(("cs", active))

    def spi_transfer(self, data):
        self.log.append(("x", bytes(data)))
        return bytes((b + 1) & 0xFF for b in data)


def test_spi_writes_and_a_read_after_them_go_as_one_transfer():
    # Bytes clocked while the chip select stays put are one transfer on the
    # wire however the VM's calls split them: the simulator sees them as
    # one, the read gets only its own bytes, and a chip-select change (or
    # another bus) in between keeps them apart.
    with VMHarness() as h:
        dev = _SpiRecorder()
        h.spi(0).attach("17", dev)
        other = _SpiRecorder()
        h.spi(1).attach("9", other)
        rc, out = h.run("""
import machine
spi = machine.SPI(0)
spi1 = machine.SPI(1)
cs = machine.Pin(17, machine.Pin.OUT, value=1)
cs1 = machine.Pin(9, machine.Pin.OUT, value=1)
cs1(0)
cs(0)
spi.write(b"\\x01")
spi.write(b"\\x02\\x03")
b = bytearray(2)
spi.readinto(b, 0x10)
cs(1)
cs(0)
spi.write(b"\\x04")
spi1.write(b"\\x05")
spi.readinto(b, 0x20)
print("R", list(b), list(spi.read(1, 0x30)))
""")
        requests, trips = h.server.requests, h.server.round_trips
    assert rc == 0, out
    assert "R [33, 33] [49]" in out
    assert dev.log == [("cs", False), ("cs", True), ("x", b"\x01\x02\x03\x10\x10"), ("cs", False),
                       ("cs", True), ("x", b"\x04"), ("x", b"\x20\x20"), ("x", b"\x30")]
    assert other.log == [("cs", False), ("cs", True), ("x", b"\x05")]
    # HELLO and the three reads wait for replies; the writes joined to the
    # first read cost no request of their own.
    assert trips == 4
    assert requests == trips + 8  # 6 pin writes, the lone write on each bus


def test_writeto_mem_is_posted_like_writeto():
    with VMHarness() as h:
        dev = _Promising(h.clock)
        h.i2c(0).attach(0x40, dev)
        rc, out = h.run("""
import machine, _simlink
i2c = machine.I2C(0)
b = bytearray(2)
i2c.readfrom_mem_into(0x40, 0x01, b)
i2c.writeto_mem(0x40, 0x02, b"\\x0a\\x0b")
i2c.writeto_mem(0x40, 0x0102, b"\\x0c", addrsize=16)
i2c.readfrom_mem_into(0x40, 0x01, b)
""")
        trips = h.server.round_trips
    assert rc == 0, out
    assert [entry[1:] for entry in dev.log if entry[1] == "w"] == [
        ("w", b"\x01"), ("w", b"\x02\x0a\x0b"), ("w", b"\x01\x02\x0c"), ("w", b"\x01")]
    assert trips == 3  # HELLO and the two reads
