# ctreset — GNU make. `make` builds the tools; see README.md for the rest.
# Everything is built under build/; nothing is installed.

CC ?= cc
BUILD ?= build
PKGS := libpcap libnl-3.0 libnl-route-3.0 libnl-nf-3.0
# The flags come from pkg-config when a recipe runs ("=", not ":="): on a fresh machine
# the packages appear only once the deps target has run (bench/deps), after make has
# read this file. Every object waits for build-deps (order-only prerequisite, below).
# Debian's libnet1-dev ships libnet-config, not a .pc file
LIBNET_CFLAGS = $(shell pkg-config --cflags libnet 2>/dev/null)
LIBNET_LIBS = $(shell pkg-config --libs libnet 2>/dev/null || libnet-config --libs 2>/dev/null || echo -lnet)

CFLAGS ?= -O2 -g
ALL_CFLAGS = $(CFLAGS) -pthread -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 -MMD -MP \
	  $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(LIBNET_CFLAGS) -Itools/lib
# -z now: every symbol bound at the program's start, once. ctreset-inject --cells forks a
# child a cell, and lazily bound, each child resolved again every libpcap/libnl/libc
# function the cell called (~5% of a cell's CPU in perf record, _dl_fixup)
LDLIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(LIBNET_LIBS) -pthread -Wl,-z,now

