#!/usr/bin/env bash
# Runs before `npm test` (npm's `pretest`): on a fresh clone, installs what the tests need from the
# repo's own files, so `npm test` is the whole command.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x node_modules/.bin/bun ] || [ ! -x node_modules/.bin/tsc ]; then
	npm ci --no-audit --no-fund
fi

# The browser tests drive Debian's Chromium through playwright-core.
if [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	else
		echo "The browser tests need Chromium at /usr/bin/chromium: run 'sudo apt-get install -y chromium'." >&2
		exit 1
	fi
fi
