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
# Colours only on a terminal (and not with NO_COLOR), so `make help | less`
# or a CI log shows no escape codes.
help: ## List the targets
	@if [ -t 1 ] && [ -z "$${NO_COLOR:-}" ]; then c='\033[36m' b='\033[1m' r='\033[0m'; else c= b= r=; fi; \
	awk -v c="$$c" -v b="$$b" -v r="$$r" 'BEGIN {FS = ":.*##"; printf "Usage: make %s<target>%s\n", c, r} \
	  /^[a-zA-Z0-9_%-]+:.*?##/ { printf "  %s%-22s%s %s\n", c, $$1, r, $$2 } \
	  /^##@/ { printf "\n%s%s%s\n", b, substr($$0, 5), r }' $(MAKEFILE_LIST)

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
# Go 1.26's fuzzing coordinator can fail a target with a bare "context
# deadline exceeded" as -fuzztime runs out on a busy machine, with no input
# found (go.dev/issue/75804, fixed in Go 1.27). Such a run is tried once
# more; anything else, and above all a failing input written to
# testdata/fuzz, fails at once.
fuzz: ## Run each fuzz target for FUZZTIME (default 10s)
	@set -e -o pipefail; out=$$(mktemp); trap 'rm -f "$$out"' EXIT; \
	for dir in $(MODULES); do \
	  for pkg in $$(cd $$dir && $(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.Dir}}{{end}}' ./...); do \
	    for target in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go 2>/dev/null | sed 's/^func //'); do \
	      for try in 1 2; do \
	        echo "$(GO) test -run='^$$' -fuzz='^$$target\$$' -fuzztime=$(FUZZTIME) $$pkg"; \
	        if (cd $$pkg && $(GO) test -run='^$$' -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) .) 2>&1 | tee "$$out"; then break; fi; \
	        if [ $$try = 1 ] && grep -q 'context deadline exceeded' "$$out" && ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$$out"; then \
	          echo "$$target: the fuzzing engine's deadline race (go.dev/issue/75804), no input found: once more"; continue; fi; \
	        exit 1; \
	      done; \
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

##@ Containers (lesson 6.1: build, run, inspect, clean up)

# Image tag (the course's 1.0), and what is stamped into the binaries and
# their labels. GO_IMAGE: the Go image the Dockerfiles build with (empty:
# golang:1.26-bookworm, their default); CI sets a local one. Exported, as are
# POSTGRES_IMAGE and GOPROXY when set, because docker compose reads them too.
TAG      ?= 1.0
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
GO_IMAGE ?=
COMPOSE  ?= docker compose
export TAG COMMIT GO_IMAGE

# The course's names: image <service>-service, container tour-catalog,
# booking-service and payment-gateway-service. The images' source label
# tells this project's untagged leftovers from anyone else's.
image     = $(1)-service
container = $(if $(filter tour-catalog,$(1)),tour-catalog,$(1)-service)
IMAGES     := $(foreach s,$(SERVICES),$(call image,$(s)))
CONTAINERS := $(foreach s,$(SERVICES),$(call container,$(s)))
IMAGE_SOURCE := https://github.com/tourism-go/tourism

# docker build of one service, from the repository root (the services share
# pkg/), with the Go image and module proxy when set.
docker_build = $(strip docker build -f services/$(1)/Dockerfile -t $(call image,$(1)):$(TAG) \
	--build-arg VERSION=$(TAG) --build-arg COMMIT=$(COMMIT) \
	$(if $(GO_IMAGE),--build-arg GO_IMAGE=$(GO_IMAGE)) $(if $(GOPROXY),--build-arg GOPROXY) .)

.PHONY: build build-tour-catalog build-booking build-payment-gateway
build: build-tour-catalog build-booking build-payment-gateway ## Build the three images (TAG=1.0; GO_IMAGE=... to build with another Go image)

build-tour-catalog: ## docker build tour-catalog-service:TAG
	$(call docker_build,tour-catalog)

build-booking: ## docker build booking-service:TAG
	$(call docker_build,booking)

build-payment-gateway: ## docker build payment-gateway-service:TAG
	$(call docker_build,payment-gateway)

