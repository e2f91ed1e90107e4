#!/usr/bin/env bash
# A loopback SMTP sink for the alert tests (scripts/services/smtp_sink.py on aiosmtpd).
#
#   eval "$(scripts/services/smtp.sh start)"   # prints export lines, progress on stderr
#   scripts/services/smtp.sh stop "$ECOWATCH_SMTP_DIR"
#
# start: finds a Python with aiosmtpd (the system one, or a venv under target/smtp-venv, created
# with `pip install aiosmtpd` when missing; as root, Debian's python3-aiosmtpd if pip fails), starts the sink on 127.0.0.1 with a free port, and
# prints ECOWATCH_TEST_SMTP_URL, ECOWATCH_TEST_MAILDIR (one file per message) and
# ECOWATCH_SMTP_DIR (its state: pid, log). The same directory can be started again on the same
# port with `start DIR` (tests stop and restart the server).
# stop: stops that server and removes its directory (`stop DIR keep` leaves the directory).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
log() { echo "smtp.sh: $*" >&2; }
die() { log "$*"; exit 1; }

python_with_aiosmtpd() {
    if python3 -c 'import aiosmtpd' 2>/dev/null; then
        echo python3
        return 0
    fi
    local venv="$root/target/smtp-venv"
    if [[ -x $venv/bin/python ]] && "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
        echo "$venv/bin/python"
        return 0
    fi
    log "installing aiosmtpd into $venv"
    if python3 -m venv "$venv" >&2 && "$venv/bin/pip" install -q aiosmtpd >&2; then
        echo "$venv/bin/python"
        return 0
    fi
    [[ $EUID -eq 0 ]] || die "cannot install aiosmtpd (pip failed; Debian's python3-aiosmtpd needs root)"
    log "pip failed; installing Debian's python3-aiosmtpd"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-aiosmtpd >&2
    python3 -c 'import aiosmtpd' 2>/dev/null || die "python3-aiosmtpd installed, but aiosmtpd does not import"
    echo python3
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    local dir=${1:-} port
    local python
    python=$(python_with_aiosmtpd)
    if [[ -n $dir && -f $dir/port ]]; then
        port=$(cat "$dir/port")
    else
        dir=$(mktemp -d /tmp/ecowatch-smtp.XXXXXX)
        for _ in $(seq 1 50); do
            port=$((20000 + RANDOM % 20000))
            port_in_use "$port" || break
        done
        echo "$port" >"$dir/port"
    fi
    mkdir -p "$dir/mail"
    nohup "$python" "$here/smtp_sink.py" 127.0.0.1 "$port" "$dir/mail" >"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 100); do
        if port_in_use "$port"; then
            log "listening on 127.0.0.1:$port (mail in $dir/mail)"
            echo "export ECOWATCH_TEST_SMTP_URL=smtp://127.0.0.1:$port"
            echo "export ECOWATCH_TEST_MAILDIR=$dir/mail"
            echo "export ECOWATCH_SMTP_DIR=$dir"
            return 0
        fi
        kill -0 "$(cat "$dir/pid")" 2>/dev/null || { cat "$dir/log" >&2; die "the sink exited"; }
        sleep 0.1
    done
    cat "$dir/log" >&2
    die "the sink did not start listening"
}

stop() {
    local dir=${1:?usage: smtp.sh stop DIR [keep]} keep=${2:-}
    [[ $dir == /tmp/ecowatch-smtp.* ]] || die "refusing to touch $dir"
    if [[ -f $dir/pid ]]; then
        local pid
        pid=$(cat "$dir/pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        rm -f "$dir/pid"
    fi
    [[ $keep == keep ]] || rm -rf "$dir"
}

case ${1:-} in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) die "usage: smtp.sh start [DIR] | stop DIR [keep]" ;;
esac
