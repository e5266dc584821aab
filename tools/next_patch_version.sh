#!/usr/bin/env bash
# The next patch release, for .github/workflows/patch-train.yml (and by hand).
#
#   tools/next_patch_version.sh [--config FILE] [REV]                 the weekly patch train
#   tools/next_patch_version.sh [--config FILE] --base vX.Y.Z [REV]   an emergency security release on top of vX.Y.Z
#
# Prints key=value lines (ready for "$GITHUB_OUTPUT") and exits 0:
#
#   action=tag|none   whether there is something to release
#   last=vX.Y.Z       the release REV builds on (empty when there is none)
#   next=vX.Y.Z+1     the tag to create (action=tag only)
#   commit=<sha>      the commit REV (default HEAD) names
#   reason=...        one line for a human
#
# With --config FILE (release.config.ts, as REV has it), also
#
#   declared=X.Y.Z    the release version FILE declares (its one `version: '…'` line)
#   bump=yes|no       yes: FILE still declares last's version, so the tag job
#                     commits FILE with next's version first (the preflight of
#                     a tag build stops unless the tag names the declared
#                     version); no: it already declares next's (bumped by hand)
#
# and exits 1 when FILE declares neither (or has no single version line).
#
# Release tags are vMAJOR.MINOR.PATCH exactly; pre-release and other tags
# (v1.5.0-rc.1, v2, nightly) are ignored. The train's `last` is the highest
# release tag reachable from REV; with --base it is that tag, which must be a
# release tag that REV descends from. `next` is one patch above the highest
# release tag of last's MAJOR.MINOR line among *all* tags, so a security
# release cut on a branch (v1.4.1 off v1.4.0) is not cut again by the train
# (which then tags v1.4.2). Nothing to do (action=none): no release tag yet
# (the first release of a line is cut by hand), or REV is the commit `last`
# already tags.
#
# Exits 1 on a --base that is not a release tag or not an ancestor of REV,
# 2 on bad usage. Reads the repository only (git tag, rev-parse, rev-list,
# merge-base); creates nothing.
set -euo pipefail

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }

base=""
rev=""
config=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base) [ $# -ge 2 ] || { usage >&2; exit 2; }; base="$2"; shift 2 ;;
    --base=*) base="${1#--base=}"; shift ;;
    --config) [ $# -ge 2 ] || { usage >&2; exit 2; }; config="$2"; shift 2 ;;
    --config=*) config="${1#--config=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "next_patch_version.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) [ -z "$rev" ] || { usage >&2; exit 2; }; rev="$1"; shift ;;
  esac
done
rev="${rev:-HEAD}"

release_re='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$'

commit=$(git rev-parse --verify --quiet "$rev^{commit}") || { echo "next_patch_version.sh: $rev is not a commit" >&2; exit 1; }

# Release tags, highest version first ("vX.Y.Z" per line).
sort_releases() { { grep -E "$release_re" || true; } | sed 's/^v//' | sort -t. -k1,1nr -k2,2nr -k3,3nr | sed 's/^/v/'; }

# The version FILE declares, as REV has it: its one `version: '…'` line.
declared=""
if [ -n "$config" ]; then
  text=$(git show "$commit:$config" 2> /dev/null) || { echo "next_patch_version.sh: $rev has no $config" >&2; exit 1; }
  versions=$(printf '%s\n' "$text" | sed -nE "s/^[[:space:]]*version:[[:space:]]*['\"]([^'\"]+)['\"],?[[:space:]]*(\/\/.*)?$/\1/p")
  if [ -z "$versions" ] || [ "$(printf '%s\n' "$versions" | wc -l)" -ne 1 ]; then
    echo "next_patch_version.sh: $config (at $rev) needs exactly one \`version: '<X.Y.Z>'\` line, the release version" >&2
    exit 1
  fi
  declared="$versions"
fi

emit() { # action last next reason
  local bump=no
  if [ -n "$config" ] && [ "$1" = tag ] && [ "$declared" != "${3#v}" ]; then
    if [ "$declared" != "${2#v}" ]; then
      echo "next_patch_version.sh: $config declares version $declared, which is neither the last release's (${2#v}) nor the next one's (${3#v}): tag by hand, or fix the version" >&2
      exit 1
    fi
    bump=yes
  fi
  printf 'action=%s\nlast=%s\nnext=%s\ncommit=%s\nreason=%s\n' "$1" "$2" "$3" "$commit" "$4"
  if [ -n "$config" ]; then printf 'declared=%s\nbump=%s\n' "$declared" "$bump"; fi
}

if [ -n "$base" ]; then
  [[ "$base" =~ $release_re ]] || { echo "next_patch_version.sh: --base $base is not a release tag (vMAJOR.MINOR.PATCH)" >&2; exit 1; }
  git rev-parse --verify --quiet "refs/tags/$base" > /dev/null || { echo "next_patch_version.sh: there is no tag $base" >&2; exit 1; }
  git merge-base --is-ancestor "refs/tags/$base^{commit}" "$commit" || { echo "next_patch_version.sh: $rev ($commit) does not descend from $base" >&2; exit 1; }
  last="$base"
else
  last=$(git tag --list 'v*' --merged "$commit" | sort_releases | head -n 1)
  if [ -z "$last" ]; then
    emit none "" "" "no release tag (vMAJOR.MINOR.PATCH) is reachable from $rev: cut the first release by hand"
    exit 0
  fi
fi

last_commit=$(git rev-parse "refs/tags/$last^{commit}")
if [ "$last_commit" = "$commit" ]; then
  emit none "$last" "" "$last already tags $rev ($commit): nothing has changed since"
  exit 0
fi

line="${last%.*}" # vMAJOR.MINOR
top=$(git tag --list "$line.*" | sort_releases | head -n 1)
patch="${top##*.}"
next="$line.$((patch + 1))"
count=$(git rev-list --count "$last_commit..$commit")
emit tag "$last" "$next" "$count commit(s) since $last"
