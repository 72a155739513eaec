# The two commands: `make dev` (the API locally, seeded) and `make test` (every test).
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: dev test token lint clean audit-verify security-report bench

$(VENV)/.installed: infra/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r infra/requirements.txt
	touch $@

dev: $(VENV)/.installed
	$(PY) infra/dev.py

test: $(VENV)/.installed
	bash infra/test.sh

# The security battery (issue 7) with its figures in one table.
security-report: $(VENV)/.installed
	SECURITY_REPORT=1 bash infra/test.sh

# The performance and cost benchmark (issue 8): builds the packages and binaries it measures,
# prints one report, writes bench/results.json (bench/run.sh; README "Performance and cost").
bench: $(VENV)/.installed
	bash bench/run.sh

# The token of a seeded demo user: make token WHO=physician [PRACTICE=maple]
token:
	@$(PY) infra/demo_token.py $(WHO) $(PRACTICE)

# Recompute the audit hash chains of the `make dev` stack (SEC-2): make audit-verify [PRACTICE=prc_…]
audit-verify:
	@set -a && . .local/dev/env && set +a && cargo run -q -p local-gateway --bin audit-verify -- $(PRACTICE)

lint: $(VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	cargo clippy --workspace --all-targets -- -D warnings

clean:
	rm -rf .local target
