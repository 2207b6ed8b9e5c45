# leakrig firmware: samples a coolant loop's sensors, runs the leak detector
# and streams framed telemetry over the USB serial port.
VERSION = "0.1.0"
