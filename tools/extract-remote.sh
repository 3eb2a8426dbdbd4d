#!/bin/sh
# extract-remote.sh: rebuild one bbackup backup from a copy of a remote, with stock tools only.
#
# Needs: POSIX sh, jq, zstd, GNU tar, age (only for encrypted remotes) and coreutils (sha256sum,
# realpath, touch, mktemp, cp, cat, mkdir, rm, sort). No Node, no bbackup. Reads both remote
# layouts described in docs/FORMAT.md: format 2 (the repository: packs, snapshots) and format 1
# (one folder per backup). The result is the backup folder exactly as bbackup's local store holds
# it: manifest.json, containers/<name>/inspect.json, networks/*.json, volumes/<name>/ (a tree:
# files with owners, modes, nanosecond mtimes, xattrs and ACLs as GNU tar sets them),
# volumes/<name>.tar.zst (an archive, as it was), images/, dumps/, projects/, metadata.tar.zst.
# Every file is checked against the sha256 the backup recorded for it.
#
# Usage:
#   extract-remote.sh [-i IDENTITY] [-H HOST] REMOTE list
#   extract-remote.sh [-i IDENTITY] [-H HOST] REMOTE BACKUP_ID OUT_DIR
# REMOTE is a local folder holding the remote's files (a local remote, a mounted disk, or what
# `rclone copy REMOTE: DIR` fetched). IDENTITY is an age identity file (age-keygen); without it an
# encrypted remote made with a passphrase makes age ask for the passphrase. HOST is the host
# folder name (needed only when two hosts have a backup with the same id). OUT_DIR must not
# exist or be empty. Run as root to get the owners back (tar --same-owner).
# Optional: when getfattr and setfattr are present, file capabilities (security.capability, which
# the kernel drops when a file is written) are put back; without them every other xattr stays.
set -eu

REPO_FORMAT=2
MANIFEST_FORMAT=1
IDENTITY=
HOST=

die() {
  printf 'extract-remote: %s\n' "$*" >&2
  exit 1
}
usage() {
  die "usage: extract-remote.sh [-i IDENTITY] [-H HOST] REMOTE (list | BACKUP_ID OUT_DIR)"
}

while getopts 'i:H:' opt; do
  case $opt in
    i) IDENTITY=$OPTARG ;;
    H) HOST=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
R=$1
[ -d "$R" ] || die "$R is not a folder"
for t in jq zstd tar sha256sum realpath touch mktemp; do
  command -v "$t" >/dev/null 2>&1 || die "$t is needed and not in PATH"
done
[ -z "$IDENTITY" ] || [ -r "$IDENTITY" ] || die "cannot read the identity file $IDENTITY"

# A stored file's plaintext on stdout: NAME or NAME.age (decrypted with age).
dec() {
  if [ -f "$1" ]; then
    cat -- "$1"
  elif [ -f "$1.age" ]; then
    command -v age >/dev/null 2>&1 || die "$1.age is encrypted and age is not in PATH"
    if [ -n "$IDENTITY" ]; then age -d -i "$IDENTITY" -- "$1.age"; else age -d -- "$1.age"; fi
  else
    die "missing: $1 (or $1.age)"
  fi
}
have() { [ -f "$1" ] || [ -f "$1.age" ]; }

# Refuse a file of a newer major version; a file without `format` is the oldest version (1).
check_format() { # file max what
  v=$(jq -r '.format // 1' "$1") || die "$3 is not JSON"
  case $v in '' | *[!0-9]*) die "$3 has a malformed format field ($v)" ;; esac
  [ "$v" -le "$2" ] || die "$3 is format $v; this script reads up to format $2: use a newer tools/extract-remote.sh"
}

