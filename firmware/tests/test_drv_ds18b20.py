# DS18B20 driver CRC8 on the VM (Maxim AN27 worked example).
from leakrig_fw.drivers.ds18b20 import crc8


def test_crc8_worked_example():
    assert crc8(b"\x02\x1c\xb8\x01\x00\x00\x00") == 0xA2
    assert crc8(b"\x02\x1c\xb8\x01\x00\x00\x00\xa2") == 0
