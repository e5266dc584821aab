#!/usr/bin/env bash
# Local + CI parity: mirrors the CI packaging steps to produce SHA256SUMS.txt,
# BUILD_META.txt and SBOMs.
#
#   tools/release_local.sh                  the whole local release (nx run release:all)
#   tools/release_local.sh <artifact>...    a release of artifacts built elsewhere
#   tools/release_local.sh --no-sign <artifact>...
#                                           the same, every stage but sign
#   tools/release_local.sh --sign-only      then sign what it made (no other stage)
#   tools/release_local.sh --print-plan     print the targets run for artifacts, one a line
#   tools/release_local.sh -h | --help      this text
#
# With artifacts (installer zips <app>-<version>-<platform>.zip and plugin zips,
# e.g. the ones the CI build jobs produced): provisions the toolchain, imports
# the files into the release folder (emptying it first), then runs with
# HELIX_RELEASE_IMPORT=1 every target of `helix-release plan --local`, in the
# order release.config.ts gives: lock for every app, then the release-level
# stages (custom stages, conformance, sbom, checksums, build-meta, provenance,
# sign). Signing uses GPG_PRIVATE_KEY / GPG_PASSPHRASE /
# GPG_PUBLIC_KEY_FINGERPRINT when set. Every process a stage starts (PyInstaller,
# syft, the app under conformance) can read its parents' environment in /proc,
# so a real key goes to --sign-only alone: --no-sign refuses to run with one,
# and --sign-only runs the sign stage only, which starts no tool of its own.
# Paths are relative to the current folder; the script may be run from anywhere.
set -euo pipefail

usage() {
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cli="packages/cli/bin/helix-release.cjs"

export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

print_plan=0
no_sign=0
sign_only=0
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --print-plan) print_plan=1; shift ;;
    --no-sign) no_sign=1; shift ;;
    --sign-only) sign_only=1; shift ;;
    --) shift; files+=("$@"); break ;;
    -*) echo "release_local.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done

# The stage targets for imported artifacts, in release order, from release.config.ts.
local_plan() {
  (cd "$root" && node "$cli" plan --local)
}

if [ "$print_plan" = 1 ]; then
  if [ ${#files[@]} -gt 0 ]; then
    echo "release_local.sh: --print-plan takes no artifacts" >&2
    exit 2
  fi
  local_plan
  exit 0
fi

if [ "$sign_only" = 1 ]; then
  if [ ${#files[@]} -gt 0 ] || [ "$no_sign" = 1 ]; then
    echo "release_local.sh: --sign-only takes no artifacts and no other option: it signs what an earlier --no-sign run made" >&2
    exit 2
  fi
  cd "$root"
  export HELIX_RELEASE_IMPORT=1
  echo "release_local.sh: running sign" >&2
  npx nx run "release:sign" --exclude-task-dependencies --skip-nx-cache
  echo "release_local.sh: done; the release is in the release folder (default dist/release)" >&2
  exit 0
fi
if [ "$no_sign" = 1 ]; then
  for secret in GPG_PRIVATE_KEY GPG_PASSPHRASE; do
    if [ -n "${!secret:-}" ]; then
      echo "release_local.sh: --no-sign runs the build tools, which could read $secret from this process's environment; unset it here and pass it to --sign-only alone" >&2
      exit 2
    fi
  done
  if [ ${#files[@]} -eq 0 ]; then
    echo "release_local.sh: --no-sign needs the artifacts to release" >&2
    exit 2
  fi
fi

if [ ${#files[@]} -eq 0 ]; then
  cd "$root"
  exec npx nx run release:all
fi

# Absolute paths, relative to the caller's folder (the script changes folder below).
abs=()
for f in "${files[@]}"; do
  case "$f" in
    /*) abs+=("$f") ;;
    *) abs+=("$PWD/$f") ;;
  esac
done

cd "$root"
plan=$(local_plan)
targets=()
while IFS= read -r line; do
  [ -n "$line" ] && targets+=("$line")
done <<<"$plan"
if [ ${#targets[@]} -eq 0 ]; then
  echo "release_local.sh: helix-release plan --local printed no targets" >&2
  exit 1
fi

echo "release_local.sh: provisioning the toolchain" >&2
npx nx run release:toolchain

echo "release_local.sh: importing ${#abs[@]} artifact(s)" >&2
# Missing or badly named artifacts fail here, with the import command's message.
node "$cli" import "${abs[@]}"

export HELIX_RELEASE_IMPORT=1
for target in "${targets[@]}"; do
  if [ "$no_sign" = 1 ] && [ "$target" = sign ]; then
    echo "release_local.sh: not signing (--no-sign); run tools/release_local.sh --sign-only with the key" >&2
    continue
  fi
  echo "release_local.sh: running $target" >&2
  if [ "$target" = lock ]; then
    npx nx run-many -t lock --exclude-task-dependencies --skip-nx-cache
  else
    npx nx run "release:$target" --exclude-task-dependencies --skip-nx-cache
  fi
done
echo "release_local.sh: done; the release is in the release folder (default dist/release)" >&2
