#!/usr/bin/env bash
# Runs the release's conformance pack against one installed app of the release.
#
#   ./tools/conformance.sh --app PATH/TO/APP [--plugins DIR] [--pack DIR] [--log FILE]
#
# --app      the app's executable (from its unpacked release zip); --studio is the same
# --plugins  a folder holding the release's plugin zips (plugins/*.zip of the release);
#            default: none
# --pack     the conformance pack (default: ../conformance-pack next to this script
#            when run from a release folder, else ../workspace-fixtures/conformance)
# --log      also write a full log (commands, exit codes, output) to FILE; paths of
#            the scratch folder are written as ${WORK} so the log is reproducible
#
# Prints one line per case, `PASS <case>` or `FAIL <case>: <why>`, then
# `N passed, N failed`, and exits 1 if any case failed (2 on bad usage).
# Needs bash, coreutils, grep and python3 (standard library only: it makes the
# tampered and unsigned copies of the plugins). Works offline.
#
# A case is a folder of the pack's cases/ with:
#   app             optional: the app (its executable's name) the case is for; a case
#                   without it is for every app. Every app needs at least one case.
#   args            the app's arguments, one per line (${PLUGINS} is the case's plugin folder)
#   plugins         optional: which plugin set the case gets: release (default), unsigned,
#                   tampered, hostile, none
#   env             optional: KEY=VALUE lines set for the run (KEY= unsets it)
#   expect-exit     the exit code (default 0)
#   expect-stdout   optional: extended regular expressions, one per line, each must match a line of stdout
#   expect-stderr   optional: the same for stderr
#   reject-stdout   optional: expressions no line of stdout may match
set -euo pipefail

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
app="" plugins="" pack="" log=""
while [ $# -gt 0 ]; do
  case "$1" in
    --app|--studio) app=${2:-}; shift 2 ;;
    --plugins) plugins=${2:-}; shift 2 ;;
    --pack) pack=${2:-}; shift 2 ;;
    --log) log=${2:-}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "conformance.sh: unknown argument $1" >&2; usage ;;
  esac
done
[ -n "$app" ] || usage
if [ -z "$pack" ]; then
  if [ -d "$here/../conformance-pack" ]; then pack="$here/../conformance-pack"; else pack="$here/../workspace-fixtures/conformance"; fi
fi
[ -x "$app" ] || { echo "conformance.sh: $app is not an executable; pass the app's executable from its unpacked release zip" >&2; exit 2; }
[ -z "$plugins" ] || [ -d "$plugins" ] || { echo "conformance.sh: $plugins is not a folder; pass the folder holding the release's plugin zips" >&2; exit 2; }
[ -d "$pack/cases" ] || { echo "conformance.sh: $pack has no cases/ folder; pass --pack" >&2; exit 2; }
command -v python3 >/dev/null || { echo "conformance.sh: python3 is needed (standard library only)" >&2; exit 2; }
app=$(cd "$(dirname "$app")" && pwd)/$(basename "$app")
app_name=$(basename "$app" .exe)

work=$(mktemp -d "${TMPDIR:-/tmp}/helix-conformance.XXXXXX")
trap 'rm -rf "$work"' EXIT
: > "$work/log"

