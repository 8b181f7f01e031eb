# What the bench scripts share: a free port, waiting for a role to answer, and an operator's API token
# from its first admin. Source it; it expects OUT (a scratch directory) and PASSWORD to be set.

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# wait_healthy URL LOG: until URL/healthz answers (else the log, and exit).
wait_healthy() {
  for _ in $(seq 150); do curl -sf "$1/healthz" >/dev/null && return; sleep 0.1; done
  echo "$1 did not start:" >&2
  cat "$2" >&2
  exit 1
}

# operator_token URL: signs in as the first admin and prints a fresh operator API token.
operator_token() {
  local me csrf
  me=$(curl -sf -c "$OUT/cookies" -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$1/api/v1/auth/login")
  csrf=$(printf '%s' "$me" | json 'd["csrf_token"]')
  curl -sf -b "$OUT/cookies" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
    -d '{"name":"bench","role":"operator"}' "$1/api/v1/tokens" | json 'd["token"]'
}
