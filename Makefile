# Two entry points for a fresh machine: `make demo` (Retain's main job) and `make test`.
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
SRC := retain core agents tools integrations prompts configs

.PHONY: uv demo test test-postgres lint bench

uv:
	@command -v uv >/dev/null 2>&1 || test -x $(HOME)/.local/bin/uv || python3 -m pip install --user --quiet uv

demo: uv
	$(UV) sync --frozen
	$(UV) run python -m compileall -q $(SRC)
	$(UV) run retain demo run

lint: uv
	$(UV) sync --frozen
	$(UV) run ruff check .
	$(UV) run mypy $(SRC)
	$(UV) run lint-imports

test: lint
	$(UV) run pytest -q

# The suite on PostgreSQL: RETAIN_TEST_DATABASE_URL names a server the suite may create databases on
# (`source .ci/postgres && pg_up` starts a throwaway one). It never reads RETAIN_DATABASE_URL.
test-postgres: uv
	@test -n "$(RETAIN_TEST_DATABASE_URL)" || (echo "Set RETAIN_TEST_DATABASE_URL (see .ci/postgres)"; exit 2)
	$(UV) run pytest -q

bench: uv
	$(UV) sync --frozen
	$(UV) run python -m bench.run
