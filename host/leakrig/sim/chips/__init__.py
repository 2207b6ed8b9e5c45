"""Register-level emulators of the rig's sensor chips. Each one answers the
sim bus calls of docs/interfaces.md and turns physical values (Pa, °C, V)
into the raw codes the real part would give, by inverting its datasheet
compensation."""
from .ads1115 import ADS1115Emulator, CurrentLoopFrontEnd, RatiometricFrontEnd
from .bmp280 import BMP280Emulator
from .ds18b20 import DS18B20Emulator
from .max31865 import MAX31865Emulator
from .ms5837 import MS5837Emulator

__all__ = ["ADS1115Emulator", "RatiometricFrontEnd", "CurrentLoopFrontEnd", "BMP280Emulator",
           "DS18B20Emulator", "MAX31865Emulator", "MS5837Emulator"]
