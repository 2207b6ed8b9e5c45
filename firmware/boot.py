# Runs first at every boot; the firmware itself starts from main.py.
