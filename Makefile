# fusejail: `make run` sets everything up and starts the example; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := build

NODE ?= node
NODE_INCLUDE := $(shell $(NODE) -p "require('path').join(process.execPath,'..','..','include','node')" 2>/dev/null)
CC ?= cc
CFLAGS ?= -O2 -g -Wall -Wextra -Wno-unused-parameter
FUSE_NATIVE := node_modules/fuse-native
FUSE_INCLUDE := node_modules/fuse-shared-library-linux/libfuse/include

# Debian packages, each named with a file that proves it is installed.
DEB_NEEDS := libfuse2:/usr/lib/x86_64-linux-gnu/libfuse.so.2 fuse:/usr/bin/fusermount \
  gcc:/usr/bin/gcc make:/usr/bin/make libseccomp-dev:/usr/include/seccomp.h \
  busybox-static:/bin/busybox patch:/usr/bin/patch python3:/usr/bin/python3 \
  libjansson-dev:/usr/include/jansson.h
# podman runs with runc; see test/bench/supervisor.sh for the containers.conf this machine needs.
BENCH_NEEDS := bindfs:/usr/bin/bindfs bubblewrap:/usr/bin/bwrap bc:/usr/bin/bc podman:/usr/bin/podman runc:/usr/sbin/runc
# The tests drive an interactive shell through tmux and read process lists with ps; without them
# (and not root to install them) those tests are skipped with the reason printed.
TEST_NEEDS := tmux:/usr/bin/tmux procps:/usr/bin/ps
PREFIX ?= /usr/local

.PHONY: deps debs bench-deps test-deps build native ts run test bench docs install clean

# $(1): package:file pairs. $(2) non-empty: optional, so a user who is not root is told, not stopped.
define install_missing
	@missing=""; for pair in $(1); do pkg=$${pair%%:*}; file=$${pair#*:}; \
	  [ -e "$$file" ] || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages:$$missing"; \
	    echo "install them with: sudo apt-get install$$missing"; $(if $(2),true,exit 1); \
	  fi; \
	fi
endef

deps: debs node_modules/.package-lock.json
	@[ -e /dev/fuse ] || echo "note: /dev/fuse is missing; FUSE tests will be skipped" >&2

# Debian packages come first: npm ci builds node-pty and fuse-native links libfuse.so.2.
debs:
	$(call install_missing,$(DEB_NEEDS))

node_modules/.package-lock.json: package.json package-lock.json | debs
	npm ci --no-audit --no-fund
	@touch $@

bench-deps: deps
	$(call install_missing,$(BENCH_NEEDS))

test-deps: deps
	$(call install_missing,$(TEST_NEEDS),optional)

build: deps native ts bin/fusejail

native: build/native/fsat.node build/native/launcher $(FUSE_NATIVE)/build/Release/fuse.node

LAUNCHER_SRC := $(wildcard native-bindings/launcher/*.c)
build/native/launcher: $(LAUNCHER_SRC) native-bindings/launcher/launcher.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(LAUNCHER_SRC) -lseccomp -ljansson

build/native/fsat.node: native-bindings/fsat.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC -I$(NODE_INCLUDE) -o $@ $<

# NOTE: fuse-native's prebuild swaps mtime for atime and hides the caller's uid/gid/pid; we build it
# from its own source with native-bindings/fuse-native.patch (see that file), against the system
# libfuse.so.2. node-gyp-build prefers build/Release over the prebuild.
$(FUSE_NATIVE)/build/Release/fuse.node: native-bindings/fuse-native.patch node_modules/.package-lock.json
	@mkdir -p build/fuse-native $(@D)
	cp $(FUSE_NATIVE)/fuse-native.c build/fuse-native/fuse-native.c
	patch --quiet build/fuse-native/fuse-native.c native-bindings/fuse-native.patch
	$(CC) -O2 -g -shared -fPIC -D_FILE_OFFSET_BITS=64 -DFUSE_USE_VERSION=29 -I$(NODE_INCLUDE) \
	  -Inode_modules/napi-macros -I$(FUSE_INCLUDE) -o $@ build/fuse-native/fuse-native.c \
	  -l:libfuse.so.2 -lpthread

# A tiny program the tests run inside containers to report what it observes.
build/test/probe: test/probe/probe.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $<

ts: node_modules/.package-lock.json
	npx tsc -p tsconfig.json

bin/fusejail:
	@mkdir -p bin
	printf '#!/usr/bin/env node\nimport "../dist/cli/main.js";\n' > $@
	chmod +x $@

# Starts the example container (SerenityOS's buggiebox, rebuilt with Debian's busybox) with a
# terminal; `exit` leaves it and releases everything.
run: build
	./bin/fusejail run -t -f examples/buggiebox.json

# tap prints its own report; the last line is the plain "N passed, N failed, N skipped" summary.
test: build build/test/probe test-deps
	@mkdir -p build
	@set -o pipefail; npx tap 2>&1 | tee build/test.log; status=$$?; \
	  $(NODE) test/summary.mjs build/test.log; exit $$status

bench: build bench-deps
	test/bench/launch.sh
	test/bench/fuse.sh
	test/bench/supervisor.sh
	test/bench/examples.sh

# `fusejail` on the PATH: a link to this checkout's command (it finds dist/ through the link).
# docs/cli.md and docs/config.schema.json are made from the code; a test checks they are current.
docs: build
	env -u NODE_OPTIONS $(NODE) dist/cli/reference.js

install: build
	ln -sf $(CURDIR)/bin/fusejail $(DESTDIR)$(PREFIX)/bin/fusejail

clean:
	rm -rf build dist bin $(FUSE_NATIVE)/build
