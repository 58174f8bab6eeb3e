# sockit - one Makefile for the library, the command, examples and tests.
#
#   make              libsockit.a, libsockit.so, the sockit binary, examples
#   make test         the whole suite, then again under ASan+UBSan
#   make check        the suite once, in $(BUILD) (SAN=1 for sanitizers): unit,
#                     network and fault tests, corpus replay of every fuzz
#                     harness, allocation/syscall torture of the unit scenarios
#   make fuzz         each libFuzzer harness for FUZZ_SECONDS (clang)
#   make torture      the torture of every scenario, integration ones included
#   make valgrind     the Criterion suite under valgrind memcheck
#   make format       format every C file with .clang-format (make check
#                     fails on drift)
#   make deps         install missing Debian packages (as root)
#   make demo         deps, build, then a short tour on loopback
#   make bench        sockit beside its peers (bench/suite.sh, bench/README.md):
#                     one table of ratios, results.json and a plot; QUICK=1 smoke
#   make install      PREFIX=/usr/local DESTDIR= (LIBDIR=$(PREFIX)/lib)
#   make deb          the Debian packages sockit, libsockit0, libsockit-dev
#                     in $(BUILD)/deb (dpkg-buildpackage, then lintian)

PREFIX ?= /usr/local
comma := ,
BUILD ?= build
CC ?= cc

SOVERSION := 0
VERSION := $(shell sed -n 's/^\#define SKT_VERSION_STRING "\(.*\)"/\1/p' include/sockit/core.h)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
ifeq ($(CI),true)
WARN += -Werror
endif
ifeq ($(WERROR),1)
WARN += -Werror
endif

OPT ?= -O2 -g
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fPIC -Iinclude -Isrc \
	$(CPPFLAGS) $(CFLAGS)
# Tests also see their helpers (tests/lib); the library does not.
$(BUILD)/obj/tests/%.o: CFLAGS_ALL += -Itests/lib
# The HTTP vectors are found wherever the test runs from.
$(BUILD)/obj/tests/unit/http_vectors_test.o: CFLAGS_ALL += \
	-DVECTOR_DIR='"$(CURDIR)/tests/unit/http_vectors"'
LDFLAGS_ALL := $(LDFLAGS)
# libsockit needs libc, threads and OpenSSL 3 (libssl-dev, for
# sockit/tls.h) only, and its shared link refuses an undefined symbol, so
# a dependency it does not declare (libm, say) fails the build rather
# than a program that loads it. The command's tools may use libm (bench's
# histogram) and libxxhash (send/recv): programs link them. Sanitizer runtimes live in the program,
# so those builds let the library's references to them be.
SSL_LIBS := -lssl -lcrypto
LIBS := $(SSL_LIBS) -lxxhash -lm -pthread
SO_LDFLAGS := -pthread
ifeq ($(filter 1,$(SAN) $(FUZZER)),)
SO_LDFLAGS += -Wl,--no-undefined
endif

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
CFLAGS_ALL += $(SANFLAGS)
LDFLAGS_ALL += $(SANFLAGS)
endif
# FUZZER=1 (set by `make fuzz`, with clang): the library and harnesses get
# libFuzzer's coverage instrumentation and the harnesses its main().
ifeq ($(FUZZER),1)
CFLAGS_ALL += -fsanitize=fuzzer-no-link
endif

LIB_SRC := $(sort $(shell find src -name '*.c' -not -path 'src/cli/*' \
	-not -path 'src/tools/*'))