LIB_SRC := $(wildcard tools/lib/base/*.c tools/lib/live/*.c tools/lib/review/*.c tools/lib/audit/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libctreset.a
TOOLS := ctreset-inject ctreset-workload ctreset-review ctreset-audit ctreset-shard
TOOL_BIN := $(TOOLS:%=$(BUILD)/%)

UNIT_SRC := $(wildcard tests/unit/*.c) tests/fuzz/target.c $(wildcard tests/fuzz/fuzz_*.c)
UNIT_BIN := $(BUILD)/unit-tests

# Fuzzing (libFuzzer, clang, ASan + UBSan + LeakSanitizer; every sanitizer report is fatal).
# A target is one file: tests/fuzz/fuzz_NAME.c holding FUZZ_TARGET(NAME) { ... } (see
# tests/fuzz/target.h). From that file alone it is built into $(BUILD)/fuzz-NAME (against the
# library compiled with coverage and sanitizers), run by `make fuzz` with its seeds
# (tests/fuzz/seed/NAME/), its regressions (tests/fuzz/regress/NAME/) and its dictionary
# (tests/fuzz/NAME.dict when there is one; tests/fuzz/NAME.options, more libFuzzer flags for
# it, e.g. -max_len=N), and compiled into the unit tests, whose regress replay runs every
# registered target over its seeds and regressions (make unit, make check).
# FUZZ_TIME (seconds, default 60) is the whole campaign's: split evenly among the targets
# (at least 1 s each). FUZZ_TARGETS picks some (default all); FUZZ_ARGS adds libFuzzer
# flags (e.g. -runs=N). New inputs go to $(BUILD)/fuzz-corpus/NAME, a crasher to
# $(BUILD)/fuzz-crash/NAME-crash-*: copy it into tests/fuzz/regress/NAME/.
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_ARGS ?=
FUZZ_ALL := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_OBJ := $(BUILD)/fuzz-obj
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
# clang 14 also warns on {"a", B, "c"} initializers that leave later fields zero; gcc does not
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	      -Wshadow -Wno-missing-field-initializers -MMD -MP $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	      $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(LIBNET_CFLAGS) -Itools/lib -Itests/fuzz
FUZZ_LIB := $(FUZZ_OBJ)/libctreset.a
# a 16 MB quarantine, not 256: a use after free is still caught within the last 16 MB freed,
# and the targets run 2-5x faster (fresh quarantine pages made most of their time page faults)
FUZZ_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=16 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

.PHONY: all deps build-deps repro repro-http check-readme load matrix kernels check unit unit-san integration bench bench-review bench-scale soak fuzz \
	ref-pcaps clean help lint


# pairs of the soak (make soak SOAK_PAIRS=N); SOAK_FLAGS passes more (e.g. --jobs 2 --keep)
SOAK_PAIRS ?= 500
SOAK_FLAGS ?=

all: $(TOOL_BIN)

help:
	@echo "make            build the C tools into $(BUILD)/"
	@echo "make deps       install the Debian packages the bench needs (root)"
	@echo "make repro      run the default scenarios and print the verdict table (root)"
	@echo "make repro-http the same scenarios with nginx and curl (bench/repro --workload http)"
	@echo "make load       10 curl loops against 2 nginx backends with injections, per workaround:"
	@echo "                downloads completed/reset and a plot (bench/load; about 80 s, root)"
	@echo "make matrix     every trigger x workaround x topology x backend x family (root)"
	@echo "bench/advise   (a script) which workaround stops which reset and what it breaks, one page (root)"
	@echo "make kernels    bench/repro and a matrix slice on host, Debian 5.10, 6.1 and 6.12 kernels in"
	@echo "                qemu VMs: one table across kernels (bench/kernels; KERNELS_ARGS, root)"
	@echo "make check      lint, unit tests, then the root integration tests on this kernel"
	@echo "make check-readme  the README's commands make check does not run, as written (tests/readme-commands; CI, root)"
	@echo "make unit       unit tests only (no root needed); unit-san: under ASan+UBSan"
	@echo "make bench      performance figures (root), bench/perf-review among them"
	@echo "make bench-review  ctreset-review's throughput vs tcpdump and tshark (root)"
	@echo "make fuzz       fuzz every parser of outside input, FUZZ_TIME seconds in all (default 60)"
	@echo "make ref-pcaps  regenerate the synthetic reference captures in pcaps/ref/synth"
	@echo "make bench-scale 0/1k/5k/10k services per backend: load time, size, connect time, verdicts, plot (root)"
	@echo "make soak       $(SOAK_PAIRS) control+workaround pairs: wrong/inconclusive counts, durations (root)"
	@echo "make lint       clang-format and shellcheck over the tree: clean, or it fails"
	@echo "make install    the ctreset command, scripts, programs, data, man page (PREFIX=/usr/local, DESTDIR)"
	@echo "make uninstall  removes what make install installed (same PREFIX, DESTDIR)"
	@echo "make deb        the Debian package: $(BUILD)/deb/ctreset_VERSION_amd64.deb (docs/install.md)"
	@echo "make clean      remove $(BUILD)/"

# installs the missing packages as root; otherwise names them and fails (in a few ms when
# nothing is missing). build-deps: only those the build needs, before any compiling.
deps:
	@bench/deps

build-deps:
	@bench/deps --build

$(BUILD)/%.o: %.c | build-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/ctreset-%: $(BUILD)/tools/%.o $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT_BIN): $(UNIT_SRC:%.c=$(BUILD)/%.o) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -lcunit

$(BUILD)/tests/unit/%.o $(BUILD)/tests/fuzz/%.o: ALL_CFLAGS += -Itests/fuzz

$(BUILD)/refgen: $(BUILD)/tests/ref/refgen.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

ref-pcaps: $(BUILD)/refgen
	@mkdir -p pcaps/ref/synth
	$(BUILD)/refgen pcaps/ref/synth

$(FUZZ_OBJ)/%.o: %.c | build-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_LIB): $(LIB_SRC:%.c=$(FUZZ_OBJ)/%.o)
	$(AR) rcs $@ $^

$(BUILD)/fuzz-%: $(FUZZ_OBJ)/tests/fuzz/fuzz_%.o $(FUZZ_OBJ)/tests/fuzz/target.o \
		 $(FUZZ_OBJ)/tests/fuzz/driver.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# the targets one after the other (one core), each for its share of FUZZ_TIME
fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz-%)
	@n=$(words $(FUZZ_TARGETS)); t=$$(( $(FUZZ_TIME) / n )); [ "$$t" -ge 1 ] || t=1; \
	for name in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz-corpus/$$name $(BUILD)/fuzz-crash tests/fuzz/seed/$$name \
			tests/fuzz/regress/$$name; \
		dict=; [ ! -f tests/fuzz/$$name.dict ] || dict=-dict=tests/fuzz/$$name.dict; \
		opts=; [ ! -f tests/fuzz/$$name.options ] || opts=$$(cat tests/fuzz/$$name.options); \
		echo "fuzz-$$name: $$t s"; \
		$(FUZZ_ENV) $(BUILD)/fuzz-$$name -max_total_time=$$t -print_final_stats=1 \
			-timeout=10 -artifact_prefix=$(BUILD)/fuzz-crash/$$name- $$dict $$opts $(FUZZ_ARGS) \
			$(BUILD)/fuzz-corpus/$$name tests/fuzz/seed/$$name \
			tests/fuzz/regress/$$name || exit 1; \
	done

repro: deps all
	bench/repro

matrix: deps all
	bench/matrix $(MATRIX_ARGS)

# KERNELS_ARGS passes options to bench/kernels (e.g. --kernel debian:6.1 --accel tcg)
kernels: deps all
	bench/kernels $(KERNELS_ARGS)

# ctreset-workload beside the unit tests: test_live.c runs it as a thread of theirs (child.c)
unit: $(UNIT_BIN) $(BUILD)/ctreset-workload
	CTR_TOP=$(CURDIR) $(UNIT_BIN)

# the unit tests again, built with AddressSanitizer and UndefinedBehaviorSanitizer
unit-san:
	$(MAKE) BUILD=$(BUILD)/san CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" unit

# TESTS: only these integration tests (e.g. TESTS="repro http")
integration: all
	tests/integration/run $(TESTS)

# (lint only on the whole check: make check TESTS=... is a run of those tests)
check: deps
	$(if $(TESTS),,$(MAKE) lint)
	$(MAKE) unit-san
	$(MAKE) integration

repro-http: deps all
	bench/repro --workload http

# the README's commands make check does not run, as written (tests/readme-commands, class
# ci; .ci/run's second step after make check)
CTR_README_CLASS ?= ci
check-readme: deps all
	CTR_README_CLASS=$(CTR_README_CLASS) tests/integration/test_readme.sh

load: deps all
	bench/load

bench: deps all
	bench/perf
	bench/perf-review
	@echo "bench/kernels: boot to first command, bench/repro in a VM against natively, wall time (host, Debian 5.10, 6.1, 6.12):"
	bench/kernels $(KERNELS_ARGS)
	@echo "bench/audit-agreement: ctreset-audit, live and from its dumps, against every configuration of the matrix:"
	bench/audit-agreement

bench-review: all
	bench/perf-review

soak: deps all
	bench/soak --pairs $(SOAK_PAIRS) $(SOAK_FLAGS)

# SCALE_FLAGS passes options to bench/scale (e.g. --services "0 1000" --backends iptables)
SCALE_FLAGS ?=
bench-scale: deps all
	bench/scale $(SCALE_FLAGS)

# --- install (issue 24): make install [PREFIX=/usr/local] [DESTDIR=], make uninstall, make deb.
# PREFIX/lib/ctreset mirrors the checkout (bench/, topology/, tools/lib/sh/, the exit codes'
# header, build/ctreset-*), so the scripts find each other by the same relative paths; the
# data (the oracle, the scenarios, kube-proxy's release table) is in PREFIX/share/ctreset,
# linked from where the scripts read it. PREFIX/bin/ctreset links to the command
# (tools/ctreset). PREFIX/lib/ctreset/version holds VERSION: it marks the tree installed.
PREFIX ?= /usr/local
DESTDIR ?=
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
CTR_LIBDIR = $(PREFIX)/lib/ctreset
CTR_SHAREDIR = $(PREFIX)/share/ctreset
CTR_MAN := $(wildcard docs/man/*.8)
# data: installed under share/, the lib tree's copies are links to it
CTR_DATA := bench/matrix.expect bench/scenarios topology/kube-proxy-releases
# bench/deps installs the checkout's build packages: not for an installed tree
CTR_SCRIPTS = $(filter-out $(CTR_DATA) bench/deps,$(wildcard bench/* topology/*)) \
	      $(wildcard tools/lib/sh/*.sh) tools/lib/base/exitcodes.h tools/ctreset

.PHONY: install uninstall deb
install: all
	@set -e; L=$(DESTDIR)$(CTR_LIBDIR); S=$(DESTDIR)$(CTR_SHAREDIR); \
	for f in $(CTR_SCRIPTS); do \
		[ -f "$$f" ] || continue; \
		m=0644; [ -x "$$f" ] && m=0755; \
		install -D -m $$m "$$f" "$$L/$$f"; \
	done; \
	for t in $(TOOLS); do install -D -m 0755 $(BUILD)/$$t "$$L/build/$$t"; done; \
	for f in $(CTR_DATA); do \
		install -D -m 0644 "$$f" "$$S/$${f##*/}"; \
		ln -sfn "../../../share/ctreset/$${f##*/}" "$$L/$$f"; \
	done; \
	printf '%s\n' '$(VERSION)' >"$$L/version"; \
	install -d $(DESTDIR)$(PREFIX)/bin; \
	ln -sfn ../lib/ctreset/tools/ctreset $(DESTDIR)$(PREFIX)/bin/ctreset; \
	for m in $(CTR_MAN); do install -D -m 0644 "$$m" "$(DESTDIR)$(PREFIX)/share/man/man8/$${m##*/}"; done; \
	install -D -m 0644 tools/ctreset-completion.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ctreset

uninstall:
	rm -rf $(DESTDIR)$(CTR_LIBDIR) $(DESTDIR)$(CTR_SHAREDIR)
	rm -f $(DESTDIR)$(PREFIX)/bin/ctreset $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ctreset
	rm -f $(CTR_MAN:docs/man/%=$(DESTDIR)$(PREFIX)/share/man/man8/%)

# the Debian package, built from a copy of the tree (dpkg-buildpackage writes beside it):
# $(BUILD)/deb/ctreset_VERSION_amd64.deb. Needs bench/deps --package.
deb:
	@bench/deps --package
	tools/deb $(BUILD)/deb
# --- end install

# C against .clang-format, bash against ShellCheck (.shellcheckrc): clean, or it fails
lint:
	@bench/deps --lint
	tools/lint

clean:
	rm -rf $(BUILD)

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' -type f -not -path '$(BUILD)/kernels-cache/*' 2>/dev/null)
