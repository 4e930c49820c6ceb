# secaudit: two commands on a fresh Debian 12 machine, as root: `make demo` and `make test`.
VENV ?= $(CURDIR)/.venv
BIN := $(VENV)/bin
export VENV

.PHONY: install demo test lint typecheck layers unit bench clean

install:
	@scripts/bootstrap

demo: install
	@scripts/demo

lint: install
	$(BIN)/ruff check secaudit tests bench samples
	$(BIN)/ruff format --check secaudit tests bench samples

typecheck: install
	$(BIN)/mypy

layers: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest

test: lint typecheck layers unit

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
