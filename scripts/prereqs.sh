# Installs what building and testing Quantix ISO needs, skipping whatever is already present.
# Sourced by scripts/run and scripts/test.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION=0.3.10
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

apt_install() {
  say "installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown && return
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
}

ensure_cargo_leptos() {
  cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION" && return
  # 0.3.11 and newer need a newer rustc than this machine's 1.95; ~18 min on 2 cores, once.
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes a while, once)"
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
}

ensure_wasm_bindgen() {
  # cargo-leptos uses the wasm-bindgen on PATH; it must be exactly the version in Cargo.lock.
  local want
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock")
  wasm-bindgen --version 2>/dev/null | grep -q " $want\$" && return
  say "installing wasm-bindgen-cli $want"
  # Without --locked: its lockfile pins a crate the registry no longer has.
  cargo install wasm-bindgen-cli --version "$want"
}

ensure_npm_packages() {
  # Playwright and binaryen's wasm-opt (Debian's wasm-opt 108 breaks hydration).
  local stamp="$ROOT/end2end/node_modules/.quantix-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$ROOT/end2end/package-lock.json"; then return; fi
  say "installing npm packages (end2end/)"
  (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$ROOT/end2end/package-lock.json" "$stamp"
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] && return
  apt_install chromium
}

postgres_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

ensure_postgres() {
  [ -n "$(postgres_bin)" ] && [ -x "$(postgres_bin)/initdb" ] && return
  apt_install postgresql
}

ensure_build_tools() {
  ensure_wasm_target
  ensure_cargo_leptos
  ensure_wasm_bindgen
  ensure_npm_packages
}

# The release build of the whole site: cargo-leptos builds the server, the stylesheet, the assets and the
# image library's WASM (quantix-iso); then the other page groups' bundles (app::Bundle) are built from the
# same crate the way cargo-leptos builds its own: same target dir and profile (nothing is compiled twice),
# wasm-bindgen --target web, wasm-opt -Oz.
build_site() {
  cargo leptos build --release
  local pkg="$ROOT/target/site/pkg" wasm="$ROOT/target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm"
  local group name
  for group in host vms; do
    name="quantix-$group"
    say "WASM bundle $name"
    cargo build --quiet --package=frontend --lib --target-dir="$ROOT/target/front" \
      --target=wasm32-unknown-unknown --no-default-features --features="$group" --profile=wasm-release
    wasm-bindgen --target=web --no-typescript --out-name="$name" --out-dir="$pkg" "$wasm"
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$pkg/${name}_bg.wasm" -o "$pkg/$name.wasm"
    rm "$pkg/${name}_bg.wasm"
  done
  precompress "$pkg"
}

# Writes <file>.br and <file>.gz beside every script, stylesheet and WASM bundle in $1: the server's static
# file handler sends them to browsers that accept them (a bundle is ~900 KiB as built, ~270 KiB brotli).
precompress() {
  node -e '
    const fs = require("node:fs"), path = require("node:path"), zlib = require("node:zlib");
    const dir = process.argv[1];
    for (const name of fs.readdirSync(dir).filter((n) => /\.(js|wasm|css)$/.test(n))) {
      const file = path.join(dir, name), data = fs.readFileSync(file);
      fs.writeFileSync(file + ".gz", zlib.gzipSync(data, { level: 9 }));
      fs.writeFileSync(file + ".br", zlib.brotliCompressSync(data, {
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length },
      }));
    }' "$1"
}

# Prints the size of each page group's release WASM: as built, and as served (the .gz and .br that
# build_site wrote; a browser downloads one of them).
print_wasm_sizes() {
  local f
  for f in "$ROOT"/target/site/pkg/*.wasm; do
    awk -v n="$(basename "$f")" -v r="$(stat -c %s "$f")" -v g="$(stat -c %s "$f.gz")" -v b="$(stat -c %s "$f.br")" \
      'BEGIN { printf "release WASM %-18s %7.1f KiB raw, %6.1f KiB gzip, %6.1f KiB brotli\n", n, r / 1024, g / 1024, b / 1024 }'
  done
}

# Starts a throwaway PostgreSQL cluster (unless TEST_DATABASE_URL is already set), exports
# TEST_DATABASE_URL, and stops and removes it when the calling script exits.
start_test_postgres() {
  [ -n "${TEST_DATABASE_URL:-}" ] && return
  say "starting a throwaway PostgreSQL"
  QUANTIX_PG_DIR=$(mktemp -d)
  local port=${QUANTIX_PG_PORT:-5433}
  chown postgres "$QUANTIX_PG_DIR"
  as_postgres "$(postgres_bin)/initdb" -D "$QUANTIX_PG_DIR" -A trust -U postgres >/dev/null
  as_postgres "$(postgres_bin)/pg_ctl" -D "$QUANTIX_PG_DIR" -l "$QUANTIX_PG_DIR/log" \
    -o "-p $port -k $QUANTIX_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" -w start >/dev/null
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  trap stop_test_postgres EXIT
}

stop_test_postgres() {
  [ -n "${QUANTIX_PG_DIR:-}" ] || return 0
  as_postgres "$(postgres_bin)/pg_ctl" -D "$QUANTIX_PG_DIR" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$QUANTIX_PG_DIR"
}
