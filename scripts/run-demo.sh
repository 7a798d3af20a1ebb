#!/usr/bin/env bash
# `make run`: a demo provider on SQLite, then the issuer and the verifier until Ctrl-C.
#
# ISSUER_PORT and VERIFIER_PORT (default 8000 and 8001) move everything together: the servers, the public URLs
# (hence the issuer id, the curl and the QR codes' target) and the verifier's trust list.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

ISSUER_PORT="${ISSUER_PORT:-8000}"
VERIFIER_PORT="${VERIFIER_PORT:-8001}"
# Both ports must be free before anything is created (with SO_REUSEADDR, as the servers bind).
for port in "$ISSUER_PORT" "$VERIFIER_PORT"; do
  if ! "$BIN/python" - "$port" 2>/dev/null <<'PY'
import socket, sys
probe = socket.socket()
probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
probe.bind(("127.0.0.1", int(sys.argv[1])))
PY
  then
    echo "make run: port $port on 127.0.0.1 is already in use (another \`make run\`?); nothing was started." >&2
    echo "Stop what uses it, or choose other ports:  ISSUER_PORT=8100 VERIFIER_PORT=8101 make run" >&2
    exit 1
  fi
done

export ISSUER_DATA_DIR="${ISSUER_DATA_DIR:-var}"
export ISSUER_KEYS_DIR="${ISSUER_KEYS_DIR:-keys}"
export ISSUER_PUBLIC_URL="${ISSUER_PUBLIC_URL:-http://127.0.0.1:$ISSUER_PORT}"
export ISSUER_VERIFIER_URL="${ISSUER_VERIFIER_URL:-http://127.0.0.1:$VERIFIER_PORT}"
# Development only: a random passphrase and server secret kept beside the development keys, readable by this
# user alone (`issuer secrets generate` writes them with mode 0600 and never overwrites one).
mkdir -p "$ISSUER_DATA_DIR"
if [[ -z "${ISSUER_KEY_PASSPHRASE:-}" && -z "${ISSUER_KEY_PASSPHRASE_FILE:-}" ]]; then
  [[ -s keys/dev-passphrase ]] || "$BIN/issuer" secrets generate keys/dev-passphrase >/dev/null
  export ISSUER_KEY_PASSPHRASE_FILE=keys/dev-passphrase
fi
if [[ -z "${ISSUER_SECRET_KEY:-}" && -z "${ISSUER_SECRET_KEY_FILE:-}" ]]; then
  [[ -s keys/dev-secret-key ]] || "$BIN/issuer" secrets generate keys/dev-secret-key >/dev/null
  export ISSUER_SECRET_KEY_FILE=keys/dev-secret-key
fi
# Short cache lifetimes for the demo, so a revocation, rotation or compromise shows at the verifier within
# seconds (production defaults: 300 s).
export ISSUER_JWKS_MAX_AGE="${ISSUER_JWKS_MAX_AGE:-10}"
export ISSUER_STATUS_LIST_TTL="${ISSUER_STATUS_LIST_TTL:-10}"
export VERIFIER_CACHE_TTL="${VERIFIER_CACHE_TTL:-10}"
export VERIFIER_PUBLIC_URL="${VERIFIER_PUBLIC_URL:-$ISSUER_VERIFIER_URL}"
export VERIFIER_TRUSTED_ISSUERS="${VERIFIER_TRUSTED_ISSUERS:-$ISSUER_PUBLIC_URL/issuers/demo}"
# The demo issuer is plain http on this machine; production verifiers refuse that (the default). The verifier's
# page says so while this is off.
export VERIFIER_REQUIRE_HTTPS="${VERIFIER_REQUIRE_HTTPS:-false}"

# The same settings in .env, which the `issuer` and `verifier` commands read: in a new terminal in this folder
# they find the demo (no secrets in it, only where they are). A .env of the user's own is left alone.
MARKER="# Written by \`make run\` for the local demo"
if [[ ! -e .env ]] || head -n 1 .env | grep -qF "$MARKER"; then
  {
    echo "$MARKER; the issuer and verifier commands read it. Delete it to stop that."
    for name in ISSUER_DATA_DIR ISSUER_KEYS_DIR ISSUER_PUBLIC_URL ISSUER_VERIFIER_URL ISSUER_KEY_PASSPHRASE_FILE \
                ISSUER_SECRET_KEY_FILE ISSUER_JWKS_MAX_AGE ISSUER_STATUS_LIST_TTL VERIFIER_CACHE_TTL \
                VERIFIER_PUBLIC_URL VERIFIER_TRUSTED_ISSUERS VERIFIER_REQUIRE_HTTPS; do
      if [[ -n "${!name:-}" ]]; then echo "$name=${!name}"; fi
    done
  } > .env
else
  echo "note: .env is your own, so it was not changed; commands in another terminal read it, not the demo's settings"
fi

# The demo provider, its achievement and a new API key (kept in var/demo-api-key, readable by this user only).
demo_output=$("$BIN/issuer" demo)
api_key=$(sed -n 's/^API key: *//p' <<<"$demo_output")
(umask 077 && printf '%s\n' "$api_key" > "$ISSUER_DATA_DIR/demo-api-key")

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$BIN/issuer" serve --host 127.0.0.1 --port "$ISSUER_PORT" & pids+=($!)
"$BIN/verifier" serve --host 127.0.0.1 --port "$VERIFIER_PORT" & pids+=($!)
for url in "$ISSUER_PUBLIC_URL/healthz" "$VERIFIER_PUBLIC_URL/healthz"; do
  for _ in $(seq 1 120); do
    "$BIN/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url" 2>/dev/null \
      && break
    kill -0 "${pids[@]}" 2>/dev/null || { echo "make run: a server stopped; see its messages above" >&2; exit 1; }
    sleep 0.5
  done
done

echo
echo "issuer:   $ISSUER_PUBLIC_URL   (API docs: $ISSUER_PUBLIC_URL/docs; PID ${pids[0]})"
echo "verifier: $VERIFIER_PUBLIC_URL   (trusts $VERIFIER_TRUSTED_ISSUERS; PID ${pids[1]})"
if [[ "$VERIFIER_REQUIRE_HTTPS" == "false" ]]; then
  echo "demo mode: the verifier contacts issuers over plain http (VERIFIER_REQUIRE_HTTPS=false); never in production"
fi
echo "Ctrl-C stops both. Either can be stopped alone (kill its PID); the other keeps running."
echo
echo "$demo_output"
wait
