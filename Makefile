# Annotatiestraat: `make demo` and `make test` set up a fresh Debian machine themselves.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := mpv libmpv2 ffmpeg chromium tmux iproute2 systemd tshark python3-venv util-linux adduser xvfb xdotool x11-apps postgresql
DEMO_DIR ?= demo-data
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: setup system venv demo test check bench clean install lock deb

setup: system venv

# Debian packages, only what is missing (needs root, as on the project's machines).
system:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  echo "wireshark-common wireshark-common/install-setuid boolean false" | $$SUDO debconf-set-selections && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

venv: $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'

# A site's install: the project and its runtime dependencies at the versions of
# constraints.txt, no test tools, in $(PREFIX)/.venv (the systemd units' path).
PREFIX ?= /opt/annotatiestraat
install:
	$(PY) -m venv $(PREFIX)/.venv
	$(PREFIX)/.venv/bin/pip install -q -U pip
	$(PREFIX)/.venv/bin/pip install -q -c constraints.txt .
	$(PREFIX)/.venv/bin/python -m compileall -q $(PREFIX)/.venv  # the hub unit's /opt is read-only

# constraints.txt again from a fresh venv with the runtime dependencies only (after a change
# of dependencies in pyproject.toml, or to take newer versions on purpose).
lock:
	rm -rf .lock-venv && $(PY) -m venv .lock-venv
	.lock-venv/bin/pip install -q .
	{ sed -n '/^#/p' constraints.txt; .lock-venv/bin/pip freeze --exclude annotatiestraat; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .lock-venv build

# The Debian package (dist/annotatiestraat_VERSION_ARCH.deb): see packaging/build-deb.sh.
deb:
	packaging/build-deb.sh dist

demo: setup
	$(BIN)/python -m scripts.demo --data $(DEMO_DIR)

test: setup
	$(MAKE) --no-print-directory check
	$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

# Lint, format, layering and types (the tool versions are pinned in the dev extra).
check: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(DEMO_DIR) .pytest_cache dist build
