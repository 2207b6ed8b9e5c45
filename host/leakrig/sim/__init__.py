"""The rig simulator: loop physics, chip emulators and the virtual board."""
