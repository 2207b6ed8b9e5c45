# leakrig: `make demo` runs a simulated rig end to end, `make test` runs the tests.
VENV    := .venv
PY      := $(VENV)/bin/python
LEAKRIG := $(VENV)/bin/leakrig
STAMP   := $(VENV)/.installed
BOARD   ?=
PORT    ?=

.PHONY: install demo test fuzz soak soak-boards breaks hil-sweep bench deploy mpy clean

install: $(STAMP)

# Re-run only when the package metadata changes; `make install` is then a no-op.
$(STAMP): host/pyproject.toml scripts/install.sh
	@bash scripts/install.sh $(VENV)
	@touch $(STAMP)

demo: install
	@$(LEAKRIG) demo

# A whole run has a limit too (each test has its own, pytest.ini): past it the
# run is stopped with SIGTERM, which prints every thread's stack first.
TEST_LIMIT ?= 40m
PYTEST     := timeout --kill-after=30s $(TEST_LIMIT) $(PY) -m pytest

test: install
	@$(PYTEST) -q --durations=12 -m "not sweep" host/tests firmware/tests hil_tests

# Longer campaigns than `make test` runs: 20x the fuzz inputs, 10x the config kills.
fuzz: install
	@LEAKRIG_FUZZ_BATCHES=400 $(PY) -m pytest -q --timeout 3600 hil_tests/test_fuzz_commands.py

soak: install
	@LEAKRIG_CONFIG_KILLS=2000 LEAKRIG_FUZZ_BATCHES=100 $(PY) -m pytest -q --timeout 3600 -m "not sweep" host/tests/test_config_kills.py hil_tests

# Each real board definition on the 32-bit VM with its heap for 24 h of board
# time, at 10 Hz and at 1 Hz (make test runs 10 min at 10 Hz).
soak-boards: install
	@LEAKRIG_BOARD_SOAK_S=86400 LEAKRIG_BOARD_RATE_HZ=10 $(PY) -m pytest -q hil_tests/test_board_matrix.py
	@LEAKRIG_BOARD_SOAK_S=86400 LEAKRIG_BOARD_RATE_HZ=1 $(PY) -m pytest -q hil_tests/test_board_matrix.py

breaks: install
	@$(PY) scripts/break_guarantees.py

hil-sweep: install
	@$(PY) -m pytest -q --timeout 3600 -m sweep hil_tests --leakrig-record out/hil-records

bench: install
	@for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

deploy: install
	@$(LEAKRIG) deploy $(if $(BOARD),--board $(BOARD)) $(if $(PORT),--port $(PORT))

mpy: install
	@$(LEAKRIG) mpy

clean:
	rm -rf $(VENV) build out
