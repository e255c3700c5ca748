# Jovial: the two commands are `make lab` and `make test`. Everything they need is installed
# by scripts/bootstrap.sh (Debian packages, .venv/ from pyproject.toml).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export CONTAINERS_CONF := $(CURDIR)/images/base/containers.conf
# Role and plugin paths are ansible.cfg's (relative to it, so from any directory). Molecule
# writes an ansible.cfg of its own: .config/molecule/config.yml passes the same paths there.
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR ?= 0
# The lab's Kubernetes build (binaries from Go modules, images built with podman): a cache
# outside the checkout, one directory per version, shared by every clone (CI) on this machine.
export JOVIAL_CACHE_DIR ?= /var/cache/jovial
export JOVIAL_KUBE_CACHE ?= $(JOVIAL_CACHE_DIR)/kubernetes
export JOVIAL_KUBE_IMAGE_REPO ?= jovial.lab/k8s
# The hub and notebook images as archives the lab's Kubernetes workers import (app-images).
export JOVIAL_APP_IMAGES ?= $(JOVIAL_CACHE_DIR)/app-images
export JOVIAL_IMAGE_CACHE ?= $(JOVIAL_CACHE_DIR)/images-build
export PY_COLORS ?= 0

# Molecule scenarios, in the order the layers stack (every directory under molecule/ except
# the shared resources).
SCENARIOS ?= $(sort $(filter-out resources,$(notdir $(patsubst %/,%,$(wildcard molecule/*/)))))
PLAYBOOKS := $(wildcard playbooks/*.yml) site.yml

.PHONY: help deps image kube-artifacts artifacts images app-images images-test lab lab-node lab-check lab-down lab-verify test lint syntax sanity unit molecule bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

deps: ## Install Debian prerequisites and the project virtualenv (idempotent)
	@scripts/bootstrap.sh

image: deps ## Build the lab/Molecule node image (only when its inputs changed)
	@images/base/build.sh

kube-artifacts: deps image ## Build the Kubernetes binaries and images for the lab (cached per version)
	@start=$$(date +%s); out=$$(scripts/kube-build.sh) && \
	  images/kubernetes/build.sh "$$out" "$(JOVIAL_KUBE_IMAGE_REPO)" && \
	  echo ">> kube-artifacts ready in $$out ($$(( $$(date +%s) - start )) s)"

artifacts: image kube-artifacts app-images ## The node image, the Kubernetes build and the hub and notebook images (all cached; unit tests and Molecule read them)

images: image ## Also build the notebook image (kubernetes backend; JOVIAL_SITE_CA=ca.crt to trust a site CA)
	@images/notebook/build.sh

app-images: deps image ## Build the hub and notebook images and save them for the lab's workers (cached by inputs)
	@start=$$(date +%s); for name in hub notebook; do images/build-app.sh $$name --save "$(JOVIAL_APP_IMAGES)"; done; \
	  echo ">> app-images ready in $(JOVIAL_APP_IMAGES) ($$(( $$(date +%s) - start )) s)"

images-test: images ## Smoke-test the notebook image as an arbitrary uid (about 1 min once built)
	pytest tests/images

lab: deps image kube-artifacts app-images ## Build the lab, converge site.yml on it, print how to reach it
	@JOVIAL_BASE_IMAGE=$$(images/base/build.sh --print) scripts/lab-up.sh

lab-node: deps image ## Re-create one lab node bare from the image (NODE=hub1), converging nothing
	@JOVIAL_BASE_IMAGE=$$(images/base/build.sh --print) scripts/lab-node.sh "$(NODE)"

lab-verify: ## Run playbooks/verify.yml against the lab; the health report goes to build/lab/verify.html (.json)
	@rc=0; JOVIAL_HEALTH_REPORT=$(CURDIR)/build/lab/verify ansible-playbook -i inventories/lab playbooks/verify.yml || rc=$$?; \
	  echo ">> health report: $(CURDIR)/build/lab/verify.html (and verify.json)"; exit $$rc

lab-check: ## Check the lab's hubs on Kubernetes as users do (tests/lab/: login, spawn, identity, isolation, restart, quota)
	pytest -p no:cacheprovider tests/lab

lab-down: ## Remove every container, network, volume and loop device of the lab
	@scripts/lab-down.sh

test: ## Everything CI runs: lint, sanity, unit tests, every Molecule scenario (each stage timed)
	@for stage in deps artifacts lint sanity unit molecule; do \
	  start=$$(date +%s); $(MAKE) --no-print-directory $$stage || exit 1; \
	  echo ">> make $$stage: $$(( $$(date +%s) - start )) s"; \
	done

lint: deps syntax ## ruff and ansible-lint (production profile)
	ruff check .
	ruff format --check .
	ansible-lint

syntax: deps ## ansible-playbook --syntax-check of every playbook
	@for pb in $(PLAYBOOKS); do \
	  echo ">> syntax-check $$pb"; \
	  ansible-playbook -i inventories/lab --syntax-check $$pb >/dev/null; \
	done

sanity: deps ## ansible-test sanity on plugins/ as the collection jovial.platform (galaxy.yml), in build/
	@scripts/sanity.sh

unit: deps artifacts ## Unit tests (plugins, validator, filters) - no hosts; the lab inventory test reads the built checksums
	pytest tests/unit

molecule: deps image kube-artifacts app-images ## Every Molecule scenario (converge, idempotence, verify, drills)
	@export JOVIAL_BASE_IMAGE=$$(images/base/build.sh --print); \
	for s in $(SCENARIOS); do \
	  echo ">> molecule test -s $$s"; start=$$(date +%s); \
	  molecule test -s $$s || exit 1; \
	  echo ">> molecule test -s $$s: $$(( $$(date +%s) - start )) s"; \
	done

bench: deps image ## Benchmarks (write figures to build/bench/); BENCH=name runs one
	@export JOVIAL_BASE_IMAGE=$$(images/base/build.sh --print); \
	for b in $(or $(BENCH:%=tests/bench/bench_%.py),$(sort $(wildcard tests/bench/bench_*.py))); do \
	  echo ">> $$b"; python $$b || exit 1; \
	done

clean: lab-down ## Remove the lab and build outputs (keeps the package cache)
	rm -rf build/bench build/lab build/collections
