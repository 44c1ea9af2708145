#!/usr/bin/env bash
# The demo in Vite dev mode, with HMR for the app's pages and server code.
#
# Vite answers WebSocket upgrades itself, so in dev the socket path cannot reach hooks.server.ts:
# the rooms run in their own local Worker (demo/dev/rooms.ts, with the same handle in front) on
# 127.0.0.1:8790, Vite proxies /api/websocket to it, and the app's `platform.env.WS` reaches it
# through wrangler's dev registry (demo/dev/wrangler.app.toml). Changes to the package's own
# sources need `npm run build` (the demo imports its built `exports`); changes to the room class
# reload the rooms Worker.
#
#   PORT=5173 (default) chooses Vite's port; everything listens on 127.0.0.1 only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/node_modules/.bin"
port="${PORT:-5173}"
cd "$root"

if [ ! -x node_modules/.bin/vite ]; then
	npm ci --no-audit --no-fund
fi
scripts/build-demo.sh --package-only

cd demo
export WRANGLER_SEND_METRICS=false
"$bin/wrangler" dev -c dev/wrangler.rooms.toml --show-interactive-dev-session=false &
rooms=$!
trap 'kill "$rooms" 2>/dev/null || true' EXIT INT TERM

echo
echo "  Demo (Vite dev mode): http://127.0.0.1:$port"
echo
"$bin/vite" dev --port "$port" --strictPort
