#!/usr/bin/env bash
# The logic of action.yml. Inputs arrive as environment variables only (never interpolated
# into the script), so a file name or argument cannot inject shell code.
#
#   action.sh key       the cache key and path of the tool's environment (for actions/cache)
#   action.sh install   install reqhash-check from the action's folder into its own venv:
#                       the dependencies from requirements/action.txt with --require-hashes,
#                       then the tool itself with --no-deps
#   action.sh run       check, annotate, write outputs; the exit status is the job's verdict
#
# Inputs:  INPUT_FILES, INPUT_ARGS, INPUT_SARIF_FILE, INPUT_FAIL_ON_FINDINGS,
#          INPUT_VERIFY_DOWNLOADS
# Runner:  GITHUB_ACTION_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH, RUNNER_TEMP
# Written for bash 3.2 too (the /bin/bash of macOS).
set -euo pipefail

say() { printf 'reqhash-check action: %s\n' "$*" >&2; }

output() {
  # name=value into $GITHUB_OUTPUT (values here never contain newlines)
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

find_python() {
  local python="${REQHASH_CHECK_PYTHON:-}"
  if [[ -z "$python" ]]; then
    python="$(command -v python3 || command -v python || true)"
  fi
  if [[ -z "$python" ]]; then
    say "no python found: add actions/setup-python before this action"
    exit 2
  fi
  printf '%s\n' "$python"
}

venv_dir() {
  printf '%s\n' "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/reqhash-check-venv"
}

requirements_file() {
  printf '%s\n' "${GITHUB_ACTION_PATH:?}/requirements/action.txt"
}

# What the tool's environment is made of: the hashed requirements, the runner's system and
# the Python (its version and where it lives); a cached environment is used only when all
# of them are the same.
venv_key() {
  local python
  python="$(find_python)"
  {
    cat "$(requirements_file)"
    "$python" -c 'import platform, sys; print(sys.version, sys.executable, platform.machine())'
  } | "$python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:32])'
}

key() {
  # For actions/cache in action.yml: where the environment lives, and its key.
  local digest
  digest="$(venv_key)"
  output venv-path "$(venv_dir)"
  output venv-key "reqhash-check-venv-${RUNNER_OS:-$(uname -s)}-$digest"
}

install() {
  local python venv key marker
  python="$(find_python)"
  # Its own venv: works on runners whose system Python refuses pip installs (PEP 668) and
  # keeps the tool's dependencies out of the project's environment.
  venv="$(venv_dir)"
  key="$(venv_key)"
  marker="$venv/reqhash-check-dependencies"
  local bin="$venv/bin"
  [[ -d "$bin" ]] || bin="$venv/Scripts"
  if [[ -f "$marker" && "$(cat "$marker")" == "$key" && -x "$bin/python" ]]; then
    say "using the cached environment ($key)"
  else
    rm -rf "$venv"
    "$python" -m venv "$venv"
    bin="$venv/bin"
    [[ -d "$bin" ]] || bin="$venv/Scripts"
    # Every dependency, and the build backend, pinned with the hashes of all their files:
    # pip refuses anything else, so a changed or substituted file fails the install.
    "$bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
      --only-binary :all: -r "$(requirements_file)"
    printf '%s\n' "$key" >"$marker"
  fi
  # The tool itself, from the action's folder: nothing more is fetched (its dependencies and
  # build backend are installed above).
  "$bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    --no-build-isolation --force-reinstall "${GITHUB_ACTION_PATH:?}"
  if [[ -n "${GITHUB_PATH:-}" ]]; then
    printf '%s\n' "$bin" >>"$GITHUB_PATH"
  fi
  say "installed $("$bin/reqhash-check" --version)"
}

is_true() {
  case "$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" in
    true | yes | 1 | on) return 0 ;;
    false | no | 0 | off | "") return 1 ;;
    *)
      say "fail-on-findings must be true or false, not '$1'"
      exit 2
      ;;
  esac
}

count_results() {
  # Count SARIF results by level: the SARIF file is the tool's stable, schema-checked output,
  # unlike the annotation lines, which also carry the unverified requirements.
  local python
  python="$(command -v python3 || command -v python)"
  "$python" - "$1" <<'PY'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as handle:
        results = json.load(handle)["runs"][0]["results"]
except (OSError, ValueError, KeyError, IndexError):
    print("")
    raise SystemExit(0)
levels = [r.get("level", "warning") for r in results]
print(len(results), levels.count("error"), levels.count("warning"))
PY
}

