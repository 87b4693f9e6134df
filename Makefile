# Two commands do all set-up on a fresh machine: `make run` (the app) and `make test` (the tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test evals test-all bench index install browser screenshot clean

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

# The README's screenshot (docs/screenshot.png), taken by the browser test of a real answer.
screenshot: $(STAMP) browser
	ASSISTANT_UPDATE_SCREENSHOT=1 $(BIN)/python -m pytest tests/app/test_app.py -q -k screenshot

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf var/index
