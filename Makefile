# fusejail: `make run` sets everything up and starts the example; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := build

NODE ?= node
NODE_INCLUDE := $(shell $(NODE) -p "require('path').join(process.execPath,'..','..','include','node')" 2>/dev/null)
CC ?= cc
CFLAGS ?= -O2 -g -Wall -Wextra -Wno-unused-parameter

# Debian packages, each named with a file that proves it is installed.
DEB_NEEDS := libfuse3-dev:/usr/include/fuse3/fuse_lowlevel.h fuse3:/usr/bin/fusermount3 \
  pkg-config:/usr/bin/pkg-config gcc:/usr/bin/gcc make:/usr/bin/make \
  libseccomp-dev:/usr/include/seccomp.h busybox-static:/bin/busybox python3:/usr/bin/python3 \
  libjansson-dev:/usr/include/jansson.h passt:/usr/bin/pasta
# The peers of make bench; podman and runc come with OCI_NEEDS (without Recommends).
BENCH_NEEDS := bindfs:/usr/bin/bindfs bubblewrap:/usr/bin/bwrap bc:/usr/bin/bc fuse-overlayfs:/usr/bin/fuse-overlayfs
# The tests drive an interactive shell through tmux, read process lists with ps and make System V
# message queues with ipcmk; without them
# (and not root to install them) those tests are skipped with the reason printed.
TEST_NEEDS := tmux:/usr/bin/tmux procps:/usr/bin/ps util-linux:/usr/bin/ipcmk
# The OCI runtime's real clients (test/integration/oci/): podman through conmon, containerd's shim
# through ctr, runc and crun as references; catatonit for podman's pods. Installed without
# Recommends: podman's would pull fuse-overlayfs and more that the tests do not use.
OCI_NEEDS := podman:/usr/bin/podman runc:/usr/sbin/runc crun:/usr/bin/crun conmon:/usr/bin/conmon \
  catatonit:/usr/bin/catatonit containerd:/usr/bin/containerd
PREFIX ?= /usr/local
# NOTE: podman asks for nofile=1048576 by default, above this machine's hard limit, and root here
# lacks CAP_SYS_RESOURCE to raise it: every podman run fails. On hybrid cgroups (v1 controllers
# with a v2 tree beside them, as here) podman's default runtime, crun, refuses to run at all, so
# runc is made the default there. Each key is added only when missing (the file made if missing),
# and nothing else in an existing file is touched.
CONTAINERS_CONF := /etc/containers/containers.conf
OCI_ULIMITS := default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
OCI_RUNTIME := runtime = "runc"
# $(1): section, $(2): key, $(3): the line to add, $(4): why, $(5): a shell test that must hold too.
define conf_key
	@f=$(CONTAINERS_CONF); \
	if [ "$$(id -u)" = 0 ] && [ -e /usr/bin/podman ] && $(5) && ! grep -qs '^[[:space:]]*$(2)[[:space:]]*=' "$$f"; then \
	  mkdir -p "$${f%/*}" && touch "$$f"; \
	  if grep -q '^\[$(1)\]' "$$f"; then sed -i '/^\[$(1)\]/a $(3)' "$$f"; \
	  else { [ ! -s "$$f" ] || echo >> "$$f"; printf '[$(1)]\n%s\n' '$(3)' >> "$$f"; }; fi && echo "added to $$f: [$(1)]" '$(3)' "($(4))"; \
	fi
