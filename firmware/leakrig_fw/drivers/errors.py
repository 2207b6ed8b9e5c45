# The exception tree every sensor driver raises, and the quality flags its
# read() returns next to the values (flags OR together).


class SensorError(OSError):
    """Base of every sensor driver error."""


class BusError(SensorError):
    """The part did not answer on its bus (no ACK, no presence pulse)."""


class CRCError(SensorError):
    """Data from the part failed its CRC check."""


class SensorTimeout(SensorError):
    """A conversion did not complete within its deadline."""


class StaleReading(SensorError):
    """The part returned no new data since the last read."""


class SensorFault(SensorError):
    """The part or its front end reports a fault (open RTD, open loop...)."""


Q_OK = 0
Q_RANGE = 1   # at or beyond the limit of the sensor's range (or its ADC's)
Q_STALE = 2   # a value the part holds before any conversion (e.g. DS18B20 85 °C)
Q_FAULT = 4   # the part flags a fault but still gave a value
