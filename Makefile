# SPDX-License-Identifier: MIT
#
# Convenience front end to CMake.
#
#   make                      configure build/ (RelWithDebInfo) and build it
#   make test                 ctest in build/, then the same suite built with
#                             AddressSanitizer + UBSan in build-asan/
#   make check                build, then only the quick tests (ctest -L quick,
#                             about half a minute)
#   make test-clang           the suite built with clang and -Werror in
#                             build-clang/ (shim.real_programs left to make test)
#   make deps                 install the Debian packages shim.real_programs
#                             runs, and valgrind (apt-get, as root); the tests
#                             never install
#   make demo                 build, then run build/demo/uslab-demo (it also
#                             writes build/demo/uslab-demo-memory.png)
#   make install [PREFIX=/usr/local]
#   make bench [BENCH_QUICK=1]
#   make clean                remove the build directories

BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
CLANG_DIR ?= build-clang
PREFIX    ?= /usr/local
JOBS      ?= 2
CMAKE     ?= cmake
CTEST     ?= ctest
CLANG     ?= clang

MAKEFLAGS += --no-print-directory

# The sanitizer and clang builds run every suite on both back ends (the base
# tests: SLUB; the slab and slab_numa2 variants: SLAB), but not the variants
# of SLUB's and the page allocator's options, which the normal build runs.
ASAN_CTEST_ARGS = -LE '^(numa2|nomerge|order)$$'

ASAN_ENV = ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all build test test-asan check test-clang deps demo install bench clean

all: build

build:
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	$(CMAKE) --build $(BUILD_DIR) -j$(JOBS)

# Both suites run even if the first fails; the target fails if either did.
test: build
	@rc=0; \
	echo "== ctest: $(BUILD_DIR) (RelWithDebInfo)"; \
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS) || rc=1; \
	$(MAKE) --no-print-directory test-asan || rc=1; \
	exit $$rc

test-asan:
	$(CMAKE) -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DUSLAB_SANITIZE=ON
	$(CMAKE) --build $(ASAN_DIR) -j$(JOBS)
	@echo "== ctest: $(ASAN_DIR) (AddressSanitizer + UBSan)"
	$(ASAN_ENV) $(CTEST) --test-dir $(ASAN_DIR) --output-on-failure -j$(JOBS) $(ASAN_CTEST_ARGS)

check: build
	@echo "== ctest: $(BUILD_DIR), quick tests only"
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS) -L quick

# clang with warnings as errors.  shim.real_programs (minutes, the same
# programs as in make test) is left out.
test-clang:
	$(CMAKE) -S . -B $(CLANG_DIR) -DCMAKE_C_COMPILER=$(CLANG) \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DUSLAB_WERROR=ON
	$(CMAKE) --build $(CLANG_DIR) -j$(JOBS)
	@echo "== ctest: $(CLANG_DIR) (clang, -Werror)"
	$(CTEST) --test-dir $(CLANG_DIR) --output-on-failure -j$(JOBS) -E '^shim\.real_programs$$' $(ASAN_CTEST_ARGS)

deps:
	bash tools/install-deps.sh

# The demo writes its memory chart next to itself: build/demo/uslab-demo-memory.png.
demo: build
	./$(BUILD_DIR)/demo/uslab-demo $(BUILD_DIR)/demo/uslab-demo-memory.png

install: build
	$(CMAKE) --install $(BUILD_DIR) --prefix $(PREFIX)

bench:
	BENCH_QUICK=$(BENCH_QUICK) bash bench/run.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(CLANG_DIR)
