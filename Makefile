# Makefile -- one non-recursive GNU Makefile for the MFA challenge service.
#
#   make            build build/mfa.fcgi, build/mfactl, build/mfa-deliver
#   make run        install missing Debian packages, build, start the demo
#   make check      install missing packages, run every test
#   make unit       unit tests only      make sanitize  unit tests, ASan+UBSan
#   make clang      the same build and unit tests with clang
#   make valgrind   unit tests under valgrind memcheck
#   make integration   integration tests (real lighttpd, nginx + spawn-fcgi)
#   make lint       mandoc -Tlint on the man pages, secret-compare check
#   make bench      throughput and latency against the FastCGI ceiling
#                   (lighttpd; BENCH_SERVER=nginx for nginx + spawn-fcgi)
#   make integration-asan   the integration tests against the ASan build
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make faultinject   build/fault: a store that fails every Nth call
#   make install    PREFIX=/usr/local DESTDIR=
#
# Site overrides go in Makefile.local (not tracked).

CC ?= cc
PKGS := fcgi lmdb libsodium jansson libcrypto libqrencode libpng libseccomp
PREFIX ?= /usr/local
BUILD ?= build

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wformat=2 \
	-Wno-unused-parameter
CSTD := -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT ?= -O2 -g
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE

-include Makefile.local

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(HARDEN) -Iinclude $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS = $(PKG_LIBS)

MAIN_SRCS := fcgi-app/main_fcgi.c $(wildcard fcgi-app/mfa_deliver*.c) \
	$(wildcard fcgi-app/mfactl*.c)
