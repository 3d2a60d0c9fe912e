#!/usr/bin/env bash
# Install what the browser tests need, once: Debian's chromium (apt-get) and a pinned axe-core (npm).
# Safe to run again: it only installs what is missing. Never downloads Playwright's own browsers.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-browser: installing ${missing[*]} with apt-get"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# axe-core is pinned by tests/browser/package-lock.json; reinstall only when the lock changed.
lock=tests/browser/package-lock.json
stamp=tests/browser/node_modules/.faqbot-lock
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ] || ! cmp -s "$lock" "$stamp"; then
    echo "setup-browser: installing axe-core with npm ci"
    npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
    cp "$lock" "$stamp"
fi
echo "setup-browser: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), axe-core $(node -p "require('./tests/browser/node_modules/axe-core/package.json').version")"
