# Tourism microservices in Go: every command of the course, one target each.
# `make` alone lists them. Each target prints the command it runs.

SHELL := /bin/bash
.DEFAULT_GOAL := help

SERVICES := tour-catalog booking payment-gateway
# Every Go module of the workspace, for the targets that test them all.
MODULES  := pkg $(addprefix services/,$(SERVICES)) integration
GO       ?= go
FUZZTIME ?= 10s

##@ Develop

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} \
	  /^[a-zA-Z0-9_%-]+:.*?##/ { printf "  \033[36m%-22s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: dev dev-tour-catalog dev-booking dev-payment-gateway
dev: dev-tour-catalog ## Run the tour catalog natively on :3001 with demo data (SQLite, no Docker)

dev-tour-catalog: ## Run tour-catalog natively (go run) with demo data
	cd services/tour-catalog && SEED_DEMO_DATA=true LOG_FORMAT=text $(GO) run ./cmd/tour-catalog

dev-booking: ## Run booking natively (expects the catalog on :3001 and the gateway on :3004)
	cd services/booking && LOG_FORMAT=text $(GO) run ./cmd/booking

dev-payment-gateway: ## Run payment-gateway natively on :3004
	cd services/payment-gateway && LOG_FORMAT=text $(GO) run ./cmd/payment-gateway

##@ Test

.PHONY: test
test: ## Run every module's tests with the race detector (PostgreSQL too when TEST_DATABASE_URL is set)
	@if [ -z "$$TEST_DATABASE_URL" ]; then echo "TEST_DATABASE_URL is not set: the PostgreSQL suites are left out (SQLite only)"; fi
	$(GO) test -race -count=1 $(addsuffix /...,$(addprefix ./,$(MODULES)))

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 10s)
	@set -e; for dir in $(MODULES); do \
	  for pkg in $$(cd $$dir && $(GO) list -f '{{if .TestGoFiles}}{{.Dir}}{{end}}' ./...); do \
	    for target in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go 2>/dev/null | sed 's/^func //'); do \
	      echo "$(GO) test -run='^$$' -fuzz='^$$target\$$' -fuzztime=$(FUZZTIME) $$pkg"; \
	      (cd $$pkg && $(GO) test -run='^$$' -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) .); \
	    done; \
	  done; \
	done

.PHONY: vet
vet: ## go vet every module
	$(GO) vet $(addsuffix /...,$(addprefix ./,$(MODULES)))

##@ Benchmark

.PHONY: bench
bench: ## Benchmark natively, then in containers; writes bench/results/<date>.md, .json, .svg (QUICK=1: about 2 minutes)
	cd bench && $(GO) run ./cmd/bench
