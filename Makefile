# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test check build clean console browser

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

test: setup browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

check: setup
	$(BIN)/jiuzhu check tables

build: setup
	$(BIN)/jiuzhu build tables --out build

run: setup
	$(BIN)/jiuzhu check tables
	$(BIN)/jiuzhu build tables --out build
	$(BIN)/jiuzhu evaluate --households tables/samples/households.jsonl --out build/sample-decisions.csv --summary
	$(BIN)/python -m console.serve --demo

# The console on 127.0.0.1 (CONSOLE_PORT, default 8501, or a free port); users in .jiuzhu/users.yaml.
console: setup
	$(BIN)/python -m console.serve

# Debian's chromium for the console's browser test (tests/e2e); never a downloaded browser.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "浏览器测试需要 /usr/bin/chromium：本机没有 apt-get，请用系统的包管理器安装 Chromium" >&2; exit 1; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "浏览器测试需要 /usr/bin/chromium：请以 root 运行 make browser（apt-get install -y chromium）" >&2; exit 1; \
	else \
		echo "安装 Debian 的 chromium（浏览器测试用）"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

clean:
	rm -rf $(VENV) build
