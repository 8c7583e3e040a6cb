#!/usr/bin/env bash
# Benchmark of `validate watch` against valkey-benchmark on a local TLS cluster of real valkey-server 8
# (serverless shape by default, or 3 masters), in one run: the same commands in flight and command mix (watch's session
# mix, SET NX PX / GET / PEXPIRE / DEL at 10/60/20/10%, 256-byte values, on both sides:
# valkey-benchmark runs those commands in watch's counts, not its -t set,get, and does watch's work: its keyspace
# is filled first, untimed, so GET and PEXPIRE find their key; every SET NX gets a new key; it prints what they found).
# valkey-benchmark -c CONNS -P 1 keeps fewer than CONNS commands in flight (its clients wait for
# the event loop between a reply and the next command, outside its latency); the script measures
# how many by Little's law (rate x mean latency) and judges watch, with its default client
# settings, with that many workers (a watch worker sends its next command at once: N workers keep
# N in flight, printed too); watch with CONNS workers is printed, not judged.
# Prints in flight, ops/s, p50 and p99 of both per round and their medians over ROUNDS, all three
# ratios (the median of the rounds' ratios: each watch run against the valkey-benchmark run beside
# it, so a slow stretch of this host counts against both), and a verdict: MET only if ops/s
# >= 1.0x, p50 <= 1.15x and p99 <= 1.15x valkey-benchmark's (issue 14 item 6), otherwise MISSED
# with the targets missed; INCONCLUSIVE (with what it would read) when valkey-benchmark's own ops/s
# varied more than 1.5x between rounds: the host's speed, not the tools, would decide it.
# Where watch stands and why: validate/README.md (Benchmark).
# Topology (TOPOLOGY=): serverless (default: one master owning every slot, the shape the product
# meets) or cluster (3 masters: every session's slot may be on another node).
# Usage: bench/watch.sh        (ROUNDS=3 DURATION=8s; CONNS: multiples of the masters,
#                               default "4 9 64" serverless, "3 48" cluster)
set -euo pipefail
cd "$(dirname "$0")/.."
for bin in valkey-server valkey-cli valkey-benchmark; do
  command -v "$bin" >/dev/null || { echo "bench/watch.sh: $bin not found (apt-get install -t bookworm-backports valkey-server valkey-tools)" >&2; exit 2; }
done
VALKEY_DR_BENCH=1 ROUNDS="${ROUNDS:-3}" DURATION="${DURATION:-8s}" CONNS="${CONNS:-}" TOPOLOGY="${TOPOLOGY:-serverless}" \
  go -C bench test . -run '^TestWatchBench$' -count=1 -v -timeout 15m | grep -v -E '^(=== RUN|--- PASS|PASS$|ok )'
