#!/usr/bin/env bash
# Installs the Debian packages bbackup and its tests need, only those that are missing.
# As root it installs them with apt-get; otherwise it prints the exact command to run.
set -euo pipefail

# package -> a file that proves it is installed
declare -A PROOF=(
  [docker.io]=/usr/sbin/dockerd
  [rsync]=/usr/bin/rsync
  [busybox-static]=/bin/busybox
  [openssh-server]=/usr/sbin/sshd
  [rclone]=/usr/bin/rclone
  [age]=/usr/bin/age
  [tmux]=/usr/bin/tmux
  [zstd]=/usr/bin/zstd
  [jq]=/usr/bin/jq                  # tools/extract-remote.sh, tested with stock tools only
  [acl]=/usr/bin/setfacl
  [attr]=/usr/bin/setfattr
  # bbcopy, the copy engine, is compiled at build time (scripts/build-native.sh)
  [gcc]=/usr/bin/gcc
  [libc6-dev]=/usr/include/stdio.h
  [libssl-dev]=/usr/include/openssl/evp.h
  [sqlite3]=/usr/bin/sqlite3        # the SQLite dump helper image is built from it
  [mmdebstrap]=/usr/bin/mmdebstrap  # builds the database test image from Debian packages
)

missing=()
for pkg in "${!PROOF[@]}"; do
  [ -e "${PROOF[$pkg]}" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all system packages present"
  exit 0
fi

IFS=$'\n' missing=($(sort <<<"${missing[*]}")); unset IFS
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
