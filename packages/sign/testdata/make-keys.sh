#!/usr/bin/env bash
# TEST-ONLY key fixtures for packages/sign/src/lib/sign.spec.ts, made by GnuPG
# (not by this project), so the tests check OpenPGP.js against keys that a
# real user's gpg writes. Every key and passphrase here is public: NEVER use
# them for anything but these tests. See README.md.
#
# Usage: packages/sign/testdata/make-keys.sh   (rewrites the files beside it)
#
# Every key is created at the faked, frozen time 2020-01-01T00:00:00Z
# (1577836800), so the tests know each key's creation time. Keys are random,
# so a re-run gives new keys (and new fingerprints); commit the result.
set -euo pipefail

out="$(cd "$(dirname "$0")" && pwd)"
home="$(mktemp -d)"
trap 'gpgconf --homedir "$home" --kill all >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
chmod 700 "$home"
export TZ=UTC LC_ALL=C

FAKED='20200101T000000!'

# gpg with the fixed time, no tty, loopback pinentry; $1 is the passphrase.
g() {
  local pass="$1"
  shift
  gpg --homedir "$home" --batch --no-tty --faked-system-time "$FAKED" \
    --pinentry-mode loopback --passphrase "$pass" "$@"
}

fingerprint_of() {
  gpg --homedir "$home" --batch --with-colons --list-keys "$1" | awk -F: '$1 == "fpr" { print $10; exit }'
}

# new_key NAME ALGO EXPIRE PASSPHRASE: a primary key that signs, nothing else.
new_key() {
  local name="$1" algo="$2" expire="$3" pass="$4"
  local uid="Helix TEST-ONLY ${name} <test-only-${name}@helix-release.invalid>"
  g "$pass" --quick-gen-key "$uid" "$algo" sign "$expire" 2>/dev/null
  fingerprint_of "$uid"
}

# export_secret NAME FPR PASSPHRASE: NAME.asc, NAME.passphrase, NAME.fingerprint.
export_secret() {
  local name="$1" fpr="$2" pass="$3"
  g "$pass" --armor --export-secret-keys "$fpr" >"$out/$name.asc"
  printf '%s\n' "$pass" >"$out/$name.passphrase"
  printf '%s\n' "$fpr" >"$out/$name.fingerprint"
}

# 1. Ed25519, passphrase-protected.
pass='TEST-ONLY ed25519 passphrase: correct horse battery staple'
fpr="$(new_key ed25519 ed25519 never "$pass")"
export_secret ed25519 "$fpr" "$pass"

# 2. RSA 3072, passphrase-protected.
pass='TEST-ONLY rsa3072 passphrase: Tr0ub4dor&3'
fpr="$(new_key rsa3072 rsa3072 never "$pass")"
export_secret rsa3072 "$fpr" "$pass"

# 3. Ed25519 that expires on 2021-01-01T00:00:00Z (366 days after creation).
pass='TEST-ONLY expired passphrase'
fpr="$(new_key expired ed25519 seconds=31622400 "$pass")"
export_secret expired "$fpr" "$pass"

# 4. Ed25519 revoked by its owner: gpg --gen-revoke, then --import of that
#    revocation certificate, then exported (the export carries the revocation).
pass='TEST-ONLY revoked passphrase'
fpr="$(new_key revoked ed25519 never "$pass")"
# --gen-revoke refuses --batch, so it answers its questions on --command-fd:
# "Create a revocation certificate? y", reason 1 (key has been compromised),
# empty description, "Is this okay? y".
printf 'y\n1\n\ny\n' | gpg --homedir "$home" --no-tty --faked-system-time "$FAKED" \
  --pinentry-mode loopback --passphrase "$pass" --command-fd 0 \
  --armor --output "$home/revoked.rev" --gen-revoke "$fpr" 2>/dev/null
g "$pass" --import "$home/revoked.rev" 2>/dev/null
gpg --homedir "$home" --batch --with-colons --list-keys "$fpr" | grep -q '^pub:r:' || {
  echo "make-keys.sh: the revoked key is not revoked" >&2
  exit 1
}
export_secret revoked "$fpr" "$pass"

# 5. A public key only (what `gpg --armor --export` gives).
pass='TEST-ONLY public-only passphrase'
fpr="$(new_key public-only ed25519 never "$pass")"
g "$pass" --armor --export "$fpr" >"$out/public-only.asc"
printf '%s\n' "$fpr" >"$out/public-only.fingerprint"

# 6. Truncated armour of a private key: the header and the first half of the
#    body, no checksum, no END line.
pass='TEST-ONLY malformed passphrase'
fpr="$(new_key malformed ed25519 never "$pass")"
g "$pass" --armor --export-secret-keys "$fpr" >"$home/malformed-full.asc"
lines="$(wc -l <"$home/malformed-full.asc")"
head -n "$((lines / 2))" "$home/malformed-full.asc" >"$out/malformed.asc"
printf '%s\n' "$pass" >"$out/malformed.passphrase"
printf '%s\n' "$fpr" >"$out/malformed.fingerprint"

echo "wrote TEST-ONLY keys to $out:"
(cd "$out" && ls -1 ./*.asc ./*.fingerprint ./*.passphrase)
