# sockit - one Makefile for the library, the command, examples and tests.
#
#   make              libsockit.a, libsockit.so, the sockit binary, examples
#   make test         the whole suite, then again under ASan+UBSan
#   make check        the suite once, in $(BUILD) (SAN=1 for sanitizers)
#   make deps         install missing Debian packages (as root)
#   make demo         deps, build, then a short tour on loopback
#   make install      PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
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
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fPIC -Iinclude -Isrc $(CFLAGS)
# Tests also see their helpers (tests/lib); the library does not.
$(BUILD)/obj/tests/%.o: CFLAGS_ALL += -Itests/lib
LDFLAGS_ALL := $(LDFLAGS)

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
CFLAGS_ALL += $(SANFLAGS)
LDFLAGS_ALL += $(SANFLAGS)
endif

LIB_SRC := $(sort $(shell find src -name '*.c' -not -path 'src/cli/*'))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
EX_SRC := $(sort $(wildcard examples/*.c))
TESTLIB_SRC := $(sort $(wildcard tests/lib/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/*.c tests/net/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)
EX_BIN := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

STATIC := $(BUILD)/libsockit.a
SHARED := $(BUILD)/libsockit.so.$(SOVERSION)
BIN := $(BUILD)/sockit

.PHONY: all lib examples tests check test deps demo install uninstall clean
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

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libsockit.so.$(SOVERSION) $(LDFLAGS_ALL) -o $@ $^
	ln -sf libsockit.so.$(SOVERSION) $(BUILD)/libsockit.so

$(BIN): $(CLI_OBJ) $(STATIC)
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(STATIC)

$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(STATIC)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TESTLIB_OBJ) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(TESTLIB_OBJ) $(STATIC) -lcriterion

# The suite once, in this build: Criterion binaries (unit, then network),
# then the examples against their partners and python3 peers.
check: all tests
	tests/run.sh $(BUILD)

# The whole suite, plain and then under ASan+UBSan.
test:
	$(MAKE) check
	$(MAKE) check BUILD=build/asan SAN=1 OPT="-O1 -g"

deps:
	sh scripts/deps.sh

demo: deps
	$(MAKE) all
	sh scripts/demo.sh $(BUILD)

$(BUILD)/sockit.pc: sockit.pc.in include/sockit/core.h
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

install: lib $(BIN) $(BUILD)/sockit.pc
	install -d $(DESTDIR)$(PREFIX)/include/sockit $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 include/sockit/*.h $(DESTDIR)$(PREFIX)/include/sockit/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libsockit.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libsockit.so
	install -m 644 $(BUILD)/sockit.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 docs/sockit.1 $(DESTDIR)$(PREFIX)/share/man/man1/

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/sockit
	rm -f $(DESTDIR)$(PREFIX)/lib/libsockit.* $(DESTDIR)$(PREFIX)/lib/pkgconfig/sockit.pc \
		$(DESTDIR)$(PREFIX)/bin/sockit $(DESTDIR)$(PREFIX)/share/man/man1/sockit.1

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
