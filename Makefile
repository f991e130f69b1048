# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Links in the demo's printout and in emails point at the server `make run` starts.
SITE_URL ?= http://127.0.0.1:$(PORT)
# The scaled-out services the test command runs the suite against (real ones, on loopback).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/webcast
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run scaled test js-test install lint services vendor-hlsjs

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Embedded default: SQLite, in-memory channel layer, a mixer child process per live event.
# Plain http on loopback (PLAIN_HTTP: cookies without Secure). daphne runs through config.serve,
# whose access log shows keyed paths with "…" for the key; it goes to a file, so the terminal
# keeps the demo's links and the emails the console backend prints.
ACCESS_LOG ?= $(or $(VAR_DIR),var)/access.log
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	SITE_URL=$(SITE_URL) $(PY) manage.py load_demo
	PLAIN_HTTP=true SITE_URL=$(SITE_URL) $(PY) -m config.serve --access-log $(ACCESS_LOG) -b 127.0.0.1 -p $(PORT) \
		config.asgi:application

# The scaled-out platform on this machine (README, "Scaled out, one command"): PostgreSQL and Redis
# on loopback (started if missing, as for the tests), a database of its own, then nginx, page
# servers, daphnes, Celery workers and beat in the foreground, with the demo event. Ctrl-C stops it.
SCALED_DATABASE ?= webcast_scaled
SCALED_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/$(SCALED_DATABASE)
SCALED_REDIS_URL ?= redis://127.0.0.1:6379/1
scaled: install services
	@createdb -h 127.0.0.1 -U postgres $(SCALED_DATABASE) 2>/dev/null || true
	DATABASE_URL=$(SCALED_DATABASE_URL) REDIS_URL=$(SCALED_REDIS_URL) PLAIN_HTTP=true \
		$(PY) manage.py scaleout --port $(PORT) --demo

services:
	bash .ci/services

# The whole suite against PostgreSQL + Redis and, at the same time, the embedded-default part in
# that mode (.ci/test-passes says why at once and how they stay apart).
test: install services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(MAKE) js-test
	PY=$(PY) TEST_DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) bash .ci/test-passes

# The pages' shared views of the state, on the same cases as the stage's Python (no npm package).
js-test:
	@command -v node >/dev/null || { echo "make test needs Node.js 20.19+ for 'node --test' (apt-get install nodejs)" >&2; exit 1; }
	node --test tests/js/*.test.js

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Refresh the vendored hls.js from the npm registry (the result is committed; nothing needs npm).
vendor-hlsjs:
	bash .ci/vendor-hlsjs 1.7.4
