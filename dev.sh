#!/usr/bin/env bash
# Lightbox for developers: one entry point that installs what it needs, then runs.
#
#   ./dev.sh up [--port 8000] [--data DIR] [--s3 embedded|localstack|minio|URL]
#                                            run the whole stack (embedded PostgreSQL, S3 and queues by default)
#   ./dev.sh env [--s3 BACKEND] [--data DIR] print the export lines for the running stack
#   ./dev.sh key create|list|revoke|rotate --owner NAME [--admin] [--data DIR]
#                                            manage the local stack's API keys (create prints the key last)
#   ./dev.sh redrive [--data DIR]            send back what the dead-letter queues hold (after a fix)
#   ./dev.sh backup --to FILE [--data DIR]   the stopped stack's library, whole, in one archive
#   ./dev.sh restore --from FILE --data DIR  that archive unpacked into a new data directory
#   ./dev.sh localstack [--port 4566] [--data DIR]
#                                            LocalStack and PostgreSQL to deploy template.yaml to
#                                            with deploy.sh; its functions then run on this host
#   ./dev.sh cli ARGS...                     the lightbox command (upload, ls, show, get, ...)
#                                            against the local stack unless told otherwise
#   ./dev.sh test [PYTEST ARGS...]           lint, type-check and run every test
#   ./dev.sh bench NAME [ARGS...]            run bench/NAME.py (results go to docs/BENCHMARKS.md)
#   ./dev.sh setup [run|deploy|test|bench]   only create or update the venv with one set
#                                            (default run; deploy.sh asks for deploy)
#   ./dev.sh help                            this help
#
# Each command installs only its set into .venv, and only when the set's files changed:
#   run     requirements-local.txt  (up, env, key, redrive, backup, restore, localstack, cli:
#                                    the functions, the embedded servers, the lightbox command)
#   deploy  requirements-deploy.txt (deploy.sh's build and template checks)
#   test    requirements-test.txt   (run + deploy + pytest, browser, lint and type-check tools)
#   bench   bench/requirements.txt  (test + pyvips)
set -euo pipefail
# `./dev.sh cli upload photos/` means photos/ where the command was typed.
CALLER_DIR=$PWD
cd "$(dirname "$0")"

VENV=.venv

# Lambda runs Python 3.12, so the venv prefers it; any 3.11+ works.
find_python() {
  local candidate version
  if [ -n "${LIGHTBOX_PYTHON:-}" ]; then
    echo "$LIGHTBOX_PYTHON"
    return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -r -V); do
      candidate=$(PYENV_VERSION=$version python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null) && {
        echo "$candidate"
        return
      }
    done
  fi
  for candidate in python3.12 python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  echo "dev.sh: Python 3.11 or newer is required (set LIGHTBOX_PYTHON to its path)" >&2
  exit 1
}

# A requirement file, then every file it includes (-r) and every local project it installs (-e).
requirement_files() {
  local file=$1 line
  echo "$file"
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      "-r "* | "--requirement "*) requirement_files "$(dirname "$file")/${line#* }" ;;
      "-e ./"*) echo "${line#-e ./}/pyproject.toml" ;;
    esac
  done <"$file"
}

# Install one set (run, deploy, test, bench) into the venv, only when its files changed since
# it was last installed: one stamp per set, so switching commands costs nothing.
ensure_venv() {
  local set=$1 file stamp wanted
  case "$set" in
    run) file=requirements-local.txt ;;
    deploy) file=requirements-deploy.txt ;;
    test) file=requirements-test.txt ;;
    bench) file=bench/requirements.txt ;;
    *) echo "dev.sh: no requirement set '$set' (run, deploy, test, bench)" >&2; exit 2 ;;
  esac
  if [ ! -x "$VENV/bin/python" ]; then
    "$(find_python)" -m venv "$VENV"
  fi
  stamp="$VENV/.requirements-$set.sha256"
  wanted=$(requirement_files "$file" | xargs cat | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    "$VENV/bin/python" -m pip install --quiet -r "$file"
    echo "$wanted" >"$stamp"
  fi
}

# LocalStack lives in a venv of its own: its pins would fight the project's.
LOCALSTACK_VENV=.venv-localstack
ensure_localstack_venv() {
  local stamp="$LOCALSTACK_VENV/.requirements.sha256" wanted
  if [ ! -x "$LOCALSTACK_VENV/bin/python" ]; then
    "$(find_python)" -m venv "$LOCALSTACK_VENV"
  fi
  wanted=$(cat infra/local/localstack-requirements.txt infra/local/localstack_plugin/pyproject.toml \
    infra/local/localstack_plugin/lightbox_localstack/*.py | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    "$LOCALSTACK_VENV/bin/python" -m pip install --quiet -r infra/local/localstack-requirements.txt
    echo "$wanted" >"$stamp"
  fi
}

# The browser tests drive the system's Chromium: a test tool's own browser download fails
# on closed networks, Debian's package does not.
ensure_chromium() {
  command -v chromium >/dev/null 2>&1 && return
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  if ! command -v apt-get >/dev/null 2>&1 || { [ -n "$sudo" ] && ! command -v sudo >/dev/null 2>&1; }; then
    echo "dev.sh: the browser tests need Chromium; install it (Debian: apt-get install chromium)" >&2
    exit 1
  fi
  echo "dev.sh: installing Debian's chromium for the browser tests" >&2
  $sudo apt-get install -y -q chromium >/dev/null 2>&1 \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; }
}

# The help is the comment at the top of this file, read up to its first line of code.
usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit "${1:-2}"
}

command=${1:-}
[ -n "$command" ] || usage
shift

case "$command" in
  up | env | key | redrive | backup | restore)
    ensure_venv run
    if [ "$command" = up ] && [[ " $* " == *" --s3 localstack "* || " $* " == *" --s3=localstack "* ]]; then
      ensure_localstack_venv
    fi
    exec "$VENV/bin/python" -m infra.local "$command" "$@"
    ;;
  localstack)
    ensure_venv run
    ensure_localstack_venv
    exec "$VENV/bin/python" -m infra.local "$command" "$@"
    ;;
  test)
    ensure_venv test
    # The end-to-end suite runs a second time against LocalStack.
    ensure_localstack_venv
    ensure_chromium
    "$VENV/bin/ruff" check functions infra tests bench web/cli
    "$VENV/bin/mypy"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  cli)
    ensure_venv run
    repo=$PWD
    export LIGHTBOX_LOCAL_STACK=${LIGHTBOX_LOCAL_STACK:-$repo/.data}
    cd "$CALLER_DIR"
    exec "$repo/$VENV/bin/lightbox" "$@"
    ;;
  setup)
    ensure_venv "${1:-run}"
    ;;
  bench)
    [ -n "${1:-}" ] && [ -f "bench/$1.py" ] || usage
    ensure_venv bench
    name=$1
    shift
    if [ "$name" = triggers ]; then
      ensure_localstack_venv  # it measures the stack on LocalStack too
    fi
    exec "$VENV/bin/python" "bench/$name.py" "$@"
    ;;
  help | -h | --help)
    usage 0
    ;;
  *)
    usage
    ;;
esac
