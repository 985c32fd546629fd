# Two commands do everything: `make run` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROMPT ?= Write a 400-word story about a lighthouse keeper who finds a message in a bottle.
WORDS ?= 400

# llama-cpp-python compiles llama.cpp. A native build turns on AMX kernels on CPUs that
# advertise AMX, and those crash in VMs that do not grant AMX state (seen on our CI
# machines). So on x86-64 we build for AVX2 explicitly, which every recent x86 CPU runs.
ifeq ($(shell uname -m),x86_64)
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
endif

.PHONY: run test lint install dev clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip setuptools wheel

# Installs come from the locks (exact versions, every file's hash checked); longform
# itself is installed editable on top, with no dependency of its own resolved. The stamp
# files make re-runs instant while the locks are unchanged.
$(VENV)/.installed: $(BIN)/python requirements.lock
	$(BIN)/pip install --require-hashes -r requirements.lock
	$(BIN)/pip install --no-deps -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.lock
	$(BIN)/pip install --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

run: install
	$(BIN)/longform write "$(PROMPT)" --words $(WORDS)

lint: dev
	$(BIN)/python .ci/lock.py check
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# One worker per core (pytest-xdist), each given the next test when it is free, the
# longest (the model's) first (tests/conftest.py orders them).
test: lint
	$(BIN)/pytest -n auto --dist load --maxschedchunk 1

# The locks, made again from pyproject.toml after a dependency changed (needs PyPI):
# for CPython 3.11 and later on Linux x86-64 and arm64 and macOS, with hashes.
LOCK_FLAGS = --quiet --generate-hashes --universal --python-version 3.11 --custom-compile-command 'make lock'
lock: $(BIN)/python
	$(BIN)/pip install --quiet 'uv>=0.5'
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o requirements-dev.lock
	# The app's lock takes the dev lock's versions, so `make dev` only adds to `make run`.
	$(BIN)/uv pip compile pyproject.toml -c requirements-dev.lock $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/python .ci/lock.py stamp

clean:
	rm -rf $(VENV) build *.egg-info
