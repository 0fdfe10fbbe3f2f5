#!/usr/bin/env bash
# Install (or upgrade) multialpha as a systemd service, from this repository. Idempotent: run it
# again after `git pull` to upgrade; it never overwrites /etc/multialpha/env, the configuration
# or the state store.
#
#   sudo deploy/install.sh              # install or upgrade
#   deploy/install.sh --dry-run         # print what it would do, change nothing
#
# What it does:
#   1. the system user and group `multialpha` (no login, no home);
#   2. /opt/multialpha/venv: a virtualenv with multialpha installed from this repository;
#      /opt/multialpha/models and /opt/multialpha/data for bundles and bar files;
#   3. /etc/multialpha/config.multi_alpha.yml and config/{contracts,rolls}.yml, if absent;
#   4. /etc/multialpha/env (root, mode 600) from deploy/env.example, if absent;
#   5. /var/lib/multialpha, the state directory (multialpha, mode 750);
#   6. /etc/systemd/system/multialpha.service, then `systemctl daemon-reload`;
#   7. /usr/local/sbin/multialpha-ctl: check, status, halt, resume, orders as the service runs them.
# It does not start the service: the next steps it prints say how.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: deploy/install.sh [--dry-run] [--root DIR] [--python PATH] [--skip-venv]

  --dry-run      print every action instead of doing it
  --root DIR     install under DIR (a staging tree: no user is created, ownership is set only
                 for users that exist, systemd is not reloaded)
  --python PATH  the Python 3.11+ to build the virtualenv with (default: python3.11)
  --skip-venv    leave /opt/multialpha/venv as it is (configuration and unit only)
EOF
}

DRY_RUN=0
ROOT=""
PYTHON=python3.11
SKIP_VENV=0
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --root) ROOT="${2:?--root needs a directory}"; shift ;;
        --python) PYTHON="${2:?--python needs a path}"; shift ;;
        --skip-venv) SKIP_VENV=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option $1" >&2; usage >&2; exit 64 ;;
    esac
    shift
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICE_USER=multialpha
PREFIX="$ROOT/opt/multialpha"
ETC="$ROOT/etc/multialpha"
STATE="$ROOT/var/lib/multialpha"
UNIT_DIR="$ROOT/etc/systemd/system"
SBIN="$ROOT/usr/local/sbin"
VENV="$PREFIX/venv"

say() { printf '%s\n' "$*"; }
# Run a command, or with --dry-run only show it.
run() {
    if [ "$DRY_RUN" = 1 ]; then
        local shown
        shown="$(printf '%q ' "$@")"
        say "would run: ${shown% }"
    else
        "$@"
    fi
}
user_exists() { id -u "$SERVICE_USER" >/dev/null 2>&1; }
# Ownership flags for install(1), only when the owner exists (a staging --root may have none).
owned_by() {
    local owner="$1" group="$2"
    if [ -z "$ROOT" ] || { id -u "$owner" >/dev/null 2>&1 && getent group "$group" >/dev/null 2>&1; }; then
        printf -- '-o %s -g %s' "$owner" "$group"
    fi
}
# Install a file only if the destination does not exist; say when the shipped one differs.
install_if_absent() {
    local mode="$1" owner="$2" group="$3" src="$4" dest="$5"
    if [ -e "$dest" ]; then
        if [ "$mode" = 0600 ]; then
            say "keep $dest (exists)"  # secrets: never compared or shown
        elif cmp -s "$src" "$dest"; then
            say "keep $dest (unchanged)"
        else
            say "keep $dest (yours; the shipped version differs: diff $src $dest)"
        fi
        return
    fi
    # shellcheck disable=SC2046
    run install -m "$mode" $(owned_by "$owner" "$group") "$src" "$dest"
}

