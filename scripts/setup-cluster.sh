#!/usr/bin/env bash
# Install what the replica tests need, once: Debian's PostgreSQL and Redis servers (apt-get).
# The tests start their own throwaway servers on free ports; the packages' own services are not used.
# Safe to run again: it only installs what is missing.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-cluster: installing ${missing[*]} with apt-get"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
echo "setup-cluster: $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | head -1), $(redis-server --version | awk '{print $3}')"
