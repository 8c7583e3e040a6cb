#!/usr/bin/env bash
# Benchmark of the post-deploy validator on a local 3-master TLS cluster (real valkey-server 8):
#  1. full validation wall time (the real binary, RUNS runs, median; target < 1 s);
#  2. SET/GET latency of the validator's valkey-go client (its exact options) vs valkey-benchmark
#     against the same node in the same run, printed as a ratio.
# Usage: bench/validate.sh            (RUNS=7 OPS=20000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
for bin in valkey-server valkey-cli valkey-benchmark; do
  command -v "$bin" >/dev/null || { echo "bench/validate.sh: $bin not found (apt-get install -t bookworm-backports valkey-server valkey-tools)" >&2; exit 2; }
done
VALKEY_DR_BENCH=1 RUNS="${RUNS:-7}" OPS="${OPS:-20000}" \
  go -C bench test . -run '^TestValidateBench$' -count=1 -v -timeout 10m | grep -v -E '^(=== RUN|--- PASS|PASS$|ok )'