# The command's tools (serve's services, bench's engine): a static archive
# that the command, the tests and the fuzzers link; never part of libsockit.
TOOLS_SRC := $(sort $(shell find src/tools -name '*.c'))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
EX_SRC := $(sort $(wildcard examples/*.c))
TESTLIB_SRC := $(sort $(wildcard tests/lib/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/*.c tests/net/*.c tests/fault/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
# The library's objects hide every symbol but the functions that the public
# headers mark SKT_EXTERN (sockit/export.h): libsockit.so exports skt_
# names only, its skt__ internals stay inside (tests/build/exports.sh).
$(LIB_OBJ): CFLAGS_ALL += -fvisibility=hidden
TOOLS_OBJ := $(TOOLS_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)
EX_BIN := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

STATIC := $(BUILD)/libsockit.a
TOOLS := $(BUILD)/libsockit-tools.a
SHARED := $(BUILD)/libsockit.so.$(SOVERSION)
BIN := $(BUILD)/sockit

.PHONY: all lib examples tests check test deps demo install uninstall clean \
	fuzz fuzz-bins torture torture-bins valgrind bench format deb
# Keep the objects of examples and tests: they are not mere intermediates.
.SECONDARY:
all: lib $(BIN) examples
lib: $(STATIC) $(SHARED)
examples: $(EX_BIN)
tests: $(TEST_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(TOOLS): $(TOOLS_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libsockit.so.$(SOVERSION) $(LDFLAGS_ALL) $(SO_LDFLAGS) \
		-o $@ $^ $(SSL_LIBS)
	ln -sf libsockit.so.$(SOVERSION) $(BUILD)/libsockit.so

$(BIN): $(CLI_OBJ) $(TOOLS) $(STATIC)
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(TOOLS) $(STATIC) $(LIBS)

$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(STATIC) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TESTLIB_OBJ) $(TOOLS) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(TESTLIB_OBJ) $(TOOLS) $(STATIC) -lcriterion \
		$(LIBS)

# ---- Fuzz harnesses (fuzz/README.md) ----
# fuzz/<name>.c is a harness. Built here it is a replay program (main() in
# fuzz/lib/replay.c) that `make check` runs over fuzz/corpus/<name>/; built
# by `make fuzz` (FUZZER=1, clang) it is a libFuzzer binary. A harness that
# needs more than the library lists it as an extra prerequisite below.
FUZZ_NAMES := $(sort $(basename $(notdir $(wildcard fuzz/*.c))))
FUZZ_BIN := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
FUZZ_LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out %/replay.c,\
	$(wildcard fuzz/lib/*.c)))
FUZZ_CLI_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard fuzz/cli/*.c)))
$(BUILD)/obj/fuzz/%.o: CFLAGS_ALL += -Ifuzz/lib
ifeq ($(FUZZER),1)
FUZZ_MAIN :=
FUZZ_LDFLAGS := -fsanitize=fuzzer
else
FUZZ_MAIN := $(BUILD)/obj/fuzz/lib/replay.o
FUZZ_LDFLAGS :=
endif

$(BUILD)/fuzz/%: $(BUILD)/obj/fuzz/%.o $(FUZZ_LIB_OBJ) $(FUZZ_MAIN) $(TOOLS) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) $(FUZZ_LDFLAGS) -o $@ $(filter %.o,$^) $(TOOLS) $(STATIC) \
		$(LIBS)

# The CLI harnesses link the command's own files (never main.c): the
# argv ones call each command's parse entry (src/cli/cmds.h).
FUZZ_CMD_OBJ := $(filter-out %/main.o,$(CLI_OBJ))
$(BUILD)/fuzz/cli: $(BUILD)/obj/src/cli/cli.o $(BUILD)/obj/src/cli/cli_opt.o \
	$(BUILD)/obj/src/cli/json.o
$(BUILD)/fuzz/cli_argv $(BUILD)/fuzz/serve_argv $(BUILD)/fuzz/bench_argv: \
	$(FUZZ_CLI_OBJ) $(FUZZ_CMD_OBJ)

fuzz-bins: $(FUZZ_BIN)

# Every harness for FUZZ_SECONDS under libFuzzer with ASan+UBSan; new
# inputs go to fuzz/out/corpus/<name>/, crashes to fuzz/out/crashes/.
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) fuzz-bins BUILD=build/fuzz CC=clang SAN=1 FUZZER=1 OPT="-O1 -g"
	sh fuzz/run.sh build/fuzz $(FUZZ_SECONDS)

# ---- Torture: fail the Nth allocation or system call (tests/torture) ----
# The library is linked unchanged; --wrap routes its system calls through
# tests/torture/wrap.c, which fails call number K on request.
TORTURE_WRAP := socket socketpair accept accept4 connect bind listen \
	setsockopt getsockopt getsockname getpeername getaddrinfo getnameinfo \
	poll epoll_create1 epoll_ctl epoll_wait eventfd signalfd pipe pipe2 \
	send sendto sendmsg sendmmsg recv recvfrom recvmsg recvmmsg shutdown \
	splice timerfd_create pthread_create
TORTURE_SRC := $(sort $(wildcard tests/torture/*.c))
TORTURE_OBJ := $(TORTURE_SRC:%.c=$(BUILD)/obj/%.o)
TORTURE_BIN := $(BUILD)/tests/torture/torture
# `make torture` takes the first TORTURE_MAX points of each integration
# scenario; `make check` (tests/run.sh) the first 50.
TORTURE_MAX ?= 1000

$(TORTURE_BIN): $(TORTURE_OBJ) $(TESTLIB_OBJ) $(TOOLS) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) $(addprefix -Wl$(comma)--wrap=,$(TORTURE_WRAP)) \
		-o $@ $(TORTURE_OBJ) $(TESTLIB_OBJ) $(TOOLS) $(STATIC) -lcriterion \
		$(LIBS)

torture-bins: $(TORTURE_BIN)

# Every scenario: unit ones at every failure point, integration ones at
# the first TORTURE_MAX of each pass.
torture: all torture-bins
	$(TORTURE_BIN) --max $(TORTURE_MAX) all

# ---- valgrind: the Criterion suite under memcheck (tests/valgrind.sh) ----
valgrind: all tests
	sh tests/valgrind.sh $(BUILD)

# The suite once, in this build: Criterion binaries (unit, network, fault),
# corpus replay, unit torture, then the examples against their partners
# and python3 peers.
check: all tests fuzz-bins torture-bins
	tests/run.sh $(BUILD)

# The whole suite, plain and then under ASan+UBSan.
test:
	$(MAKE) check
	$(MAKE) check BUILD=build/asan SAN=1 OPT="-O1 -g"

deps:
	sh scripts/deps.sh

# Every C file of the tree, in place (scripts/format.sh); the check in
# `make check` is tests/build/format.sh.
format:
	sh scripts/format.sh

demo: deps
	$(MAKE) all
	sh scripts/demo.sh $(BUILD)

# Builds what it runs into its own OUT directory (default
# /tmp/sockit-bench-suite); knobs are environment variables (QUICK=1,
# RUNS, SECTIONS, ...), see bench/README.md. Not part of `make check`.
bench:
	bash bench/suite.sh

$(BUILD)/sockit.pc: sockit.pc.in include/sockit/core.h
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@VERSION@|$(VERSION)|g' $< > $@

# LIBDIR: Debian's rules give /usr/lib/<multiarch triplet>.
LIBDIR ?= $(PREFIX)/lib
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
install: lib $(BIN) $(BUILD)/sockit.pc
	install -d $(DESTDIR)$(PREFIX)/include/sockit $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(BASHCOMPDIR)
	install -m 644 include/sockit/*.h $(DESTDIR)$(PREFIX)/include/sockit/
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libsockit.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libsockit.so
	install -m 644 $(BUILD)/sockit.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 docs/sockit.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 scripts/sockit.bash-completion $(DESTDIR)$(BASHCOMPDIR)/sockit

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/sockit
	rm -f $(DESTDIR)$(LIBDIR)/libsockit.* $(DESTDIR)$(LIBDIR)/pkgconfig/sockit.pc \
		$(DESTDIR)$(PREFIX)/bin/sockit $(DESTDIR)$(PREFIX)/share/man/man1/sockit.1 \
		$(DESTDIR)$(BASHCOMPDIR)/sockit

# The Debian packages sockit, libsockit0 and libsockit-dev (debian/), built
# by dpkg-buildpackage in a copy of the tree under $(BUILD)/deb, where the
# .debs land; lintian's errors fail the target, its warnings are printed.
# tests/build/deb.sh installs them in a throwaway root and builds against
# them (make check runs it once they exist).
DEB_DIR := $(BUILD)/deb
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/sockit-$(VERSION)
	if git rev-parse --git-dir >/dev/null 2>&1; then \
		git ls-files -co --exclude-standard | tar -cf - -T -; \
	else \
		tar --exclude=./build --exclude=./.git -cf - .; \
	fi | tar -xf - -C $(DEB_DIR)/sockit-$(VERSION)
	cd $(DEB_DIR)/sockit-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(DEB_DIR)/*.changes

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
