# The two commands the README names: `make demo` and `make test`. Both set up first.
.PHONY: setup demo test lint contracts bench clean

VENV := .venv
BIN := $(VENV)/bin

setup:
	@./scripts/setup.sh

demo: setup
	@$(BIN)/songmint doctor
	@$(BIN)/python samples/make_fixtures.py
	@$(BIN)/songmint audio normalize samples/fixtures/chord.flac -o demo-out/chord-14lufs.mp3 --lufs -14
	@$(BIN)/songmint audio info demo-out/chord-14lufs.mp3

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
