# The commands people type. CMake does the building; this file only names things.
#   make               build into build/ (binaries in build/bin/)
#   make test          every suite (unit, integration, e2e, chaos) under ASan+UBSan
#   make run           local cluster + kubus, ready for kubectl
#   make cluster-up    the local control plane (kubeconfig: build/cluster/kubeconfig)
#   make cluster-down
#   make bench         benchmarks (not part of make test)
#   make image         container image (OCI layout + docker-archive under build/image)
BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all build test unit run cluster-up cluster-down bench image deps clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

deps:
	bash .ci/install-deps

$(TEST_BUILD)/CMakeCache.txt:
	CC=clang cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKUBUS_SANITIZE=ON

# Tests run the sanitized build (clang); the cluster for the suite lives in
# $(TEST_BUILD)/cluster. The plain build (the default compiler, as `make` and
# `make run` use it) is built first: its warnings are errors too.
test: deps
	$(MAKE) build
	$(MAKE) $(TEST_BUILD)/CMakeCache.txt
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure $(CTEST_ARGS)

unit: $(TEST_BUILD)/CMakeCache.txt
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -L unit $(CTEST_ARGS)

cluster-up:
	bash tests/cluster/up.sh

cluster-down:
	bash tests/cluster/down.sh

run: deps
	$(MAKE) build
	bash deploy/run-local.sh

bench: build
	bash tests/bench/run.sh

# Built from Debian packages (no image is pulled); see tools/image.sh.
image: build
	bash tools/image.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(TEST_BUILD)
