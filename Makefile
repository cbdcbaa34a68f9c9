# The README's quick start: `make demo` and `make test`. Nothing here needs more than
# Python 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# The demo queue's port: `make demo PORT=8001` when 8000 is taken.
PORT ?= 8000

demo: $(STAMP)
	$(BIN)/cbewatch demo --web-port $(PORT)

test: $(STAMP) /usr/bin/chromium
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/python -m pytest -q

# The browser tests drive Debian's Chromium; Playwright never downloads a browser.
/usr/bin/chromium:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

lint: $(STAMP)
	$(BIN)/ruff check --fix src tests bench scripts
	$(BIN)/ruff format src tests bench scripts

bench: $(STAMP)
	$(BIN)/python -P bench/poll.py
	$(BIN)/python -P bench/pipeline.py
	$(BIN)/python -P bench/rank.py
	$(BIN)/python -P bench/queue.py
	$(BIN)/python -P bench/rank_quality.py
	$(BIN)/python -P bench/issue.py
	$(BIN)/python -P bench/send.py

# docs/screenshots/: the demo's pages at 1280 and 390 px, taken by Debian's Chromium.
# Not part of `make test`: run it after changing how a page looks.
screenshots: $(STAMP) /usr/bin/chromium
	$(BIN)/python -P scripts/screenshots.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