# ---------------------------------------------------------------- list
if [ "$2" = list ]; then
  [ ! -f "$R/bbackup-repo.json" ] || check_format "$R/bbackup-repo.json" $REPO_FORMAT bbackup-repo.json
  printf 'format\thost\tid\tstatus\n'
  for d in "$R"/snapshots/*/*/; do
    d=${d%/}
    have "$d/manifest.json" || continue
    h=${d%/*}
    st=$(jq -r '.status // "?"' "$d/info.json" 2>/dev/null || echo '?')
    printf '2\t%s\t%s\t%s\n' "${h##*/}" "${d##*/}" "$st"
  done
  for d in "$R"/*/*/; do
    d=${d%/}
    case $d in "$R/snapshots/"* | *.partial) continue ;; esac
    have "$d/manifest.json" && have "$d/remote-index.json" || continue
    h=${d%/*}
    st=$(jq -r '.status // "?"' "$d/retention.json" 2>/dev/null || echo '?')
    printf '1\t%s\t%s\t%s\n' "${h##*/}" "${d##*/}" "$st"
  done
  exit 0
fi

# ---------------------------------------------------------------- extract
[ $# -eq 3 ] || usage
ID=$2
OUT=$3
case $ID in *[!0-9TZ-]* | '') die "not a backup id: $ID" ;; esac
if [ -e "$OUT" ]; then
  [ -d "$OUT" ] && [ -z "$(ls -A -- "$OUT")" ] || die "$OUT exists and is not an empty folder"
fi
mkdir -p -- "$OUT"
OUT=$(realpath -- "$OUT")
W=$(mktemp -d "${TMPDIR:-/tmp}/extract-remote.XXXXXX")
trap 'rm -rf -- "$W"' EXIT INT TERM
mkdir "$W/objects"

# The one folder holding backup ID: snapshots/<host>/<id> (format 2) or <host>/<id> (format 1).
find_backup() {
  found=
  n=0
  for d in "$R"/snapshots/*/"$ID" "$R"/*/"$ID"; do
    [ -d "$d" ] && have "$d/manifest.json" || continue
    [ -z "$HOST" ] || [ "${d%/*}" = "$R/$HOST" ] || [ "${d%/*}" = "$R/snapshots/$HOST" ] || continue
    found=$d
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || die "no backup $ID in $R${HOST:+ for host $HOST} (a folder without manifest.json is a cut upload, not a backup)"
  [ "$n" -eq 1 ] || die "backup $ID exists for several hosts: choose one with -H HOST"
}
find_backup
B=$found

# A relative path bbackup's layout makes: no "", ".", ".." component, no leading "/".
JQ_SAFE='def safe: if test("^[A-Za-z0-9._%-]+(/[A-Za-z0-9._%-]+)*$") and (split("/") | all(. != "." and . != ".."))
  then . else error("refused: unsafe path \(.)") end;'
# A line for `sha256sum -c` (names with a backslash or newline are escaped the way sha256sum reads them).
JQ_SUMLINE='def sumline($sha; $p): if ($p | test("[\\\\\n]")) then "\\\($sha)  \($p | gsub("\\\\"; "\\\\") | gsub("\n"; "\\n"))" else "\($sha)  \($p)" end;'

# Check the files listed in $1 (sha256sum -c lines, paths relative to $2).
check_sums() {
  [ -s "$1" ] || return 0
  (cd -- "$2" && sha256sum -c --quiet --strict -- "$1") || die "checksum mismatch (listed above): the remote copy is damaged"
}

dec "$B/manifest.json" >"$W/manifest.json"
check_format "$W/manifest.json" $MANIFEST_FORMAT manifest.json
[ "$(jq -r .id "$W/manifest.json")" = "$ID" ] || die "$B/manifest.json belongs to another backup"

# ---------------------------------------------------------------- format 1
if [ "${B#"$R"/snapshots/}" = "$B" ]; then
  dec "$B/remote-index.json" >"$W/index.json"
  check_format "$W/index.json" 1 remote-index.json
  jq -r "$JQ_SAFE"' .files[] | select(.path != "manifest.json") |
      "put1 \(.stored | safe | @sh) \(.path | safe | @sh) \((.unpackTo // "") | if . == "" then "\"\"" else (safe | @sh) end)"' \
    "$W/index.json" >"$W/put.sh"
  jq -r "$JQ_SAFE$JQ_SUMLINE"' .files[] | select(.sha256 != null and .unpackTo == null and .path != "manifest.json") |
      sumline(.sha256; .path | safe)' "$W/index.json" >"$W/sums"
  put1() { # stored path unpackTo
    if [ -n "$3" ]; then
      mkdir -p -- "$OUT/$3"
      dec "$B/${1%.age}" | zstd -dcq | tar -C "$OUT/$3" --numeric-owner --same-owner -p \
        --xattrs --xattrs-include='*' --acls -xf - || die "unpacking $1 failed"
    else
      mkdir -p -- "$(dirname -- "$OUT/$2")"
      dec "$B/${1%.age}" >"$OUT/$2"
    fi
  }
  . "$W/put.sh"
  check_sums "$W/sums" "$OUT"
  # each tree's files against its index
  jq -r "$JQ_SAFE"' .items[] | select(.kind == "volume" and .format == "tree") | .files[0].path | safe' \
    "$W/manifest.json" >"$W/indexes"
  while read -r index; do
    jq -r "$JQ_SUMLINE"' select(.t == "f") | sumline(.sha256; .p)' "$OUT/$index" >"$W/sums"
    check_sums "$W/sums" "$OUT/${index%.index.jsonl}"
  done <"$W/indexes"
  cp -- "$W/manifest.json" "$OUT/manifest.json"
  echo "extract-remote: backup $ID (remote format 1) rebuilt in $OUT"
  exit 0
