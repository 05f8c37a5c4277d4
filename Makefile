# make run: the real product on the embedded default. make test: the whole suite, emulators included.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .venv-tools
LOCK := .venv-lock
PIP_TOOLS_VERSION := 7.5.2
# Every core: the suite is made of independent tests (each on its own data folder and clock).
PYTEST_ARGS ?= -n auto

.PHONY: run test lint bench install clean openapi lock

# Installed from the locks (every package, transitive ones included, pinned with its hashes).
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

# requirements.in / requirements-dev.in are edited by hand; the .txt locks are compiled from them.
lock:
	test -x $(LOCK)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK) && $(LOCK)/bin/pip install --quiet pip-tools==$(PIP_TOOLS_VERSION))
	$(LOCK)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file requirements.txt requirements.in
	$(LOCK)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file requirements-dev.txt requirements-dev.in
	$(LOCK)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file requirements-tools.txt requirements-tools.in

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# checkov pins an old `packaging` that breaks current pytest: it lives in its own venv.
$(TOOLS)/.installed: requirements-tools.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes -r requirements-tools.txt
	touch $@

install: $(VENV)/.installed node_modules/.installed

run: $(VENV)/.installed
	$(PY) -m functions.local_runner

lint: $(VENV)/.installed $(TOOLS)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m scripts.import_cycles
	$(TOOLS)/bin/checkov -d infra --framework bicep --quiet --compact --skip-download --external-checks-dir infra/checkov

test: install lint
	$(PY) -m pytest $(PYTEST_ARGS)

openapi: $(VENV)/.installed
	$(PY) -m functions.http_api.openapi_export > docs/openapi.json

bench: $(VENV)/.installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(TOOLS) $(LOCK) node_modules .data .pytest_cache
