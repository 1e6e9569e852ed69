# Two entry points for a fresh machine: `make demo` (Retain's main job) and `make test`.
# uv: the one on PATH, else ~/.local/bin/uv, else a private copy in .tools/ (made by the `uv` target).
# Recursive (=): looked up when a recipe runs, after the `uv` target may have installed it.
UV = $(shell command -v uv 2>/dev/null || { test -x $(HOME)/.local/bin/uv && echo $(HOME)/.local/bin/uv; } || echo $(CURDIR)/.tools/bin/uv)
SRC := retain core agents tools integrations prompts configs
# Every installed module compiled once here, at install, not on each `uv run` (images that set
# PYTHONDONTWRITEBYTECODE would otherwise recompile them on every `retain` command).
SYNC = $(UV) sync --frozen --compile-bytecode
# The first build of llama-cpp-python takes 5-25 minutes on 2 cores; a second `make` started meanwhile
# waits for it (uv's own default gives up after 5 minutes).
export UV_LOCK_TIMEOUT ?= 3600

.PHONY: uv demo test test-postgres lint bench

# pip --user where the Python allows it; a distribution Python that is externally managed (PEP 668)
# refuses it, and then uv goes into a venv of its own under .tools/.
uv:
	@command -v uv >/dev/null 2>&1 || test -x $(HOME)/.local/bin/uv || test -x .tools/bin/uv || \
	python3 -m pip install --user --quiet uv 2>/dev/null || \
	{ echo "pip --user is refused here (PEP 668?): installing uv into .tools/ instead"; \
	  python3 -m venv .tools && .tools/bin/python -m pip install --quiet uv; } || \
	{ echo "Could not install uv: install python3-venv (Debian/Ubuntu) or uv itself, then run make again."; exit 1; }

demo: uv
	$(SYNC)
	$(UV) run --no-sync python -m compileall -q $(SRC)
	$(UV) run --no-sync retain demo run
	@echo "Next: .venv/bin/retain --help   (or: $(UV) run retain ...)"

lint: uv
	$(SYNC)
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync mypy $(SRC)
	$(UV) run --no-sync lint-imports

test: lint
	$(UV) run --no-sync pytest -q

# The suite on PostgreSQL: RETAIN_TEST_DATABASE_URL names a server the suite may create databases on
# (`source .ci/postgres && pg_up` starts a throwaway one). It never reads RETAIN_DATABASE_URL.
test-postgres: uv
	@test -n "$(RETAIN_TEST_DATABASE_URL)" || (echo "Set RETAIN_TEST_DATABASE_URL (see .ci/postgres)"; exit 2)
	$(SYNC)
	$(UV) run --no-sync pytest -q

bench: uv
	$(SYNC)
	$(UV) run --no-sync python -m bench.run