CORE_SRCS := $(filter-out $(MAIN_SRCS),$(wildcard fcgi-app/*.c))
CTL_SRCS := $(wildcard fcgi-app/mfactl*.c)
UNIT_SRCS := $(wildcard tests/unit/*.c)

define objs
$(patsubst %.c,$(1)/obj/%.o,$(2))
endef

CORE_OBJS := $(call objs,$(BUILD),$(CORE_SRCS))
FCGI_OBJS := $(call objs,$(BUILD),fcgi-app/main_fcgi.c)
CTL_OBJS := $(call objs,$(BUILD),$(CTL_SRCS))
DELIVER_OBJS := $(call objs,$(BUILD),$(wildcard fcgi-app/mfa_deliver*.c))
UNIT_OBJS := $(call objs,$(BUILD),$(UNIT_SRCS))

.PHONY: all run check deps unit sanitize valgrind integration lint \
	install clean bench fuzz testclock bench-crypto clang fuzz-build faultinject integration-asan

all: $(BUILD)/mfa.fcgi $(BUILD)/mfactl $(BUILD)/mfa-deliver

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(BUILD)/mfa.fcgi: $(FCGI_OBJS) $(CORE_OBJS)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/mfactl: $(CTL_OBJS) $(CORE_OBJS)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/mfa-deliver: $(DELIVER_OBJS) $(CORE_OBJS)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/test-unit: $(UNIT_OBJS) $(CORE_OBJS)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

# JWT fixtures are made by an independent library (PyJWT and
# python3-cryptography) with fresh keys into the build tree: never committed.
$(BUILD)/gen/jwt-vectors.h: tests/unit/gen-jwt-vectors.py
	@mkdir -p $(dir $@)
	/usr/bin/python3 tests/unit/gen-jwt-vectors.py $@
$(BUILD)/obj/tests/unit/test-jwt.o: $(BUILD)/gen/jwt-vectors.h
$(UNIT_OBJS): CFLAGS_ALL += -I$(BUILD)/gen

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The dependency step of the README's two commands: apt-get what is
# missing (with sudo when not root). Quiet when everything is there.
deps:
	@contrib/install-deps

unit: $(BUILD)/test-unit
	$(BUILD)/test-unit

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer, in their
# own build tree so the objects never mix.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
sanitize:
	$(MAKE) BUILD=build/asan OPT="-O1 -g $(SAN)" LDFLAGS="$(SAN)" \
		HARDEN="-fPIE" build/asan/test-unit build/asan/mfa.fcgi \
		build/asan/mfactl
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 build/asan/test-unit

# Per-request crypto cost (not part of make check): one assertion check per
# algorithm, TOTP verification. Optimised build, fixtures from PyJWT.
$(BUILD)/bench-crypto: $(BUILD)/obj/tests/bench/bench_crypto.o $(CORE_OBJS)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(BUILD)/obj/tests/bench/bench_crypto.o: $(BUILD)/gen/jwt-vectors.h
$(BUILD)/obj/tests/bench/bench_crypto.o: CFLAGS_ALL += -I$(BUILD)/gen
bench-crypto: $(BUILD)/bench-crypto
	$(BUILD)/bench-crypto

# make bench (not part of make check): an optimised build in its own tree,
# the ceiling responder, bulk provisioning and the LMDB commit-rate probe;
# tests/bench/run.py starts the web server, drives wrk and writes
# bench/results/ (README "Performance").
$(BUILD)/bench-provision: $(BUILD)/obj/tests/bench/bench_provision.o \
		$(CORE_OBJS)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(BUILD)/lmdb-commits: $(BUILD)/obj/tests/bench/lmdb_commits.o
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(BUILD)/ceiling.fcgi: $(BUILD)/obj/contrib/bench/ceiling.o
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
BENCH_BINS := mfa.fcgi mfactl bench-provision lmdb-commits ceiling.fcgi
bench: deps
	$(MAKE) BUILD=build/bench OPT="-O2" \
		$(addprefix build/bench/,$(BENCH_BINS))
	/usr/bin/python3 tests/bench/run.py build/bench

# A responder whose clock the integration tests move (MFA_TEST_CLOCK_FILE);
# never installed.
testclock:
	$(MAKE) BUILD=build/testclock CFLAGS="-DMFA_TEST_CLOCK" \
		build/testclock/mfa.fcgi build/testclock/mfactl

# A responder whose store fails every MFA_FAULT_EVERY-th call
# (tests/integration/test_faults_store.py); never installed.
faultinject:
	$(MAKE) BUILD=build/fault CFLAGS="-DMFA_FAULT_INJECT" \
		build/fault/mfa.fcgi build/fault/mfactl build/fault/mfa-deliver

# The same sources must build warning-free with clang too.
clang:
	$(MAKE) CC=clang BUILD=build/clang build/clang/mfa.fcgi \
		build/clang/mfactl build/clang/mfa-deliver build/clang/test-unit
	build/clang/test-unit >/dev/null

# libFuzzer targets (tests/fuzz/fuzz_<name>.c), built with clang under
# ASan+UBSan in build/fuzz. "make fuzz FUZZ_SECONDS=N" runs each for N
# seconds, FUZZ_JOBS at a time, from the committed seeds in
# tests/fuzz/corpus/<name>/ (every crash found is kept there as a
# regression input, replayed first on every run).
FUZZ_TARGETS := form req basic b32 jwt record config spool
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
$(BUILD)/fuzz-%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(CORE_OBJS)
	$(CC) $(LDFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(LIBS)

fuzz-build:
	$(MAKE) CC=clang BUILD=build/fuzz OPT="-O1 -g $(FUZZ_SAN)" \
		LDFLAGS="-fsanitize=address,undefined" HARDEN="-fPIE" \
		$(FUZZ_TARGETS:%=build/fuzz/fuzz-%)

fuzz: fuzz-build
	tests/fuzz/run-fuzz build/fuzz $(FUZZ_SECONDS) $(FUZZ_JOBS) \
		$(FUZZ_TARGETS)

valgrind: $(BUILD)/test-unit
	valgrind --quiet --error-exitcode=3 --leak-check=full \
		--show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible \
		$(BUILD)/test-unit

integration: all testclock faultinject
	/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration

# The integration suite once more against the ASan+UBSan responder and
# mfactl (build/asan); the harness points ASAN_OPTIONS/UBSAN_OPTIONS
# log_path into each server's directory and fails on any report.
integration-asan: testclock faultinject
	$(MAKE) BUILD=build/asan OPT="-O1 -g $(SAN)" LDFLAGS="$(SAN)" \
		HARDEN="-fPIE" build/asan/mfa.fcgi build/asan/mfactl \
		build/asan/mfa-deliver
	$(MAKE) BUILD=build/asan/testclock OPT="-O1 -g $(SAN)" \
		LDFLAGS="$(SAN)" HARDEN="-fPIE" CFLAGS="-DMFA_TEST_CLOCK" \
		build/asan/testclock/mfa.fcgi build/asan/testclock/mfactl
	MFA_FCGI_BIN=build/asan/mfa.fcgi MFACTL_BIN=build/asan/mfactl \
		MFA_DELIVER_BIN=build/asan/mfa-deliver /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		tests/integration

lint:
	@tests/lint-secrets
	@tests/lint-secrets --self-test
	@for m in man/*.[0-9]; do mandoc -Tlint -Wwarning "$$m" || exit 1; done

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) clang
	$(MAKE) sanitize
	$(MAKE) valgrind
	$(MAKE) lint
	$(MAKE) integration
	$(MAKE) integration-asan
	$(MAKE) fuzz

run: deps
	$(MAKE) all
	contrib/run-demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BUILD)/mfa.fcgi $(BUILD)/mfactl $(BUILD)/mfa-deliver \
		contrib/mfa-gateway $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 man/mfactl.8 man/mfa.fcgi.8 man/mfa-deliver.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 man/spawn.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -d $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(PREFIX)/share/mfa/apache \
		$(DESTDIR)$(PREFIX)/share/mfa/lighttpd \
		$(DESTDIR)$(PREFIX)/share/mfa/nginx \
		$(DESTDIR)$(PREFIX)/share/mfa/systemd
	install -m 0755 contrib/mfa-spawn $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 spawn.conf $(DESTDIR)$(PREFIX)/share/mfa/
	install -m 0644 contrib/apache/*.in $(DESTDIR)$(PREFIX)/share/mfa/apache/
	install -m 0644 contrib/lighttpd/*.in \
		$(DESTDIR)$(PREFIX)/share/mfa/lighttpd/
	install -m 0644 contrib/nginx/*.in $(DESTDIR)$(PREFIX)/share/mfa/nginx/
	install -m 0644 contrib/systemd/* $(DESTDIR)$(PREFIX)/share/mfa/systemd/

clean:
	rm -rf build
