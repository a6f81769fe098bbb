# Stratus — the two set-up commands are `make run` and `make test` (see README.md).
SWIFT ?= swift
BIN := .build/debug/stratus
DATA_DIR ?=
ARGS ?=
SERVICE ?= keystone
BENCH_ARGS ?=

.PHONY: build release run test unit e2e bench install format lint clean

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

## Build and start the all-in-one cloud (state in $$XDG_DATA_HOME/stratus unless DATA_DIR is set).
run: build
	$(BIN) all-in-one $(if $(DATA_DIR),--data-dir $(DATA_DIR)) $(ARGS)

## Everything CI runs: build, unit tests, end-to-end tests with the real OpenStack clients
## (PostgreSQL too when run as root).
test:
	scripts/test.sh

unit:
	$(SWIFT) build --build-tests && $(SWIFT) test --skip-build

e2e: build
	scripts/test.sh --e2e-only

## Benchmarks against the reference from PyPI (SERVICE=keystone|placement|image; prints figures and ratios).
bench:
	scripts/bench.sh $(SERVICE) $(BENCH_ARGS)

## Install the binary, the guide's command names as symlinks, and the systemd units (as root).
install: release
	scripts/install.sh

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

clean:
	rm -rf .build .venv
