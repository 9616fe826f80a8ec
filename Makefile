# brickci — the words a newcomer would guess.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build test lint generate check-generated demo bench fuzz cover clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/brickci ./cmd/action
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/genworkflows ./cmd/genworkflows
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/workspace-emulator ./cmd/workspace-emulator
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/demo ./cmd/demo

# The main job: play the example's whole pipeline offline against the
# workspace emulator and write a report (bin/demo-report/report.html).
demo: build
	bin/demo

# The test command CI runs (.ci/run).
test:
	$(GO) test -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

generate:
	$(GO) generate ./...

# Fails when .github/workflows differ from what .github/pipeline.yaml yields.
check-generated:
	$(GO) run ./cmd/genworkflows -check

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Each fuzz target for FUZZTIME; crashers land in the package's
# testdata/fuzz and then run as regression tests in `make test`.
FUZZTIME ?= 15s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME); \
	  done; \
	done

cover:
	$(GO) test -coverprofile=bin/cover.out ./... && $(GO) tool cover -func=bin/cover.out | tail -n 1

clean:
	rm -rf bin
