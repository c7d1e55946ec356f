#!/usr/bin/env bash
# Installs the Debian packages Pressluft needs, once. Services are never started by the
# package scripts (policy-rc.d answers 101 during the install): our own tooling starts
# private instances on its own ports.
set -euo pipefail

PRESSLUFT_DEBIAN_PACKAGES=(
  postgresql nats-server mariadb-server nginx php-fpm php-mysql php-cli
  wordpress wordpress-theme-twentytwentythree restic rclone openssl iproute2 procps psmisc curl ca-certificates
  composer nftables acl redis-server redis-tools php-redis
  pebble openssh-server
)

ensure_debian_packages() {
  local missing=() pkg
  for pkg in "${PRESSLUFT_DEBIAN_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "pressluft: missing Debian packages (${missing[*]}); run as root to install them" >&2
    return 1
  fi
  echo "pressluft: installing Debian packages: ${missing[*]}" >&2
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; created=1
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
  } || rc=$?
  [ "$created" -eq 1 ] && rm -f "$policy"
  return "$rc"
}
