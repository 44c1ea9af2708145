#!/usr/bin/env bash
# The demo in one command: install (if needed), build the package and the demo app, and serve it with
# `wrangler dev` on local workerd — no Cloudflare account. Prints the URL; Ctrl-C stops it.
#
#   PORT=8787 (default) chooses the port; it listens on 127.0.0.1 only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${PORT:-8787}"
cd "$root"

if [ ! -x node_modules/.bin/wrangler ]; then
	npm ci --no-audit --no-fund
fi
scripts/build-demo.sh

cat <<MSG

  Demo: http://127.0.0.1:$port
  Sign in with a name and an organisation; open a second browser (or a private window) and sign in
  as someone else in the same organisation to see presence, chat and the live todo list.

MSG
cd demo
export WRANGLER_SEND_METRICS=false
exec "$root/node_modules/.bin/wrangler" dev --ip 127.0.0.1 --port "$port"
