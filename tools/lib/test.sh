#!/usr/bin/env bash
# `tools/dev test`: every gate and every test, each counted; the last line is `N passed, N failed`.
# Runs with the project's Node on PATH (tools/dev prepared it).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BIN="$ROOT/node_modules/.bin"
REPORT_DIR="$(mktemp -d /tmp/pressluft-test-XXXXXX)"
# The harness makes its temp dirs under TMPDIR: one per run, so the cleanup check sees only ours.
HARNESS_TMP="$REPORT_DIR/tmp"
mkdir -p "$HARNESS_TMP"
chmod 755 "$REPORT_DIR" "$HARNESS_TMP" # services run as postgres, mysql and www-data
trap 'rm -rf "$REPORT_DIR"' EXIT

passed=0
failed=0
failures=()

check() { # name command...
  local name="$1" start=$SECONDS
  shift
  if "$@" >"$REPORT_DIR/$name.log" 2>&1; then
    passed=$((passed + 1))
    echo "check $name: ok ($((SECONDS - start))s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "check $name: FAILED ($((SECONDS - start))s)"
    tail -n 60 "$REPORT_DIR/$name.log" | sed 's/^/    /'
  fi
}

codegen_is_current() {
  local out="$REPORT_DIR/codegen"
  "$BIN/buf" lint && "$BIN/buf" generate -o "$out" && diff -r "$out/libs/proto/src/gen" libs/proto/src/gen
}

leftovers() { # the harness must leave no temp dir and no process behind
  local dirs procs
  dirs="$(find "$HARNESS_TMP" -mindepth 1 -maxdepth 1 -name 'pressluft-harness-*' 2>/dev/null)"
  procs="$(pgrep -f -- "$HARNESS_TMP" | tr '\n' ' ')"
  [ -z "$dirs" ] && [ -z "$procs" ] && return 0
  echo "left behind: dirs=[$dirs] pids=[$procs]"
  return 1
}

echo "== gates"
check typecheck "$BIN/tsc" -p tsconfig.json
# The boundary rule reads Nx's project graph; without a computed one it skips itself with a mere console warning.
check project-graph "$BIN/nx" show projects
check lint "$BIN/eslint" --max-warnings=0 .
check codegen codegen_is_current
check build "$BIN/tsc" -p tsconfig.build.json --outDir "$REPORT_DIR/dist"
check console-build "$BIN/nx" run console:build --skip-nx-cache

echo "== tests"
TMPDIR="$HARNESS_TMP" "$BIN/vitest" run --reporter=default --reporter=json --outputFile.json="$REPORT_DIR/vitest.json"
vitest_rc=$?
read -r v_passed v_failed v_skipped < <(node -e '
  const fs = require("node:fs");
  let r = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 };
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
  console.log(r.numPassedTests, r.numFailedTests, r.numPendingTests + r.numTodoTests);
' "$REPORT_DIR/vitest.json")
if [ "$vitest_rc" -ne 0 ] && [ "$v_failed" -eq 0 ]; then
  # The runner failed outside any test (setup, import, unhandled error): that is a failure too.
  v_failed=1
  failures+=("vitest (exit $vitest_rc outside a test)")
fi
echo "vitest: $v_passed passed, $v_failed failed, $v_skipped skipped"
passed=$((passed + v_passed))
failed=$((failed + v_failed))

check harness-cleanup leftovers

echo
[ "${#failures[@]}" -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
