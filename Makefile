# Respaldo — the two commands a new machine needs are 'make demo' and 'make test'.
# Both install what they need (Debian packages, NuGet), build, and run as root.

SOLUTION := controller/Respaldo.slnx
DOTNET   := dotnet
LAB      := deploy/lab/lab

.PHONY: all deps deps-test build demo test test-unit test-integration test-browser bench lab-down clean

all: build

deps:
	@deploy/install-deps runtime

deps-test:
	@deploy/install-deps test

build: deps
	$(DOTNET) build $(SOLUTION) -c Release -nologo -clp:ErrorsOnly

# The whole job on loopback: a real primary goes down, mail arrives at the
# backup, the primary comes back and the mail is handed over to it.
demo: build
	@deploy/lab/demo

test: deps-test build
	@tests/run

test-unit: build
	@tests/run unit

test-integration: deps-test build
	@tests/run integration

test-browser: deps-test build
	@tests/run browser

# Issue 3's benchmark (about 8 minutes; not part of 'make test'): a table of the
# hand-over's latency, rate, memory and idle cost against Postfix's own backup-MX queue.
bench: build
	@tests/bench/run

lab-down:
	@$(LAB) down

clean:
	rm -rf artifacts test-results
