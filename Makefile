# The README's two commands: `make demo` and `make test`. Each sets itself up from nothing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Backend-agnostic parts of kzoo, whose tests run again under JAX.
# (tests/models also pass on JAX but take ~8 minutes there; run `make test-jax-models`.)
CORE_TESTS := tests/layers tests/losses tests/test_metrics.py tests/test_schedules.py tests/test_callbacks.py tests/test_optimizers.py

.PHONY: demo test test-tf test-jax test-jax-models lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-installs whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,jax]"
	touch $@ $(VENV)/.installed-run

demo: $(VENV)/.installed-run
	$(BIN)/kzoo demo

test: $(VENV)/.installed-test
	$(MAKE) --no-print-directory lint test-tf test-jax

lint: $(VENV)/.installed-test
	$(BIN)/ruff check kzoo tests $(wildcard examples benchmarks)

test-tf: $(VENV)/.installed-test
	KERAS_BACKEND=tensorflow $(BIN)/python -m pytest -q -n 2 --durations=15

test-jax: $(VENV)/.installed-test
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -n 2 --durations=10 $(wildcard $(CORE_TESTS))

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info

test-jax-models: $(VENV)/.installed-test
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q tests/models
