# The README's two commands: `make demo` and `make test`. Each sets itself up from nothing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Backend-agnostic parts of kzoo, whose tests run again under JAX and PyTorch. Tests marked
# slow (the large keras.applications backbones: minutes each on 2 cores) are `make test-slow`.
BACKEND_TESTS := tests/layers tests/losses tests/test_metrics.py tests/test_schedules.py \
	tests/test_callbacks.py tests/test_optimizers.py tests/models
# JAX compiles every op and graph with XLA; a persistent cache shared by the test workers and
# the fresh-process reload test compiles each once (it cuts the JAX pass by more than half).
JAX_CACHE := JAX_COMPILATION_CACHE_DIR=$(abspath $(VENV))/jax-cache \
	JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0

.PHONY: demo test test-tf test-jax test-torch test-slow fuzz lint docs bench clean postgresql

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-installs whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,jax,torch,docs]"
	touch $@ $(VENV)/.installed-run

demo: $(VENV)/.installed-run
	$(BIN)/kzoo demo

test: $(VENV)/.installed-test
	$(MAKE) --no-print-directory lint test-tf test-jax test-torch docs

lint: $(VENV)/.installed-test
	$(BIN)/ruff check kzoo kzoo_cli.py tests $(wildcard examples benchmarks docs)

# The tuning tests start a throwaway PostgreSQL server with Debian's initdb and pg_ctl;
# they are skipped, saying why, where neither is there nor installable.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		{ apt-get update -q >/dev/null 2>&1; apt-get install -y -q postgresql >/dev/null 2>&1; } || \
		echo "PostgreSQL is not installed and could not be: its tuning tests are skipped"

test-tf: $(VENV)/.installed-test postgresql
	KERAS_BACKEND=tensorflow $(BIN)/python -m pytest -q -n 2 --durations=15 -m "not slow"

test-slow: $(VENV)/.installed-test postgresql
	KERAS_BACKEND=tensorflow $(BIN)/python -m pytest -q -n 2 --durations=10 -m slow

# The generative contract test (tests/test_generative_contract.py) with a long profile:
# hundreds of random configs and data folders instead of `make test`'s fixed few dozen.
fuzz: $(VENV)/.installed-test
	KZOO_FUZZ_PROFILE=fuzz KERAS_BACKEND=tensorflow $(BIN)/python -m pytest -q -p no:randomly \
		tests/test_generative_contract.py

test-jax: $(VENV)/.installed-test
	KERAS_BACKEND=jax $(JAX_CACHE) $(BIN)/python -m pytest -q -n 2 --durations=10 -m "not slow" $(BACKEND_TESTS)

test-torch: $(VENV)/.installed-test
	KERAS_BACKEND=torch $(BIN)/python -m pytest -q -n 2 --durations=10 -m "not slow" $(BACKEND_TESTS)

# The docs site (docs/, mkdocs.yml); --strict turns every warning, such as a broken reference,
# into a failure. Material's banner about MkDocs 2 is switched off: the docs extra pins MkDocs 1.
docs: $(VENV)/.installed-test
	NO_MKDOCS_2_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/mkdocs build --strict

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build dist site *.egg-info
