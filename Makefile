# The two commands: `make dev` (the API locally, seeded) and `make test` (every test).
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: dev test token lint clean audit-verify security-report bench bench-compare bench-profile scale-model package

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

# Where the CPU of chosen operations goes: make bench-profile OPS="compose,list-inbox: all"
# (perf over a release build with symbols; bench/profile.sh).
bench-profile: $(VENV)/.installed
	OPS="$(OPS)" bash bench/profile.sh

# Two results files side by side, every figure that differs with its ratio:
# make bench-compare A=old/results.json B=bench/results.json (or the two paths as goals).
COMPARED := $(filter-out bench-compare,$(MAKECMDGOALS))
bench-compare:
	@python3 bench/compare.py $(or $(A),$(word 1,$(COMPARED))) $(or $(B),$(word 2,$(COMPARED)))
ifneq ($(filter bench-compare,$(MAKECMDGOALS)),)
$(COMPARED):
	@:
endif

# The scale model alone (issue 17): records each operation's DynamoDB partitions on a local
# stack of its own and prints the busiest partition per pattern for bench/workloads.json.
scale-model: $(VENV)/.installed
	bash bench/scale.sh

# The deployable build (docs/deploying.md): `sam build` of every function of template.yaml
# (BuildMethod rust-cargolambda: `cargo lambda build --release --arm64` in each function's
# crate) into .aws-sam/build; `sam deploy --guided` then ships it. Brings cargo-lambda and zig
# (bench/requirements.txt) and the aarch64 standard library, as `make bench` does.
package: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -r bench/requirements.txt
	rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam build --beta-features --template template.yaml

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
