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

.PHONY: run test lint install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip setuptools wheel

# The stamp files make re-runs instant while pyproject.toml is unchanged.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

run: install
	$(BIN)/longform write "$(PROMPT)" --words $(WORDS)

lint: dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) build *.egg-info
