#!/usr/bin/env bash
# Builds the package into dist/, links it into demo/node_modules the way `npm install ..` would (so
# the demo imports it through package.json `exports`, exactly as an app that installed it does),
# then builds the demo with adapter-cloudflare.
#
#   --package-only   build and link the package, not the app (Vite dev mode builds the app itself)
#
# DEMO_PACKAGE_DIR points the demo at another copy of the package (e.g. an unpacked `npm pack`);
# it defaults to this repository.
set -euo pipefail
package_only=false
[ "${1:-}" = "--package-only" ] && package_only=true

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/node_modules/.bin"
package_dir="${DEMO_PACKAGE_DIR:-$root}"

"$bin/bun" "$root/scripts/build-package.ts"

if ! node -e 'process.exit(require(process.argv[1]).exports ? 0 : 1)' "$package_dir/package.json"; then
	echo "build-demo: $package_dir/package.json has no \"exports\"; the demo imports the package through them." >&2
	exit 1
fi
mkdir -p "$root/demo/node_modules/@delightstack"
ln -sfn "$package_dir" "$root/demo/node_modules/@delightstack/websocket"
$package_only && exit 0

cd "$root/demo"
"$bin/svelte-kit" sync
"$bin/vite" build --logLevel warn
echo "build-demo: built demo/.svelte-kit/cloudflare (Worker: SvelteKit app + ChatRoom Durable Object)"