# Each line of standard input as an ::error:: annotation, escaped as the Actions toolkit
# escapes a command's message (the tool's own text; no line can start a command of its own).
annotate_lines() {
  local title="$1" line
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ -z "$line" ]] && continue
    line="${line//'%'/%25}"
    line="${line//$'\r'/%0D}"
    printf '::error title=%s::%s\n' "$title" "$line"
  done
}

# A file shown as text on the log: a line that a runner would read as a workflow command
# (none of the tool's own lines is one) has its first character escaped, as the tool escapes
# its own output; a lone carriage return, which the runner reads as a line break, is one.
show_as_text() {
  tr '\r' '\n' <"$1" | sed -e 's/^\([[:space:]]*\)::/\1\\x3a:/' -e 's/^\([[:space:]]*\)##\[/\1\\x23#[/'
}

run_check() {
  local fail_on_findings="${INPUT_FAIL_ON_FINDINGS:-true}"
  is_true "$fail_on_findings" && fail_on_findings=true || fail_on_findings=false

  local -a files=() args=()
  # Whitespace-separated lists. Arguments are not glob-expanded; files are, so that
  # `requirements/*.txt` works (a pattern matching nothing is passed on and reported).
  set -f
  # shellcheck disable=SC2206
  args=(${INPUT_ARGS:-})
  set +f
  # shellcheck disable=SC2206
  files=(${INPUT_FILES:-})
  if is_true "${INPUT_VERIFY_DOWNLOADS:-false}"; then
    args+=(--verify-downloads)
  fi

  local workdir sarif sarif_abs counts
  workdir="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/reqhash-check.XXXXXX")"
  sarif="${INPUT_SARIF_FILE:-}"
  if [[ -n "$sarif" ]]; then
    mkdir -p "$(dirname "$sarif")"
    case "$sarif" in
      /*) sarif_abs="$sarif" ;;
      *) sarif_abs="$PWD/$sarif" ;;
    esac
  else
    sarif_abs="$workdir/reqhash-check.sarif"
  fi
  rm -f "$sarif_abs" # never report a SARIF file left by an earlier run

  local status=0
  reqhash-check --format github --output "$workdir/annotations.txt" \
    --sarif-output "$sarif_abs" ${args[@]+"${args[@]}"} -- ${files[@]+"${files[@]}"} \
    2>"$workdir/stderr.txt" || status=$?
  # The workflow commands reach the runner through standard output.
  if [[ -f "$workdir/annotations.txt" ]]; then
    cat "$workdir/annotations.txt"
  fi
  show_as_text "$workdir/stderr.txt" >&2
  if [[ "$status" == 2 ]]; then
    # A usage error or an unreadable input: shown on the pull request, not only in the log.
    annotate_lines "reqhash-check could not run" <"$workdir/stderr.txt"
  fi

  counts="$(count_results "$sarif_abs")"
  local total errors warnings
  read -r total errors warnings <<<"$counts" || true
  output findings "${total:-}"
  output errors "${errors:-}"
  output warnings "${warnings:-}"
  output exit-code "$status"
  if [[ -n "${INPUT_SARIF_FILE:-}" && -f "$sarif_abs" ]]; then
    output sarif-file "$sarif_abs"
  else
    output sarif-file ""
  fi
  rm -rf "$workdir"

  case "$status" in
    0) say "no error-level findings (${total:-0} in all)" ;;
    1)
      if [[ -z "${total:-}" ]]; then
        # Exit 1 without a report is a crash, not findings: never let it pass.
        say "reqhash-check exited 1 without writing a report"
        return 1
      fi
      say "$total finding(s), $errors error(s)"
      if [[ "$fail_on_findings" == false ]]; then
        say "fail-on-findings is false: not failing the step"
        status=0
      fi
      ;;
    2) say "usage error or an unreadable requirements file (exit 2)" ;;
    3) say "the index could not be reached for some requirements: they were not verified (exit 3)" ;;
    *) say "reqhash-check failed with exit code $status" ;;
  esac
  return "$status"
}

case "${1:-}" in
  key) key ;;
  install) install ;;
  run) run_check ;;
  *)
    say "usage: action.sh key|install|run"
    exit 2
    ;;
esac