# Booking's four secrets have no defaults in its image (DESIGN section 6: no
# secret in any layer); without them it runs but refuses bookings, payments,
# webhooks and its admin list (503 not_configured). run-booking passes them by name
# (-e NAME: the value comes from your environment, else these demo values,
# the same as docker-compose.yml's), so the command shows no secret.
BOOKING_SECRETS := CATALOG_SERVICE_TOKEN PAYMENT_API_KEY WEBHOOK_SECRET BOOKING_ADMIN_TOKEN
run-booking: export CATALOG_SERVICE_TOKEN ?= demo-catalog-service-token
run-booking: export PAYMENT_API_KEY ?= sk_test_demo_merchant_key
run-booking: export WEBHOOK_SECRET ?= whsec_demo_webhook_secret
run-booking: export BOOKING_ADMIN_TOKEN ?= demo-booking-admin-token

.PHONY: run run-tour-catalog run-booking run-payment-gateway
run: run-tour-catalog run-booking run-payment-gateway ## Run the three images as standalone containers (Exercise 1), then list them
	docker ps

run-tour-catalog: ## docker run -d -p 3001:3001 --name tour-catalog tour-catalog-service:TAG (demo tours, SQLite)
	docker run -d -p 3001:3001 --name tour-catalog $(call image,tour-catalog):$(TAG)

run-booking: ## docker run -d -p 3002:3002 --name booking-service booking-service:TAG, its secrets passed with -e
	docker run -d -p 3002:3002 --name booking-service $(addprefix -e ,$(BOOKING_SECRETS)) $(call image,booking):$(TAG)

run-payment-gateway: ## docker run -d -p 3004:3004 --name payment-gateway-service payment-gateway-service:TAG
	docker run -d -p 3004:3004 --name payment-gateway-service $(call image,payment-gateway):$(TAG)

.PHONY: ps logs stop rm rmi
ps: ## docker ps: the running containers
	docker ps

logs: ## Follow the compose stack's logs (make logs-<service> for one standalone container)
	$(COMPOSE) logs -f

.PHONY: logs-tour-catalog logs-booking logs-payment-gateway
logs-tour-catalog: ## docker logs -f tour-catalog
	docker logs -f tour-catalog

logs-booking: ## docker logs -f booking-service
	docker logs -f booking-service

logs-payment-gateway: ## docker logs -f payment-gateway-service
	docker logs -f payment-gateway-service

# stop, rm and rmi act on those of the three that exist, and print the
# command with just those names: the one a student would type (docker stop
# tour-catalog), with no "No such container" errors around it.
NAME_FILTERS = $(addprefix --filter name=^,$(addsuffix $$,$(CONTAINERS)))

stop: ## docker stop the three containers (standalone or compose), those running
	@names="$$(docker ps --format '{{.Names}}' $(NAME_FILTERS))"; \
	if [ -z "$$names" ]; then echo "None of $(CONTAINERS) is running."; else \
	echo docker stop $$names && docker stop $$names; fi

rm: stop ## docker rm the three containers, with their /data volume (-v)
	@names="$$(docker ps -a --format '{{.Names}}' $(NAME_FILTERS))"; \
	if [ -z "$$names" ]; then echo "None of $(CONTAINERS) exists."; else \
	echo docker rm -v $$names && docker rm -v $$names; fi

rmi: ## docker rmi the three images (TAG)
	@images="$$(docker images --format '{{.Repository}}:{{.Tag}}' $(addprefix --filter reference=,$(addsuffix :$(TAG),$(IMAGES))))"; \
	if [ -z "$$images" ]; then echo "None of $(addsuffix :$(TAG),$(IMAGES)) exists."; else \
	echo docker rmi $$images && docker rmi $$images; fi

.PHONY: check-images
check-images: ## Check the images and their build contexts (size, user, health check, labels, no shell, .env or secret) and a bare docker run of each
	bash deploy/check-images.sh

# Exercise 2. The edits are one marked line appended to a file, removed
# again afterwards whatever happens.
.PHONY: cache-demo
cache-demo: ## Rebuild tour-catalog after a source edit, then a go.mod edit, and show which steps came from the cache (Exercise 2)
	bash deploy/cache-demo.sh

# The tags this Makefile makes: TAG, and cache-demo's 2.0 and 2.1.
CLEAN_TAGS ?= $(TAG) 2.0 2.1

