# Respaldo — the two commands a new machine needs are 'make demo' and 'make test'.
# Both install what they need (Debian packages, NuGet), build, and run as root.

SOLUTION := controller/Respaldo.slnx
DOTNET   := dotnet
LAB      := deploy/lab/lab
# The service tier's real-systemd machine: a Debian 12 root made once with debootstrap
# (tests/systemd-container), kept here between runs and made again when missing.
export RESPALDO_TEST_CACHE ?= /var/cache/respaldo-test

.PHONY: all deps deps-test build demo test test-unit test-integration test-bench test-browser test-service test-chaos chaos bench bench-scale lab-down clean install uninstall deb

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

# A smoke run of 'make bench' (300 messages, a few seconds a phase, about a minute): it
# must complete and print its table; no figure is asserted.
test-bench: deps-test build
	@tests/run bench

test-browser: deps-test build
	@tests/run browser

test-service: deps-test build
	@tests/run service

# The chaos tier as 'make test' runs it: the short, seed-driven version (CHAOS_SEED=N replays one).
test-chaos: deps-test build
	@tests/run chaos

# Issue 4 in full (not part of 'make test'; about 13 minutes on 2 cores): 5,000 messages of up to
# 5 MB under a flapping faulty primary, 14 SIGKILLs, a burst of 20,000 during a hand-over.
# The figures are printed and left in test-results/chaos-*.txt.
chaos: deps-test build
	@CHAOS_FULL=1 tests/run chaos

# A Debian package (self-contained .NET, no network at install): artifacts/deb/respaldo_*.deb.
deb: build
	@deploy/install-deps package
	@deploy/package/build-deb

# Installs onto this machine (or under DESTDIR) what the package would, then runs its
# configure step: users, directories, example configuration, rendered Postfix/Dovecot.
install: build
	@deploy/package/stage "$(DESTDIR)/"
	@if [ -z "$(DESTDIR)" ]; then deploy/package/debian/postinst configure ""; fi

# Removes the program; keeps /etc/respaldo, the mail and the journal (/var/lib/respaldo).
uninstall:
	@deploy/package/debian/prerm remove
	rm -rf "$(DESTDIR)/usr/lib/respaldo" "$(DESTDIR)/usr/bin/respaldoctl" "$(DESTDIR)/usr/share/doc/respaldo" "$(DESTDIR)/usr/share/respaldo" \
	    "$(DESTDIR)/lib/systemd/system/respaldo.service" "$(DESTDIR)/lib/systemd/system/respaldo-postfix.service" \
	    "$(DESTDIR)/lib/systemd/system/respaldo-dovecot.service" "$(DESTDIR)/lib/systemd/system/respaldo-rspamd.service" "$(DESTDIR)/usr/share/dbus-1/system.d/es.respaldo.Control1.conf" \
	    "$(DESTDIR)/usr/lib/sysusers.d/respaldo.conf" "$(DESTDIR)/usr/lib/tmpfiles.d/respaldo.conf"
	@deploy/package/debian/postrm remove

# Issue 3's benchmark (about 13 minutes, 4.5 of them issue 14's sink reference; 'make test' runs only a small smoke run of it, the
# bench tier): a table of the hand-over's latency, rate, memory and idle cost against
# Postfix's own backup-MX queue.
bench: build
	@tests/bench/run

# Issue 14's one node for a provider (not part of 'make test'; the defaults, 1,000 tenants, 100,000
# mailboxes and 1,000,000 waiting messages, take over an hour on 2 cores): a table of render and reload
# times, start-up, memory per waiting message, rescan, idle CPU, policy latency, hand-over rate,
# inotify watches and journal size beside the issue's thresholds. Smaller runs:
# BENCH_SCALE_TENANTS=50 BENCH_SCALE_MAILBOXES=5000 BENCH_SCALE_MESSAGES=100000 make bench-scale
bench-scale: build
	@tests/bench/run scale

lab-down:
	@$(LAB) down

clean:
	rm -rf artifacts test-results
