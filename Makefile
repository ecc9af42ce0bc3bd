# sipreg - a SIP registrar.  `make run` builds and serves; `make test` tests.
CC      ?= cc
CFLAGS  ?= -O2 -g
# What every build needs, kept apart so `make CFLAGS=...` cannot drop it.
SR_CFLAGS := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wvla -fno-strict-aliasing -pthread -Isrc
LDLIBS  += -lsqlite3 -linih -lcrypto -pthread
BUILD   ?= build

SRCS    := $(shell find src -name '*.c' ! -name main.c | sort)
OBJS    := $(SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | sort)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)


.PHONY: all deps test-deps run test unit integration clean check-clang check-asan check-valgrind \
        fuzz fuzz-regressions bench bench-quick

all: $(BUILD)/sipreg

deps:
	@scripts/deps.sh build

test-deps:
	@scripts/deps.sh test

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SR_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libsipreg.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/sipreg: $(BUILD)/obj/src/core/main.o $(BUILD)/libsipreg.a
	$(CC) $(SR_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsipreg.a
	@mkdir -p $(dir $@)
	$(CC) $(SR_CFLAGS) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libsipreg.a $(LDLIBS) -lcmocka

# Serve 127.0.0.1:5060 (UDP and TCP) from ./sipreg.db in the foreground.
run: deps all
	$(BUILD)/sipreg serve --config etc/sipreg.conf

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: $(BUILD)/sipreg
	@SIPREG=$(abspath $(BUILD)/sipreg) tests/integration/run.sh

test: test-deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory integration

# The same tree must build warning-free with clang too.
check-clang:
	@$(MAKE) --no-print-directory CC=clang BUILD=build/clang all $(UNIT_BINS:$(BUILD)/%=build/clang/%)

# Unit and integration tests under AddressSanitizer + UBSan.
check-asan:
	@$(MAKE) --no-print-directory BUILD=build/asan CC=clang \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" unit integration

# Unit tests, then the integration tests with the server, under valgrind
# memcheck: any error or leak fails.  The load tests (a 50,000-packet flood,
# 10,000 connections, the timing check) are left out: valgrind runs the
# server 20-50 times slower, which is not what they measure.
VALGRIND_SKIP ?= flood tcp_many enumeration sipp_load crash_rounds
check-valgrind: $(UNIT_BINS) $(BUILD)/sipreg
	@set -e; for t in $(UNIT_BINS); do echo "== valgrind $$t"; \
		valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect $$t; done
	@SIPREG_REAL=$(abspath $(BUILD)/sipreg) SIPREG=$(abspath tests/integration/valgrind-sipreg) \
		SKIP_TESTS="$(VALGRIND_SKIP)" TEST_TIMEOUT=240 tests/integration/run.sh

# libFuzzer targets (fuzz/), each for FUZZ_SECONDS; the regression inputs once.
FUZZ_SECONDS ?= 60
fuzz:
	@fuzz/run.sh $(FUZZ_SECONDS)
fuzz-regressions:
	@fuzz/run.sh --regressions

# sipreg against Kamailio (bench/); never part of `make test`.
bench:
	@bench/run.sh
bench-quick:
	@bench/run.sh --quick

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