# The plugin sets. The release's plugins, then copies made from them here:
# unsigned (SIGNATURE.ed25519 removed) and tampered (one signed entry changed,
# CRC recomputed so only the signature check can catch it).
mkdir -p "$work/sets/release" "$work/sets/unsigned" "$work/sets/tampered" "$work/sets/hostile" "$work/sets/none"
[ -n "$plugins" ] && cp "$plugins"/*.zip "$work/sets/release/" 2>/dev/null || true
[ -d "$pack/fixtures/hostile" ] && cp "$pack"/fixtures/hostile/*.zip "$work/sets/hostile/" 2>/dev/null || true
python3 - "$work/sets/release" "$work/sets/unsigned" "$work/sets/tampered" <<'PY'
import os, sys, zipfile
src, unsigned, tampered = sys.argv[1:4]
for name in sorted(os.listdir(src)):
    if not name.endswith(".zip"):
        continue
    with zipfile.ZipFile(os.path.join(src, name)) as zin:
        infos = zin.infolist()
        data = {i.filename: zin.read(i) for i in infos}
    for out, mode in ((unsigned, "unsigned"), (tampered, "tampered")):
        with zipfile.ZipFile(os.path.join(out, name), "w", zipfile.ZIP_DEFLATED) as zout:
            for info in infos:
                body = data[info.filename]
                if mode == "unsigned" and info.filename == "SIGNATURE.ed25519":
                    continue
                if mode == "tampered" and info.filename == "plugin.json":
                    body = body.replace(b'"description"', b'"descriptioN"', 1) if b'"description"' in body else body + b" "
                zout.writestr(info, body)
PY

pass=0 fail=0 skipped=0
for case_dir in "$pack"/cases/*/; do
  case_name=$(basename "$case_dir")
  if [ -f "$case_dir/app" ] && [ "$(tr -d '[:space:]' < "$case_dir/app")" != "$app_name" ]; then
    skipped=$((skipped + 1)); continue
  fi
  set_name=release
  [ -f "$case_dir/plugins" ] && set_name=$(tr -d '[:space:]' < "$case_dir/plugins")
  if [ ! -d "$work/sets/$set_name" ]; then
    echo "FAIL $case_name: unknown plugin set '$set_name'"; fail=$((fail + 1)); continue
  fi
  args=()
  if [ -f "$case_dir/args" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      args+=("${line//\$\{PLUGINS\}/$work/sets/$set_name}")
    done < "$case_dir/args"
  fi
  env_args=(-u OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED -u OMNIS_HELIX_PLUGIN_DIR -u OMNIS_HELIX_TRUST_STORE)
  if [ -f "$case_dir/env" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      [ -z "$line" ] && continue
      case "$line" in *=) env_args+=(-u "${line%=}") ;; *) env_args+=("$line") ;; esac
    done < "$case_dir/env"
  fi
  expect_exit=0
  [ -f "$case_dir/expect-exit" ] && expect_exit=$(tr -d '[:space:]' < "$case_dir/expect-exit")

  set +e
  env "${env_args[@]}" HOME="$work/home" "$app" "${args[@]}" > "$work/stdout" 2> "$work/stderr" < /dev/null
  status=$?
  set -e

  why=""
  [ "$status" = "$expect_exit" ] || why="exit code $status, expected $expect_exit"
  for stream in stdout stderr; do
    if [ -z "$why" ] && [ -f "$case_dir/expect-$stream" ]; then
      while IFS= read -r pattern || [ -n "$pattern" ]; do
        [ -z "$pattern" ] && continue
        if ! grep -Eq -- "$pattern" "$work/$stream"; then why="$stream has no line matching /$pattern/"; break; fi
      done < "$case_dir/expect-$stream"
    fi
  done
  if [ -z "$why" ] && [ -f "$case_dir/reject-stdout" ]; then
    while IFS= read -r pattern || [ -n "$pattern" ]; do
      [ -z "$pattern" ] && continue
      if grep -Eq -- "$pattern" "$work/stdout"; then why="stdout has a line matching /$pattern/"; break; fi
    done < "$case_dir/reject-stdout"
  fi

  {
    echo "=== $case_name"
    echo "plugins: $set_name"
    [ -f "$case_dir/env" ] && sed 's/^/env: /' "$case_dir/env"
    printf 'args:'; [ -f "$case_dir/args" ] && while IFS= read -r line || [ -n "$line" ]; do printf ' %q' "$line"; done < "$case_dir/args"; echo
    echo "exit: $status"
    echo "--- stdout"; sed "s|$work|\${WORK}|g" "$work/stdout"
    echo "--- stderr"; sed "s|$work|\${WORK}|g" "$work/stderr"
    if [ -z "$why" ]; then echo "result: PASS"; else echo "result: FAIL ($why)"; fi
  } >> "$work/log"

  if [ -z "$why" ]; then
    echo "PASS $case_name"; pass=$((pass + 1))
  else
    echo "FAIL $case_name: $why"; fail=$((fail + 1))
  fi
done

if [ $((pass + fail)) -eq 0 ]; then
  echo "conformance.sh: no case of $pack is for $app_name ($skipped are for other apps); add one whose app file names $app_name, or one without an app file" >&2
  exit 2
fi
echo "$pass passed, $fail failed"
echo "$pass passed, $fail failed" >> "$work/log"
[ -n "$log" ] && cp "$work/log" "$log"
[ "$fail" -eq 0 ]
