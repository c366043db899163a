#!/usr/bin/env bash
# Stops the test Ceph started by scripts/rgw/start.sh (same RGW_DIR): radosgw, then the OSD,
# then the monitor. Only processes whose command line names $RGW_DIR/ceph.conf are touched.
#
#   scripts/rgw/stop.sh             # stop everything (objects are gone: the OSD keeps them in RAM)
#   scripts/rgw/stop.sh --gateway   # stop radosgw only; start.sh brings it back with buckets intact
#   scripts/rgw/stop.sh --purge     # stop everything and delete $RGW_DIR
set -euo pipefail

RGW_DIR=$(realpath -m "${RGW_DIR:-/tmp/studiovault-rgw}")
CONF="$RGW_DIR/ceph.conf"
MARKER="# studiovault-rgw"
gateway_only=false purge=false quiet=false
for arg in "$@"; do
  case $arg in
    --gateway) gateway_only=true ;;
    --purge) purge=true ;;
    --quiet) quiet=true ;;
    *) echo "usage: $0 [--gateway] [--purge] [--quiet]" >&2; exit 2 ;;
  esac
done
log() { $quiet || echo "rgw: $*" >&2; }

# Pids of our daemons of one kind: from the pid file, plus any process started with our conf
# (a daemon whose pid file is missing still gets stopped).
pids_of() { # pids_of <binary> <name>
  local binary=$1 name=$2 pid cmd
  {
    [[ -f $RGW_DIR/run/$name.pid ]] && cat "$RGW_DIR/run/$name.pid"
    for cmd in /proc/[0-9]*/cmdline; do
      pid=${cmd#/proc/}; pid=${pid%/cmdline}
      tr '\0' ' ' 2>/dev/null <"$cmd" | grep -qE "^(/usr/bin/)?$binary .*-c $CONF( |$)" && echo "$pid"
    done
  } | sort -u | while read -r pid; do
    [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONF" && echo "$pid"
  done
  return 0
}

stop_daemon() { # stop_daemon <binary> <name>
  local pids pid i
  pids=$(pids_of "$1" "$2")
  [[ -n $pids ]] || return 0
  log "stopping $2 ($(echo $pids))"
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 40; i++)); do # up to 10 s, then SIGKILL (the OSD can hang without its monitor)
    pids=$(for pid in $pids; do if [[ -d /proc/$pid ]]; then echo "$pid"; fi; done)
    [[ -n $pids ]] || break
    sleep 0.25
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$RGW_DIR/run/$2.pid"
}

stop_daemon radosgw client.rgw
if ! $gateway_only; then
  stop_daemon ceph-osd osd.0
  stop_daemon ceph-mon mon.a
fi

if $purge && [[ -d $RGW_DIR ]]; then
  if [[ -f $CONF ]] && head -n1 "$CONF" | grep -qF "$MARKER"; then
    rm -rf "$RGW_DIR" "$RGW_DIR.lock"
    log "removed $RGW_DIR"
  else
    echo "rgw: not removing $RGW_DIR: it was not made by start.sh" >&2
    exit 1
  fi
fi
