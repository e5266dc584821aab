#!/usr/bin/env bash
# Local + CI parity: mirrors the CI packaging steps to produce SHA256SUMS.txt,
# BUILD_META.txt and SBOMs.
#
#   tools/release_local.sh                  the whole local release (nx run release:all)
#   tools/release_local.sh <artifact>...    a release of artifacts built elsewhere
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
# GPG_PUBLIC_KEY_FINGERPRINT when set. Paths are relative to the current folder;
# the script may be run from anywhere.
set -euo pipefail

usage() {
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cli="packages/cli/bin/helix-release.cjs"

export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

print_plan=0
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --print-plan) print_plan=1; shift ;;
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
  echo "release_local.sh: running $target" >&2
  if [ "$target" = lock ]; then
    npx nx run-many -t lock --exclude-task-dependencies --skip-nx-cache
  else
    npx nx run "release:$target" --exclude-task-dependencies --skip-nx-cache
  fi
done
echo "release_local.sh: done; the release is in the release folder (default dist/release)" >&2
