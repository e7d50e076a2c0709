# Installs what building and testing need, only when it is missing, so a
# second run is quick. Sourced by scripts/run and scripts/test.
#
# Nothing here downloads a binary from a website: every tool comes from
# crates.io, Debian's packages or the npm registry.

CARGO_LEPTOS_VERSION=0.3.11
# The API fuzzer of the test suite, from PyPI, in its own virtualenv.
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_VENV=target/schemathesis-venv
# wasm-opt 116 from crates.io; Debian's binaryen 108 writes a broken .wasm.
WASM_OPT_VERSION=0.116.1

say() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=
apt_install() {
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
}

# The wasm-bindgen CLI must be exactly the version of the crate in Cargo.lock.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_build_tools() {
    export PATH="$HOME/.cargo/bin:$PATH"
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        say "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
    if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
        say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 10 minutes, once)"
        # Its lock file needs a newer rustc than stable 1.95: use the nightly
        # when there is one, else a minimal 1.96.
        local toolchain=nightly
        if ! rustup run nightly rustc --version >/dev/null 2>&1; then
            rustup toolchain install 1.96.0 --profile minimal
            toolchain=1.96.0
        fi
        cargo "+$toolchain" install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
    fi
    local wbg
    wbg=$(wasm_bindgen_version)
    if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
        say "installing wasm-bindgen-cli $wbg (about 2 minutes, once)"
        # No --locked: its lock file names a webpki-roots the registry lacks.
        cargo install wasm-bindgen-cli --version "$wbg" --force
    fi
    if ! "$HOME/.cargo/bin/wasm-opt" --version 2>/dev/null | grep -q "version 116"; then
        say "installing wasm-opt $WASM_OPT_VERSION (about 8 minutes, once)"
        cargo install wasm-opt --version "$WASM_OPT_VERSION" --locked --force
    fi
}

postgres_bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

ensure_test_tools() {
    local missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    [ -n "$(postgres_bin_dir)" ] || missing+=(postgresql)
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v brotli >/dev/null || missing+=(brotli)
    # Chinese glyphs for the screenshots and the 360 px layout checks in zh-CN/zh-TW.
    [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        apt_install "${missing[@]}"
    fi
    if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules ]; then
        say "installing the end-to-end test packages (npm ci)"
        # Playwright drives Debian's Chromium: it never downloads a browser.
        (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
        touch end2end/node_modules
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_http() {
    local url=$1 tries=${2:-200}
    for _ in $(seq "$tries"); do
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing answered at $url" >&2
    return 1
}

ensure_schemathesis() {
    if ! "$SCHEMATHESIS_VENV/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
        say "installing schemathesis $SCHEMATHESIS_VERSION (PyPI, into $SCHEMATHESIS_VENV)"
        python3 -m venv "$SCHEMATHESIS_VENV"
        "$SCHEMATHESIS_VENV/bin/pip" install --quiet --disable-pip-version-check \
            "schemathesis==$SCHEMATHESIS_VERSION"
    fi
}