fi

# ---------------------------------------------------------------- format 2
[ -f "$R/bbackup-repo.json" ] || die "$R has no bbackup-repo.json: not a bbackup repository"
check_format "$R/bbackup-repo.json" $REPO_FORMAT bbackup-repo.json
dec "$B/snapshot.json" >"$W/snapshot.json"
check_format "$W/snapshot.json" $REPO_FORMAT snapshot.json
[ "$(jq -r .id "$W/snapshot.json")" = "$ID" ] || die "$B/snapshot.json belongs to another backup"

# Which pack holds each object: the indexes of packs that exist (an index names a pack's objects).
for i in "$R"/packs/*.idx.json; do
  [ -f "$i" ] || continue
  p=${i%.idx.json}
  [ -f "$p.tar.zst" ] || [ -f "$p.tar.zst.age" ] || continue
  check_format "$i" $REPO_FORMAT "$i"
  cat -- "$i"
done | jq -n 'reduce inputs as $i ({}; reduce $i.objects[] as $o (.; .[$o[0]] = $i.pack))' >"$W/where.json"

# Extract the objects listed in file $1 (one id a line) into $W/objects, each pack read once.
fetch_objects() {
  sort -u -- "$1" | jq -R -s -r --slurpfile w "$W/where.json" '
      split("\n") | map(select(test("^[0-9a-f]{64}$"))) | map({o: ., p: $w[0][.]}) |
      if any(.p == null) then error("objects in no indexed pack: \(map(select(.p == null) | .o) | join(" "))") else . end |
      group_by(.p)[] | "\(.[0].p) \(map(.o) | join(" "))"' >"$W/bypack" || die "the remote copy lacks objects this backup needs"
  while read -r pack objs; do
    printf '%s\n' $objs >"$W/members"
    dec "$R/packs/$pack.tar.zst" | zstd -dcq | tar -C "$W/objects" --no-same-owner --no-same-permissions \
      -xf - -T "$W/members" || die "reading pack $pack failed"
  done <"$W/bypack"
}

# 1. every file of the manifest, the skeletons and object maps of the trees
jq -r '(.files[], .trees[].skeleton, (.trees[].objmap // empty)) | .obj' "$W/snapshot.json" >"$W/need"
fetch_objects "$W/need"
jq -r '(.trees[].skeleton, (.trees[].objmap // empty)) | "\(.sha256)  \(.obj)"' "$W/snapshot.json" >"$W/sums"
check_sums "$W/sums" "$W/objects"
jq -r "$JQ_SAFE"' .files[] | "mkdir -p -- \"$OUT\"/\(.path | safe | split("/") | .[:-1] | join("/") | @sh); cp -- \"$W/objects/\(.obj)\" \"$OUT\"/\(.path | safe | @sh)"' \
  "$W/snapshot.json" >"$W/put.sh"
. "$W/put.sh"
jq -r "$JQ_SAFE$JQ_SUMLINE"' .files[] | sumline(.sha256; .path | safe)' "$W/snapshot.json" >"$W/sums"
check_sums "$W/sums" "$OUT"
cp -- "$W/manifest.json" "$OUT/manifest.json"

# 2. each tree: the skeleton (structure, owners, modes, times, xattrs, ACLs, hard links, empty
# files), then every regular file's content from its object, then its mtime again.
JQ_TS='def ts: if length > 9 then .[0:length - 9] + "." + .[length - 9:] else "0." + ("000000000" + .)[-9:] end;'
n=$(jq '.trees | length' "$W/snapshot.json")
t=0
while [ "$t" -lt "$n" ]; do
  jq ".trees[$t]" "$W/snapshot.json" >"$W/tree.json"
  dir=$(jq -r "$JQ_SAFE"' .dir | safe' "$W/tree.json")
  index=$(jq -r "$JQ_SAFE"' .index | safe' "$W/tree.json")
  root="$OUT/$dir"
  mkdir -p -- "$root"
  tar -C "$root" --numeric-owner --same-owner -p --xattrs --xattrs-include='*' --acls \
    -xf "$W/objects/$(jq -r .skeleton.obj "$W/tree.json")" || die "unpacking the skeleton of $dir failed"
  root=$(realpath -- "$root")
  if jq -e '.objmap != null' "$W/tree.json" >/dev/null; then
    cp -- "$W/objects/$(jq -r .objmap.obj "$W/tree.json")" "$W/objmap.json"
    check_format "$W/objmap.json" $REPO_FORMAT "the object map of $dir"
  else
    echo '{"objects":null}' >"$W/objmap.json"
  fi
  # fill OBJ PATH MTIME lines for every non-empty regular file (empty ones are whole in the skeleton)
  jq -r --slurpfile m "$W/objmap.json" "$JQ_TS"' select(.t == "f" and (.size // 0) > 0) |
      (if $m[0].objects == null then .sha256 else $m[0].objects[.sha256] end) as $o |
      if ($o | type) != "string" or ($o | test("^[0-9a-f]{64}$") | not) then error("no object for \(.p)") else . end |
      "fill \($o) \(.p | @sh) \(.mtime | ts)"' "$OUT/$index" >"$W/fill.sh" || die "the tree index $index is damaged"
  jq -r --slurpfile m "$W/objmap.json" 'select(.t == "f" and (.size // 0) > 0) |
      if $m[0].objects == null then .sha256 else $m[0].objects[.sha256] end' "$OUT/$index" >"$W/need"
  fetch_objects "$W/need"
  caps=
  if command -v getfattr >/dev/null 2>&1 && command -v setfattr >/dev/null 2>&1; then
    caps="$W/caps"
    (cd -- "$root" && getfattr -R -P -d -m '^security\.capability$' -e hex . >"$caps" 2>/dev/null) || caps=
  fi
  fill() { # obj path mtime: write into the skeleton's own file (hard links share it), never through a symlink
    case $(realpath -e -- "$root/$2") in "$root"/*) ;; *) die "refused: $dir/$2 leaves the tree" ;; esac
    [ -f "$root/$2" ] && [ ! -h "$root/$2" ] || die "$dir/$2 is not a regular file in the skeleton"
    cat -- "$W/objects/$1" >"$root/$2"
    touch -c -m -d "@$3" -- "$root/$2"
  }
  . "$W/fill.sh"
  [ -z "$caps" ] || (cd -- "$root" && setfattr --restore="$caps") || echo "extract-remote: could not restore file capabilities in $dir" >&2
  jq -r "$JQ_SUMLINE"' select(.t == "f") | sumline(.sha256; .p)' "$OUT/$index" >"$W/sums"
  check_sums "$W/sums" "$root"
  rm -f -- "$W"/objects/*
  t=$((t + 1))
done
echo "extract-remote: backup $ID rebuilt in $OUT"
