# leakrig: `make demo` runs a simulated rig end to end, `make test` runs the tests.
VENV    := .venv
PY      := $(VENV)/bin/python
LEAKRIG := $(VENV)/bin/leakrig
STAMP   := $(VENV)/.installed
BOARD   ?= pico
PORT    ?=

.PHONY: install demo test test-unit test-firmware test-hil bench deploy mpy lint clean

install: $(STAMP)

# Re-run only when the package metadata changes; `make install` is then a no-op.
$(STAMP): host/pyproject.toml scripts/install.sh
	@bash scripts/install.sh $(VENV)
	@touch $(STAMP)

demo: install
	@$(LEAKRIG) demo

test: install
	@$(PY) -m pytest -q host/tests firmware/tests hil_tests

bench: install
	@for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

deploy: install
	@$(LEAKRIG) deploy --board $(BOARD) $(if $(PORT),--port $(PORT))

mpy: install
	@$(LEAKRIG) mpy

clean:
	rm -rf $(VENV) build out
