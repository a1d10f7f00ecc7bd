# CivicPulse: `make demo` runs the whole thing on a fresh machine; `make test` passes the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PACKAGES := postgresql chromium fonts-noto-core wrk poppler-utils libpango-1.0-0 libpangoft2-1.0-0
DEMO_DB := var/demo.db
DEMO_ENV := CIVICPULSE_DATABASE_URL=sqlite:///$(DEMO_DB)
DEMO_ADMIN := admin@civicpulse.local
DEMO_PASSWORD := civicpulse-demo

.PHONY: install system-deps test lint demo demo-data serve bench bench-setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

test: install system-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n 2

demo-data: install
	mkdir -p var
	$(DEMO_ENV) $(BIN)/civicpulse init --admin-email $(DEMO_ADMIN) --admin-password $(DEMO_PASSWORD)
	$(DEMO_ENV) $(BIN)/civicpulse agencies import examples/agencies.toml
	$(DEMO_ENV) $(BIN)/civicpulse answer-templates import examples/answer_templates.toml
	@# the official documents (once: a document stored before is refused)
	if $(DEMO_ENV) $(BIN)/civicpulse docs list | grep -qx '0 document(s)'; then \
	  $(DEMO_ENV) $(BIN)/civicpulse docs add examples/official/thong-bao-mua-mua-lu-2026.html --issuer 'Ủy ban nhân dân tỉnh (demo)' --type 'Thông báo' --number 58/TB-UBND --date 2026-07-20 --url https://demo.civicpulse.example/thong-bao/mua-mua-lu-2026 && \
	  $(DEMO_ENV) $(BIN)/civicpulse docs add examples/official/hoi-dap-the-can-cuoc.txt --issuer 'Công an tỉnh (demo)' --type 'Hỏi đáp' --date 2026-01-15 --url https://demo.civicpulse.example/hoi-dap/the-can-cuoc && \
	  $(DEMO_ENV) $(BIN)/civicpulse docs add examples/official/quy-trinh-den-chieu-sang.txt --issuer 'Ủy ban nhân dân tỉnh (demo)' --type 'Quyết định' --number 125/QĐ-UBND --date 2026-03-02 --effective 2026-03-15; \
	fi
	$(DEMO_ENV) $(BIN)/civicpulse claims import examples/official/claims.jsonld
	$(DEMO_ENV) $(BIN)/civicpulse ingest --shift-dates-to-today examples/vietnamese_history.jsonl examples/vietnamese_submissions.jsonl examples/cfpb_sample.jsonl examples/polis_*.jsonl
	$(DEMO_ENV) $(BIN)/civicpulse ingest examples/rumour_submissions.jsonl
	$(DEMO_ENV) $(BIN)/civicpulse worker --drain
	$(DEMO_ENV) $(BIN)/civicpulse themes --store --format html --output var/demo-themes.html

demo: demo-data
	@echo ""
	@echo "  CivicPulse demo: http://127.0.0.1:8000  (login: $(DEMO_ADMIN) / $(DEMO_PASSWORD))"
	@echo "  Themes report: $(CURDIR)/var/demo-themes.html"
	@echo ""
	$(DEMO_ENV) $(BIN)/civicpulse serve --host 127.0.0.1 --port 8000

# BERTopic (bench/themes.py) and transformers (bench/finetune.py): torch's CPU build first, else pip
# pulls a multi-GB CUDA build
bench-setup: install
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[dev,bench]'

bench: install system-deps
	$(BIN)/python bench/intake.py

clean:
	rm -rf var .pytest_cache .ruff_cache
