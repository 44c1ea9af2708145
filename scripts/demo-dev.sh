#!/usr/bin/env bash
# The demo in Vite dev mode, with HMR for the app's pages and server code.
#
# The package's `rooms()` plugin (demo/vite.config.ts) runs ChatRoom in local workerd and lets each
# socket in after the app's own hooks.server.ts said yes; `withRooms` (demo/svelte.config.js) puts
# the same room into `platform.env.WS` for server code. Changes to the package's own sources need
# `npm run build` (the demo imports its built `exports`); changes to the room class reload the room.
#
#   PORT=5173 (default) chooses Vite's port; everything listens on 127.0.0.1 only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${PORT:-5173}"
cd "$root"

if [ ! -x node_modules/.bin/vite ]; then
	npm ci --no-audit --no-fund
fi
scripts/build-demo.sh --package-only

cd demo
export WRANGLER_SEND_METRICS=false
echo
echo "  Demo (Vite dev mode): http://127.0.0.1:$port"
echo
exec "$root/node_modules/.bin/vite" dev --host 127.0.0.1 --port "$port" --strictPort
