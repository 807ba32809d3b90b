# The two commands the README names: `make demo` and `make test`. Both set up first.
.PHONY: setup demo test lint contracts bench clean

VENV := .venv
BIN := $(VENV)/bin

setup:
	@./scripts/setup.sh

demo: setup
	@$(BIN)/songmint doctor
	@$(BIN)/songmint release samples/demo-ep.toml --network local --out demo-out/night-shift
	@echo "listen: $(BIN)/songmint preview demo-out/night-shift --serve   (or open demo-out/night-shift/preview/index.html)"

test: setup
	@$(BIN)/ruff check .
	@$(BIN)/python -m pytest -q

lint: setup
	@$(BIN)/ruff check .

contracts: setup
	@$(BIN)/python -m minting.contracts.build

bench: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf demo-out .pytest_cache .ruff_cache
