#!/usr/bin/env bash
# Signing and verifying N Open Badges 3.0 credentials with eddsa-rdfc-2022: assay's code
# (examples/sign.rs, release build) beside Digital Bazaar's JavaScript libraries
# (scripts/sign-js: jsonld-signatures + @digitalbazaar/eddsa-rdfc-2022-cryptosuite), on the same
# credentials, the same key and the same machine; each side checks the other's signatures, and
# the proofs are compared (Ed25519 is deterministic: they must be identical).
#
#   scripts/sign-bench.sh [N]        (default 10000; needs node and npm)
set -euo pipefail
N=${1:-10000}
here=$(cd "$(dirname "$0")/.." && pwd)
js=$here/scripts/sign-js
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -d "$js/node_modules" ] || (cd "$js" && npm ci --silent)
cargo build --release --quiet --example sign --manifest-path "$here/Cargo.toml"
rs=$here/target/release/examples/sign
# 1EdTech's test-vector key pair
SEED=6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4
MB=z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi
VM="https://example.edu/issuers/565049#$MB"
AT=2010-01-01T19:23:24Z
node "$js/gen.mjs" "$N" "$work/creds.jsonl" >/dev/null
echo "== $N credentials"
node "$js/sign.mjs" --seed $SEED --vm "$VM" --created $AT "$work/creds.jsonl" "$work/js.jsonl" 2>&1 | grep '^signed' | sed 's/^/JavaScript  /'
"$rs" sign --seed $SEED --vm "$VM" --created $AT --threads 1 "$work/creds.jsonl" "$work/rs1.jsonl" 2>&1 | sed 's/^/assay       /'
"$rs" sign --seed $SEED --vm "$VM" --created $AT "$work/creds.jsonl" "$work/rs.jsonl" 2>&1 | sed 's/^/assay       /'
node "$js/verify.mjs" --public-key-multibase $MB "$work/rs.jsonl" 2>&1 | sed 's/^/JavaScript  /'
"$rs" verify --public-key-multibase $MB --threads 1 "$work/js.jsonl" 2>&1 | sed 's/^/assay       /'
"$rs" verify --public-key-multibase $MB "$work/js.jsonl" 2>&1 | sed 's/^/assay       /'
proofs() { python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)["proof"]["proofValue"])' "$1"; }
if cmp -s <(proofs "$work/js.jsonl") <(proofs "$work/rs.jsonl"); then
  echo "the $N proofs are identical on both sides"
else
  echo "the proofs differ" >&2; exit 1
fi
