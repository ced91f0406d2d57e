# Ballast: everything bootstraps from nothing (python3 + node/npm on PATH).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
NETWORK ?= ethereum:local:foundry
ARGS ?=

.PHONY: all bootstrap demo test fork-test fuzz bench lint clean

all: bootstrap

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

bootstrap: $(BIN)/.installed node_modules/.installed
	@anvil --version >/dev/null || { echo "anvil is not runnable from node_modules/.bin" >&2; exit 1; }

## make demo: deploy on a local anvil and run the keeper through a market scenario (ARGS="--csv FILE")
demo: bootstrap
	$(BIN)/ballast demo $(ARGS)

## make test: every test (contracts on a real anvil through ape, keeper, backtest)
test: bootstrap
	$(BIN)/ape test tests --network $(NETWORK) -q $(ARGS)

## make fork-test: the README's walk-through on an anvil playing Sepolia (keystores, deploy twice, keepers
## and bot from config files, a crash liquidated); also part of make test
fork-test: bootstrap
	$(BIN)/ape test tests/operator/test_readme.py --network $(NETWORK) -q $(ARGS)

## make fuzz: the long stateful campaign (2,000 random sequences of 50 steps; statistics: out/fuzz-stats.json)
fuzz: bootstrap
	BALLAST_FUZZ_EXAMPLES=2000 BALLAST_FUZZ_STEPS=50 BALLAST_FUZZ_RANDOM=1 BALLAST_FUZZ_STATS=out/fuzz-stats.json \
		$(BIN)/ape test tests/stateful --network ethereum:local:foundry -q -s $(ARGS)

## make bench: gas and speed benchmarks
bench: bootstrap
	$(BIN)/ballast bench gas --json out/bench-gas.json
	$(BIN)/ballast bench backtest --json out/bench-backtest.json
	$(BIN)/ballast bench stress --json out/bench-stress.json
	$(BIN)/ballast bench scan --json out/bench-scan.json

lint: bootstrap
	$(BIN)/ruff check oracle scripts tests

clean:
	rm -rf .build out .pytest_cache
