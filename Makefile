# SPDX-License-Identifier: MIT
#
# Convenience front end to CMake.
#
#   make                      configure build/ (RelWithDebInfo) and build it
#   make test                 ctest in build/, then the same suite built with
#                             AddressSanitizer + UBSan in build-asan/
#   make demo                 build, then run build/demo/uslab-demo
#   make install [PREFIX=/usr/local]
#   make bench [BENCH_QUICK=1]
#   make clean                remove the build directories

BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
PREFIX    ?= /usr/local
JOBS      ?= 2
CMAKE     ?= cmake
CTEST     ?= ctest

MAKEFLAGS += --no-print-directory

ASAN_ENV = ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all build test test-asan demo install bench clean

all: build

build:
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	$(CMAKE) --build $(BUILD_DIR) -j$(JOBS)

# Both suites run even if the first fails; the target fails if either did.
test: build
	@rc=0; \
	echo "== ctest: $(BUILD_DIR) (RelWithDebInfo)"; \
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure || rc=1; \
	$(MAKE) --no-print-directory test-asan || rc=1; \
	exit $$rc

test-asan:
	$(CMAKE) -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DUSLAB_SANITIZE=ON
	$(CMAKE) --build $(ASAN_DIR) -j$(JOBS)
	@echo "== ctest: $(ASAN_DIR) (AddressSanitizer + UBSan)"
	$(ASAN_ENV) $(CTEST) --test-dir $(ASAN_DIR) --output-on-failure

demo: build
	./$(BUILD_DIR)/demo/uslab-demo

install: build
	$(CMAKE) --install $(BUILD_DIR) --prefix $(PREFIX)

bench:
	BENCH_QUICK=$(BENCH_QUICK) bash bench/run.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
