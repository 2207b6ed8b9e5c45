# Sensor drivers, one module per part. Each class is handed a bus (machine.I2C,
# machine.SPI + chip-select Pin, onewire.OneWire) and reads in SI units with a
# quality flag; errors come from the tree in errors.py.