.PHONY: clean
clean: ## Remove this project's containers, volumes and images (CLEAN_TAGS), nothing else, and show what is left (Exercise 3)
	-$(COMPOSE) down --volumes --remove-orphans
	-$(E2E_COMPOSE) down --volumes --remove-orphans
	-docker rm -f -v $(CONTAINERS)
	docker images --format '{{.Repository}}:{{.Tag}}' $(foreach i,$(IMAGES),$(addprefix --filter reference=$(i):,$(CLEAN_TAGS))) | xargs -r docker rmi
	-docker images -q --filter dangling=true --filter label=org.opencontainers.image.source=$(IMAGE_SOURCE) | xargs -r docker rmi
	docker ps -a $(addprefix --filter name=^,$(addsuffix $$,$(CONTAINERS)))
	docker images $(addprefix --filter reference=,$(IMAGES))

.PHONY: prune
prune: ## The lesson's prune commands: stop and remove EVERY container, image and volume of this machine (asks first)
	@echo "This stops and deletes every container, every image, every unused volume and the"
	@echo "build cache of this Docker engine, including what is not this project's."
	@read -r -p "Type 'prune' to go on: " answer && [ "$$answer" = prune ] || { echo "Nothing deleted."; exit 1; }
	-docker stop $$(docker ps -q)
	-docker rm $$(docker ps -a -q)
	docker image prune -a -f
	docker system prune -a --volumes -f

##@ Compose (the whole application)

.PHONY: up down
up: ## docker compose up: PostgreSQL and the three services, built, healthy, on localhost:3001/3002/3004
	$(COMPOSE) up --build --wait
	@echo
	@echo "  tour-catalog     http://localhost:3001/v1/tours"
	@echo "  booking          http://localhost:3002/v1/bookings/<id>"
	@echo "  payment-gateway  http://localhost:3004/v1/payment_intents/<id>"
	@echo
	@echo "  Try:  curl -s 'http://localhost:3001/v1/tours?limit=2'"
	@echo "  Logs: make logs    Stop: make down"

down: ## docker compose down (the database volume is kept; make clean deletes it)
	$(COMPOSE) down

##@ End-to-end tests

# make e2e runs its own compose project: container names and host ports of
# its own (random, on 127.0.0.1), so it works beside `make up` or the
# standalone containers, and its own secrets (e2e/compose.e2e.yml).
E2E_PROJECT ?= tourism-e2e
E2E_COMPOSE  = $(COMPOSE) -p $(E2E_PROJECT) -f docker-compose.yml -f e2e/compose.e2e.yml

.PHONY: e2e
e2e: ## Build and start a fresh stack, run the black-box tests in e2e/ against it, tear it down (even on failure)
	trap '$(E2E_COMPOSE) down --volumes --remove-orphans --timeout 20' EXIT; trap 'exit 130' INT TERM; \
	$(E2E_COMPOSE) up --build --wait --wait-timeout 300 || { $(E2E_COMPOSE) logs --no-color --tail 60; exit 1; }; \
	E2E_CATALOG_URL=http://$$($(E2E_COMPOSE) port tour-catalog 3001) \
	E2E_BOOKING_URL=http://$$($(E2E_COMPOSE) port booking 3002) \
	E2E_GATEWAY_URL=http://$$($(E2E_COMPOSE) port payment-gateway 3004) \
	  $(GO) test -tags e2e -count=1 -v ./e2e/... || { $(E2E_COMPOSE) logs --no-color --tail 60; exit 1; }

##@ Chaos tests

# make chaos runs a compose project of its own as well (chaos/compose.chaos.yml:
# a second booking replica, short timers, random ports on 127.0.0.1), breaks it
# on purpose through the docker CLI (kill -9, stop and start, a network
# partition, forged webhooks) and checks the invariants across the three
# services after each scenario. The suite builds, starts and removes the
# project itself; the trap removes it too if the suite is interrupted.
CHAOS_PROJECT ?= tourism-chaos
CHAOS_COMPOSE  = $(COMPOSE) -p $(CHAOS_PROJECT) -f docker-compose.yml -f chaos/compose.chaos.yml

.PHONY: chaos
chaos: ## Break a fresh stack on purpose and check that no seat, charge or booking is left inconsistent; writes bench/results/chaos-<date>.md
	trap '$(CHAOS_COMPOSE) down --volumes --remove-orphans --timeout 20' EXIT; trap 'exit 130' INT TERM; \
	CHAOS_PROJECT=$(CHAOS_PROJECT) $(GO) test -tags chaos -count=1 -v -timeout 30m ./chaos/...
