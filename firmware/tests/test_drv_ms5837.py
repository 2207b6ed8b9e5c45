# MS5837 driver maths on the VM: the datasheet's worked example and CRC4.
from leakrig_fw.drivers.ms5837 import compensate, crc4

C = (34982, 36352, 20328, 22354, 26646, 26146)


def test_datasheet_example():
    # D1 = 4958179, D2 = 6815414 -> 19.81 °C, 3999.8 mbar (second order leaves it unchanged)
    assert compensate(C, 4958179, 6815414) == (1981, 39998)


def test_crc4_detects_single_bit_errors():
    words = [0x0340] + list(C)
    words[0] |= crc4(words) << 12
    assert crc4(words) == words[0] >> 12
    for i in range(1, 7):
        bad = list(words)
        bad[i] ^= 1 << (i + 3)
        assert crc4(bad) != words[0] >> 12
