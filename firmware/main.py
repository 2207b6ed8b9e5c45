# Board entry point: build the board from board.json and run the firmware.
from leakrig_fw import main

main.run()
