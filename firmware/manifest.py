# Freezing the firmware into a MicroPython build:
#   make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=/path/to/leakrig/firmware/manifest.py
# The board definition (board.json) and config.json stay on the filesystem.
metadata(description="leakrig: coolant-loop leak detection firmware", version="0.1.0")

include("$(PORT_DIR)/boards/manifest.py")
package("leakrig_fw")
module("main.py")