endef
define containers_conf
	$(call conf_key,containers,default_ulimits,$(OCI_ULIMITS),root here cannot raise rlimits to podman's defaults,true)
	$(call conf_key,engine,runtime,$(OCI_RUNTIME),crun refuses hybrid cgroups,mountpoint -q /sys/fs/cgroup/unified)
endef

.PHONY: deps debs subids bench-deps test-deps build native ts run test bench docs install clean

# $(1): package:file pairs. $(2) non-empty: optional, so a user who is not root is told, not stopped.
# $(3): more apt-get options.
define install_missing
	@missing=""; for pair in $(1); do pkg=$${pair%%:*}; file=$${pair#*:}; \
	  [ -e "$$file" ] || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(3) $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages:$$missing"; \
	    echo "install them with: sudo apt-get install$$missing"; $(if $(2),true,exit 1); \
	  fi; \
	fi
endef

deps: debs subids node_modules/.package-lock.json
	@[ -e /dev/fuse ] || echo "note: /dev/fuse is missing; FUSE tests will be skipped" >&2

# The subordinate range `--userns` maps container ids 0-65535 to (docs/security.md): a
# "fusejail:START:65536" line in /etc/subuid and /etc/subgid. START is the first multiple of 65536
# at or above 100000 that overlaps no entry of either file (or, when one file has the line
# already, its START, if that overlaps nothing in the other). The tests point SUBUID and SUBGID
# at files of their own.
SUBUID ?= /etc/subuid
SUBGID ?= /etc/subgid
subids:
	@uid=$$(grep -s '^fusejail:' $(SUBUID)); gid=$$(grep -s '^fusejail:' $(SUBGID)); \
	if [ -z "$$uid" ] || [ -z "$$gid" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "note: no subordinate range for \"fusejail\" in $(SUBUID) and $(SUBGID): --userns needs one;" >&2; \
	    echo "  as root, run make deps, or add the same fusejail:START:65536 line to both (see docs/security.md)" >&2; \
	  else \
	    start=$$(awk -F: -v had="$$uid$$gid" 'BEGIN { n = 0 } \
	      function free(s,  i) { for (i = 0; i < n; i++) if (s < from[i] + count[i] && from[i] < s + 65536) return 0; return 1 } \
	      NF == 3 && $$2 ~ /^[0-9]+$$/ && $$3 ~ /^[0-9]+$$/ && $$1 != "fusejail" { from[n] = $$2 + 0; count[n++] = $$3 + 0 } \
	      END { split(had, h, ":"); if (h[2] ~ /^[0-9]+$$/ && h[2] >= 65536 && free(h[2] + 0)) { print h[2]; exit } \
	            for (s = 131072; !free(s); s += 65536) {} print s }' $$(ls $(SUBUID) $(SUBGID) 2>/dev/null) </dev/null); \
	    for file in $(SUBUID) $(SUBGID); do \
	      grep -qs '^fusejail:' $$file || { [ -z "$$(tail -c1 $$file 2>/dev/null)" ] || echo >> $$file; echo "fusejail:$$start:65536" >> $$file && echo "added fusejail:$$start:65536 to $$file"; }; \
	    done; \
	  fi; \
	fi

# Debian packages come first: npm ci builds node-pty, and the C programs link libfuse3, libseccomp, jansson.
debs:
	$(call install_missing,$(DEB_NEEDS))

node_modules/.package-lock.json: package.json package-lock.json | debs
	npm ci --no-audit --no-fund
	@touch $@

bench-deps: deps
	$(call install_missing,$(BENCH_NEEDS))
	$(call install_missing,$(OCI_NEEDS),,--no-install-recommends)
	$(containers_conf)

test-deps: deps
	$(call install_missing,$(TEST_NEEDS),optional)
	$(call install_missing,$(OCI_NEEDS),optional,--no-install-recommends)
	$(containers_conf)

build: deps native ts bin/fusejail

native: build/native/peer-credentials.node build/native/launcher build/native/context-server

LAUNCHER_SRC := $(wildcard native-bindings/launcher/*.c)
build/native/launcher: $(LAUNCHER_SRC) native-bindings/launcher/launcher.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(LAUNCHER_SRC) -lseccomp -ljansson

CONTEXT_SERVER_SRC := $(wildcard native-bindings/context-server/*.c)
build/native/context-server: $(CONTEXT_SERVER_SRC) native-bindings/context-server/context-server.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $$(pkg-config --cflags fuse3) -o $@ $(CONTEXT_SERVER_SRC) $$(pkg-config --libs fuse3) -ljansson -lpthread

build/native/peer-credentials.node: native-bindings/peer-credentials.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC -I$(NODE_INCLUDE) -o $@ $<

# A tiny program the tests run inside containers to report what it observes.
build/test/probe: test/probe/probe.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $<

ts: node_modules/.package-lock.json
	npx tsc -p tsconfig.json

# The command itself: the OCI runtime's verbs in C; every other use exec's node on dist/cli/main.js.
# NOTE: the launcher's jail (jail.c, util.c) is linked, not copied, for run.fusejail.jail=true.
OCI_SRC := $(wildcard native-bindings/oci/*.c)
OCI_JAIL_SRC := native-bindings/launcher/jail.c native-bindings/launcher/util.c
bin/fusejail: $(OCI_SRC) $(wildcard native-bindings/oci/*.h) $(OCI_JAIL_SRC) native-bindings/launcher/launcher.h
	@mkdir -p bin
	$(CC) $(CFLAGS) -Wno-format-truncation -D_GNU_SOURCE= -DOCI_JAIL -o $@ $(OCI_SRC) $(OCI_JAIL_SRC) -lseccomp -ljansson

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
	test/bench/oci.sh

# `fusejail` on the PATH: a link to this checkout's command (it finds dist/ through the link).
# docs/cli.md and docs/config.schema.json are made from the code; a test checks they are current.
docs: build
	env -u NODE_OPTIONS $(NODE) dist/cli/reference.js

install: build
	ln -sf $(CURDIR)/bin/fusejail $(DESTDIR)$(PREFIX)/bin/fusejail

clean:
	rm -rf build dist bin
