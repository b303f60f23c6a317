# CDSS: `make run` starts the whole system on its embedded defaults; `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
LINT_PATHS := cdss config inference training bench manage.py
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/cdss
MYSQL_TEST_URL ?= mysql://root@127.0.0.1:3306/cdss?charset=utf8mb4
SECRET_FOR_CHECKS := make-test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz

.PHONY: run dev test install lint typecheck migrations-check deploy-check pytest pytest-sqlite \
        pytest-postgres pytest-mysql schema-test services migrate demo train train-sequences \
        train-omics train-imaging \
        bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

# torch is pinned and installed first, alone, so nothing later pulls another build of it.
$(VENV)/.installed: pyproject.toml inference/engines/sequence/_seeds.c | $(PY)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[ml,dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0

demo: migrate
	$(PY) manage.py bootstrap_demo

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

pytest-sqlite: install
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

test: lint typecheck migrations-check deploy-check pytest schema-test

# The shipped sequence model; `make train-sequences` reproduces it (SEQ_VERSION=... for a new one).
SEQ_VERSION ?= seq-2026.11.3
train-sequences: install
	$(PY) -m training.sequences --version $(SEQ_VERSION)

train-omics: install
	$(PY) -m training.omics

train-imaging: install
	$(PY) -m training.imaging

train: train-sequences train-omics train-imaging

bench: install
	@for b in bench/[a-z]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf var/static var/test-media .pytest_cache .mypy_cache .ruff_cache
