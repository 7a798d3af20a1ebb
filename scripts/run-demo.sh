#!/usr/bin/env bash
# `make run`: a demo provider on SQLite, then the issuer on :8000 and the verifier on :8001 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

export ISSUER_DATA_DIR="${ISSUER_DATA_DIR:-var}"
export ISSUER_KEYS_DIR="${ISSUER_KEYS_DIR:-keys}"
export ISSUER_PUBLIC_URL="${ISSUER_PUBLIC_URL:-http://127.0.0.1:8000}"
export ISSUER_VERIFIER_URL="${ISSUER_VERIFIER_URL:-http://127.0.0.1:8001}"
# Development only: a random passphrase and server secret kept beside the development keys, readable by this
# user alone (`issuer secrets generate` writes them with mode 0600 and never overwrites one).
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

"$BIN/issuer" demo
echo "issuer:   $ISSUER_PUBLIC_URL   (API docs: $ISSUER_PUBLIC_URL/docs)"
echo "verifier: $VERIFIER_PUBLIC_URL   (trusts $VERIFIER_TRUSTED_ISSUERS)"
if [[ "$VERIFIER_REQUIRE_HTTPS" == "false" ]]; then
  echo "demo mode: the verifier contacts issuers over plain http (VERIFIER_REQUIRE_HTTPS=false); never in production"
fi
echo "Ctrl-C stops both. Either can be stopped alone (kill its PID); the other keeps running."

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$BIN/issuer" serve --host 127.0.0.1 --port "${ISSUER_PORT:-8000}" & pids+=($!)
"$BIN/verifier" serve --host 127.0.0.1 --port "${VERIFIER_PORT:-8001}" & pids+=($!)
echo "issuer PID ${pids[0]}, verifier PID ${pids[1]}"
wait
