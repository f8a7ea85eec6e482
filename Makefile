# The project's two commands: `make run` starts the gateway on the embedded default
# (SQLite + local-disk zones + the example policies); `make test` installs what is missing,
# starts the services the tests need (PostgreSQL, S3 servers), runs every test and stops them.

SWIFT ?= swift
CONFIGURATION ?= debug
BIN = .build/$(CONFIGURATION)

.PHONY: all build deps test test-policies test-moto test-faults test-rgw run validate fuzz clean bench-gateway

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c $(CONFIGURATION)

# Policy checks as CI would run them on a policy repository.
validate: build
	$(BIN)/policyctl validate policies --catalog providers_flat.csv --strict
	$(BIN)/policyctl validate policies --catalog providers_flat.csv --backends config/s3_backends.json --strict

test-policies: validate
	$(BIN)/policyctl test policies --catalog providers_flat.csv

test:
	@WITH_TEST_SERVICES=1 scripts/install-deps.sh
	@scripts/test.sh

# Real S3 clients against moto zones and PostgreSQL (scripts/live-moto-test.sh).
test-moto:
	@WITH_TEST_SERVICES=1 scripts/install-deps.sh
	$(SWIFT) build --product gateway
	$(SWIFT) build --product policyctl
	@scripts/live-moto-test.sh

# PostgreSQL stopped under load, the gateway killed during uploads, two gateways on one
# PostgreSQL (scripts/fault-test.sh).
test-faults:
	@WITH_TEST_SERVICES=1 scripts/install-deps.sh
	$(SWIFT) build --product gateway
	$(SWIFT) build --product policyctl
	@scripts/fault-test.sh

# The gateway against two Ceph RADOS Gateway zones with Object Lock (scripts/rgw-test.sh):
# signatures, multipart and COMPLIANCE retention enforced by the provider itself. Not part of
# `make test`: it installs Ceph (~70 MB) and runs two small clusters.
test-rgw:
	$(SWIFT) build --product gateway
	$(SWIFT) build --product policyctl
	@scripts/rgw-test.sh

run: build
	@scripts/run.sh

# libFuzzer runs of the YAML/policy, SigV4/aws-chunked and XML parsers (Fuzz/, FUZZING.md):
# FUZZ_SECONDS per target (default 60), FUZZ_TARGETS to pick some.
fuzz:
	@scripts/fuzz.sh

# Gateway benchmarks (see BENCHMARKS.md): MODE=small|fanout|large|metadata|all|compare|busy|floor, e.g.
# `make bench-gateway MODE=small`. Builds release binaries in Benchmarks/.build.
MODE ?= all
bench-gateway: deps
	@scripts/bench-gateway.sh $(MODE)

clean:
	rm -rf .build data
