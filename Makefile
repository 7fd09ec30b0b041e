VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export HF_HUB_OFFLINE := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install demo test test-fast bench lint format clean serve stop browser

# Idempotent: reuses .venv; torch first so nothing pulls a CUDA build.
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py crossling/_signals.c
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[dev]"
	touch $@

demo: install
	$(VENV)/bin/crossling demo --out $${CROSSLING_ROOT:-./data}

# The service (README.md ("Running crossling as a service")): server, work pools, deployments, a cpu worker and, with --gpu,
# a worker on the gpu pool here (training runs need one; `make serve SERVE_FLAGS=` leaves it out).
SERVE_FLAGS ?= --gpu
serve: install
	$(VENV)/bin/crossling serve --root $${CROSSLING_ROOT:-./data} $(SERVE_FLAGS)

stop:
	$(VENV)/bin/crossling stop --root $${CROSSLING_ROOT:-./data}

# The browser test drives Debian's chromium headless; installed here when missing (root only).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
	  fonts-liberation >/dev/null; } || echo "chromium not installed: the browser test will skip"

test: install browser
	$(VENV)/bin/pytest -q -x --durations=15

test-fast: install
	$(VENV)/bin/pytest -q -m "not slow"

bench: install
	$(PIP) install -q -e ".[dev,bench]"
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache
