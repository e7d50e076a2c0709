# The development loop: `cargo leptos watch` serves the app, and serves it
# again, changed, after an edit. Runs in a copy of the sources (under
# target/, kept between runs so the second run rebuilds little), edits a
# page there, and waits for the watcher to serve the edit.

check_dev_loop() {
    local copy=target/dev-loop port reload data log pid
    mkdir -p "$copy"
    # The sources only; the copy keeps its own target directory.
    for item in Cargo.toml Cargo.lock app server frontend bench examples style public migrations; do
        rm -rf "${copy:?}/$item"
        cp -r "$item" "$copy/$item"
    done
    port=$(free_port)
    reload=$(free_port)
    data=$(mktemp -d /tmp/auth-dev-loop.XXXXXX)
    log="$LOG_DIR/dev-loop.log"
    (cd "$copy" && exec setsid env LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_RELOAD_PORT="$reload" \
        DATABASE_URL="sqlite://$data/auth.db" DATA_DIR="$data" BCRYPT_COST=4 \
        cargo leptos watch >"$log" 2>&1) &
    pid=$!
    local url="http://127.0.0.1:$port/"
    # The first build of the debug site.
    if ! wait_for_text "$url" "Rust auth server" 1800 "$pid"; then
        kill -- -"$pid" 2>/dev/null || true
        echo "cargo leptos watch did not serve the app (log: $log)" >&2
        return 1
    fi
    # An edit of a page's markup (its words are in app/locales).
    sed -i 's|<HealthBadge/>|<p id="edited">"Edited in the loop"</p><HealthBadge/>|' "$copy/app/src/pages/home.rs"
    grep -qF 'Edited in the loop' "$copy/app/src/pages/home.rs" || {
        kill -- -"$pid" 2>/dev/null || true
        echo "the development loop check found nothing to edit in app/src/pages/home.rs" >&2
        return 1
    }
    if ! wait_for_text "$url" "Edited in the loop" 900 "$pid"; then
        kill -- -"$pid" 2>/dev/null || true
        echo "cargo leptos watch did not serve the edited page (log: $log)" >&2
        return 1
    fi
    kill -- -"$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$data"
    echo "cargo leptos watch served the app, then the edited page"
}

# wait_for_text URL TEXT SECONDS WATCHER: true once the page at URL holds
# TEXT; false at the deadline, or as soon as the process WATCHER has exited.
wait_for_text() {
    local url=$1 text=$2 seconds=$3 watcher=$4 deadline
    deadline=$(( $(date +%s) + seconds ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if curl -fsS "$url" 2>/dev/null | grep -qF "$text"; then
            return 0
        fi
        # A watcher that has exited will serve nothing: fail now, not at the deadline.
        kill -0 "$watcher" 2>/dev/null || return 1
        sleep 2
    done
    return 1
}
