# Installs what building and testing Quantix ISO needs, skipping whatever is already present.
# Sourced by scripts/run and scripts/test.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
fail() {
  printf '\033[1;31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

# Runs a set-up or test step and prints how long it took. Steps run under `set -e` (never inside `||`,
# where bash would ignore a failing command), so a failure stops the script; the exit hook then prints
# every step's time, the failed one included.
STEP_TIMES=()
STEP_LABEL=""
STEP_START=0
timed() {
  STEP_LABEL=$1
  STEP_START=$SECONDS
  shift
  say "$STEP_LABEL"
  "$@"
  STEP_TIMES+=("$(printf '%6ss  %s' $((SECONDS - STEP_START)) "$STEP_LABEL")")
  printf '    %s: %ss\n' "$STEP_LABEL" $((SECONDS - STEP_START))
  STEP_LABEL=""
}

print_step_times() {
  [ -z "$STEP_LABEL" ] || STEP_TIMES+=("$(printf '%6ss  %s (failed)' $((SECONDS - STEP_START)) "$STEP_LABEL")")
  [ ${#STEP_TIMES[@]} -gt 0 ] || return 0
  printf '\033[1;34m==>\033[0m time per step (%ss in all)\n' "$SECONDS"
  printf '%s\n' "${STEP_TIMES[@]}"
}

# Commands to run when the script exits, however it exits (one EXIT trap holds them all).
EXIT_HOOKS=()
at_exit() {
  EXIT_HOOKS+=("$1")
  trap 'for hook in "${EXIT_HOOKS[@]}"; do $hook; done' EXIT
}
at_exit print_step_times

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

# The version of [workspace.package] in Cargo.toml.
workspace_version() {
  awk '
    /^\[/ { section = $0 }
    section == "[workspace.package]" && /^version *=/ { gsub(/^version *= *"|".*$/, ""); print; exit }
  ' "$ROOT/Cargo.toml"
}

ensure_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown && return
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
}

ensure_wasm_bindgen() {
  # build_bundle runs the wasm-bindgen on PATH; it must be exactly the version in Cargo.lock (the CLI and
  # the crate share a private ABI).
  local want
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock")
  wasm-bindgen --version 2>/dev/null | grep -q " $want\$" && return
  say "installing wasm-bindgen-cli $want"
  # Without --locked: its lockfile pins a crate the registry no longer has.
  # --force: cargo skips a package it has on record even when its binary is gone.
  cargo install --force wasm-bindgen-cli --version "$want"
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

# zopfli: the site's .gz files are compressed once, at build time, so the best deflate encoder is worth
# its seconds (~5% smaller than gzip -9 for every browser that does not take brotli).
ensure_zopfli() {
  command -v zopfli >/dev/null && return
  apt_install zopfli
}

# strace: the durability test watches the node's system calls to check what is on disk before a 201.
ensure_strace() {
  command -v strace >/dev/null && return
  apt_install strace
}

ensure_build_tools() {
  timed "wasm32 target" ensure_wasm_target
  timed "wasm-bindgen CLI" ensure_wasm_bindgen
  timed "npm packages" ensure_npm_packages
  timed "zopfli" ensure_zopfli
}

# The release build: the server binary, then the site it serves (target/site): one WASM bundle per page
# group (app::Bundle), the stylesheet and the assets. No cargo-leptos: the steps it took are these, and
# they skip the site when none of its inputs changed since it was last built (an unchanged tree starts in
# seconds instead of re-running wasm-bindgen and wasm-opt).
build_site() {
  timed "server binary (release)" cargo build --release --package=server --bin=quantix-iso
  local site="$ROOT/target/site" stamp="$ROOT/target/site/.inputs" inputs
  inputs=$(site_inputs)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ] && site_complete "$site"; then
    say "site unchanged since its last build: not rebuilt"
    return
  fi
  rm -rf "$site"
  mkdir -p "$site/pkg"
  local group
  for group in host library vms account; do
    timed "WASM bundle $(bundle_name "$group")" build_bundle "$group" "$site/pkg"
  done
  # Plain CSS, served as it is written (no preprocessor: those download tools at run time).
  cp "$ROOT/style/main.css" "$site/pkg/quantix-iso.css"
  cp -R "$ROOT/public/." "$site/"
  timed "precompressing (brotli, gzip)" precompress "$site/pkg"
  printf '%s\n' "$inputs" >"$stamp"
}

# The file stem of a page group's bundle (app::Bundle::output_name).
bundle_name() {
  case "$1" in
    host) echo quantix-host ;;
    library) echo quantix-iso ;;
    vms) echo quantix-vms ;;
    account) echo quantix-account ;;
  esac
}

# One page group's WASM: frontend built with the group's feature, wasm-bindgen --target web, wasm-opt -Oz
# (binaryen's npm build: Debian's wasm-opt 108 produces bundles that fail to hydrate). --zero-filled-memory is
# sound here: the module defines its own memory (wasm-bindgen --target web), which starts zeroed.
build_bundle() {
  local group=$1 pkg=$2 name wasm="$ROOT/target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm"
  name=$(bundle_name "$group")
  cargo build --quiet --package=frontend --lib --target-dir="$ROOT/target/front" \
    --target=wasm32-unknown-unknown --no-default-features --features="$group" --profile=wasm-release
  wasm-bindgen --target=web --no-typescript --out-name="$name" --out-dir="$pkg" "$wasm"
  wasm-opt -Oz --converge --zero-filled-memory --enable-bulk-memory --enable-nontrapping-float-to-int "$pkg/${name}_bg.wasm" -o "$pkg/$name.wasm"
  rm "$pkg/${name}_bg.wasm"
}

# A fingerprint of everything the site is built from: the sources of the crates compiled to WASM, the
# stylesheet, the assets, the manifests and lock file, and the versions of the tools.
site_inputs() {
  (
    cd "$ROOT"
    find app frontend style public -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml Cargo.lock .cargo/config.toml scripts/prereqs.sh
    rustc --version
    wasm-bindgen --version
    wasm-opt --version
  ) | sha256sum | cut -d' ' -f1
}

site_complete() {
  local group name
  for group in host library vms account; do
    name=$(bundle_name "$group")
    for f in "$1/pkg/$name.js" "$1/pkg/$name.wasm" "$1/pkg/$name.wasm.br"; do [ -f "$f" ] || return 1; done
  done
  [ -f "$1/pkg/quantix-iso.css" ]
}

# Writes <file>.br and <file>.gz beside every script, stylesheet and WASM bundle in $1: the server's static
# file handler sends them to browsers that accept them (a bundle is ~900 KiB as built, ~270 KiB brotli).
precompress() {
  node -e '
    const fs = require("node:fs"), path = require("node:path"), zlib = require("node:zlib");
    const dir = process.argv[1];
    for (const name of fs.readdirSync(dir).filter((n) => /\.(js|wasm|css)$/.test(n))) {
      const file = path.join(dir, name), data = fs.readFileSync(file);
      fs.writeFileSync(file + ".br", zlib.brotliCompressSync(data, {
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length },
      }));
    }' "$1"
  local f
  for f in "$1"/*.js "$1"/*.wasm "$1"/*.css; do
    zopfli --gzip -c "$f" >"$f.gz"
  done
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
  at_exit stop_test_postgres
}

stop_test_postgres() {
  [ -n "${QUANTIX_PG_DIR:-}" ] || return 0
  as_postgres "$(postgres_bin)/pg_ctl" -D "$QUANTIX_PG_DIR" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$QUANTIX_PG_DIR"
}