# -- preflight -----------------------------------------------------------------------------------
if [ "$DRY_RUN" = 0 ] && [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
    echo "error: run as root (sudo deploy/install.sh), or with --dry-run to see what it would do" >&2
    exit 64
fi
for f in config.multi_alpha.yml config/contracts.yml config/rolls.yml deploy/env.example deploy/multialpha.service \
         deploy/multialpha-ctl; do
    [ -f "$REPO/$f" ] || { echo "error: $REPO/$f is missing: run this from a multialpha checkout" >&2; exit 66; }
done
if [ "$SKIP_VENV" = 0 ]; then
    if ! command -v "$PYTHON" >/dev/null 2>&1 || ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        if [ "$DRY_RUN" = 1 ]; then
            say "warning: $PYTHON is not a Python 3.11+ (use --python PATH); continuing the dry run"
        else
            echo "error: $PYTHON is not a Python 3.11+ (install python3.11, or pass --python PATH)" >&2
            exit 69
        fi
    fi
fi
[ "$DRY_RUN" = 1 ] && say "dry run: nothing will be changed"
say "installing multialpha from $REPO${ROOT:+ under $ROOT}"

# -- 1. the service user -------------------------------------------------------------------------
if [ -n "$ROOT" ]; then
    say "skip user $SERVICE_USER (--root)"
elif user_exists; then
    say "keep user $SERVICE_USER (exists)"
else
    run useradd --system --user-group --no-create-home --home-dir /var/lib/multialpha \
        --shell "$(command -v nologin || echo /usr/sbin/nologin)" --comment "multialpha trading daemon" "$SERVICE_USER"
fi

# -- 2. directories and the virtualenv -------------------------------------------------------------
run install -d -m 0755 "$PREFIX" "$PREFIX/models" "$PREFIX/data"
# shellcheck disable=SC2046
run install -d -m 0750 $(owned_by root "$SERVICE_USER") "$ETC" "$ETC/config"
# shellcheck disable=SC2046
run install -d -m 0750 $(owned_by "$SERVICE_USER" "$SERVICE_USER") "$STATE"
run install -d -m 0755 "$UNIT_DIR" "$SBIN"
if [ "$SKIP_VENV" = 1 ]; then
    say "keep $VENV (--skip-venv)"
else
    if [ -x "$VENV/bin/python" ]; then
        say "keep $VENV (exists; upgrading multialpha in it)"
    else
        run "$PYTHON" -m venv "$VENV"
    fi
    run "$VENV/bin/python" -m pip install --quiet --upgrade pip
    run "$VENV/bin/python" -m pip install --quiet --upgrade "$REPO"
fi

# -- 3-4. configuration and secrets ----------------------------------------------------------------
install_if_absent 0640 root "$SERVICE_USER" "$REPO/config.multi_alpha.yml" "$ETC/config.multi_alpha.yml"
install_if_absent 0640 root "$SERVICE_USER" "$REPO/config/contracts.yml" "$ETC/config/contracts.yml"
install_if_absent 0640 root "$SERVICE_USER" "$REPO/config/rolls.yml" "$ETC/config/rolls.yml"
install_if_absent 0600 root root "$REPO/deploy/env.example" "$ETC/env"
if [ -e "$ETC/env" ] && [ "$(stat -c %a "$ETC/env")" != 600 ]; then
    run chmod 600 "$ETC/env"  # it holds the webhook URLs and API keys
fi

# -- 5-7. the unit and the operator command --------------------------------------------------------
run install -m 0644 "$REPO/deploy/multialpha.service" "$UNIT_DIR/multialpha.service"
run install -m 0755 "$REPO/deploy/multialpha-ctl" "$SBIN/multialpha-ctl"
if [ -n "$ROOT" ]; then
    say "skip systemctl daemon-reload (--root)"
elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    run systemctl daemon-reload
else
    say "systemd is not running here: run 'systemctl daemon-reload' on the target machine"
fi

cat <<EOF

next steps:
  1. secrets:  edit /etc/multialpha/env (webhook URLs, DATABENTO_API_KEY, DISCORD_WEBHOOK_URL); keep mode 600
  2. config:   edit /etc/multialpha/config.multi_alpha.yml (runtime.mode: paper, runtime.data.source: databento,
               runtime.data.databento.api_key: \${DATABENTO_API_KEY}, strategies, limits)
  3. models:   copy each strategy's bundles to /opt/multialpha/models/<strategy>/ (<SYMBOL>_best.json + _rf_model.pkl)
  4. check:    sudo multialpha-ctl check     (as the service runs: user $SERVICE_USER, /etc/multialpha/env)
  5. start:    systemctl enable --now multialpha && journalctl -u multialpha -f
  6. health:   curl -s http://127.0.0.1:8787/health ; metrics at http://127.0.0.1:8787/metrics
  7. operate:  sudo multialpha-ctl status | halt --reason TEXT | resume | orders list
EOF
