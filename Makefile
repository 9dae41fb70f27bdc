# Thin wrapper over CMake. The README's two commands:
#   make run    install missing packages, build, run the main job
#   make test   install missing packages, build (warnings as errors), run every test
# Other targets: build, bench, install, fuzz, clean.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
PREFIX     ?= /usr/local

.PHONY: all deps build run test test-unit test-asan test-install bench fuzz install clean format

all: build

deps:
	@scripts/deps.sh build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DST_WERROR=ON $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The main job: device report, the two-spirals classifier trained with autograd on the
# auto-selected device, then a rank-K example with its heuristic choices and timing.
run: build
	$(BUILD)/spiral info
	$(BUILD)/spiral train
	$(BUILD)/spiral heur choose --rows 1024 --cols 65536 --k 64
	$(BUILD)/spiral bench topk --rows 1024 --cols 65536 --k 64 --reps 5
	$(BUILD)/spiral bench midk --rows 1024 --cols 65536 --k 32768 --reps 3

test: 
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory test-unit test-asan test-install

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Unit tests, the fuzz corpora and test-ops again under AddressSanitizer + UBSan.
test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DST_SANITIZE=ON -DST_WERROR=ON -DST_BUILD_BENCH=OFF $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -L unit

# Install into a scratch prefix and build examples/consumer against it, through both
# the CMake package and pkg-config.
test-install: build
	scripts/test-install.sh $(BUILD)

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory build
	bench/run.sh $(BUILD)

fuzz:
	scripts/fuzz.sh

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i include/*.h src/*/*.[ch] cli/*.[ch] tests/*.c tests/unit/*.[ch]

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
