#!/usr/bin/env bash
# Builds bbcopy, bbackup's copy engine (native/*.c; README "The copy engine"), into
# dist/native/bbcopy with the system C compiler and OpenSSL's libcrypto. Run by `npm run build`
# (and so by `npm test` and `npm run bench`); skipped when the binary is newer than its sources.
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist/native/bbcopy
if [ -x "$out" ] && [ -z "$(find native scripts/build-native.sh -newer "$out" -print -quit)" ]; then
  exit 0
fi

cc="${CC:-cc}"
have_toolchain() { command -v "$cc" >/dev/null 2>&1 && [ -e /usr/include/openssl/evp.h ] && [ -e /usr/include/stdio.h ]; }
explain() {
  echo "build-native: bbcopy (the copy engine) cannot be built: it needs a C compiler ($cc) and the OpenSSL headers." >&2
  echo "build-native: on Debian/Ubuntu, as root:  apt-get install -y gcc libc6-dev libssl-dev   (or: sudo bash scripts/install-deps.sh)" >&2
  echo "build-native: without it, volume backups and tree restores stop with an error that says this; other commands work." >&2
}
if ! have_toolchain; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    bash scripts/install-deps.sh || true
  fi
  if ! have_toolchain; then
    explain
    exit 1
  fi
fi

mkdir -p dist/native
if ! "$cc" -O2 -std=gnu11 -Wall -Wextra -pthread -o "$out.tmp" native/*.c -lcrypto; then
  rm -f "$out.tmp"
  explain
  exit 1
fi
mv -f "$out.tmp" "$out"
echo "build-native: built $out"
