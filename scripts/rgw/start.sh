#!/usr/bin/env bash
# A throwaway single-node Ceph with the S3 gateway (RGW), for tests and benchmarks: a real S3
# server that enforces Object Lock. One monitor, one in-memory OSD (memstore), pool size 1,
# auth none, RGW on 127.0.0.1. Nothing here is durable: a stopped OSD loses every object.
#
#   scripts/rgw/start.sh            # prints RGW_ENDPOINT=… RGW_ACCESS_KEY_ID=… RGW_SECRET_ACCESS_KEY=… RGW_REGION=…
#   eval "$(scripts/rgw/start.sh)"  # the same, into the shell
#
# Idempotent: a running cluster is reused (only the env is printed); a running monitor and OSD
# with a stopped gateway get the gateway started again (their buckets and users survive);
# anything else is wiped and created from scratch. Progress goes to stderr, the env to stdout
# and to $RGW_DIR/env.
#
# Environment: RGW_DIR (state folder, default /tmp/studiovault-rgw), RGW_PORT (S3 port, default
# 7480), RGW_MON_PORT (monitor port, default RGW_PORT + 1), RGW_MEMSTORE_GB (capacity the OSD reports,
# default 8; objects live in RAM).
# Needs the Debian packages ceph-mon, ceph-osd and radosgw; as root they are installed if missing.
set -euo pipefail

RGW_DIR=${RGW_DIR:-/tmp/studiovault-rgw}
RGW_PORT=${RGW_PORT:-7480}
RGW_MON_PORT=${RGW_MON_PORT:-$((RGW_PORT + 1))}
RGW_MEMSTORE_GB=${RGW_MEMSTORE_GB:-8}
RGW_DIR=$(realpath -m "$RGW_DIR")

# Fixed test credentials: this server only ever listens on 127.0.0.1 and holds test data.
ACCESS_KEY=SVTESTACCESSKEY000001
SECRET_KEY=svtest-secret-key-not-for-production-0001
REGION=us-east-1
ENDPOINT="http://127.0.0.1:${RGW_PORT}"
MARKER="# studiovault-rgw"

started=$SECONDS
elapsed() { echo "$((SECONDS - started))s"; }
log() { echo "rgw: [$(elapsed)] $*" >&2; }
die() { echo "rgw: [$(elapsed)] $*" >&2; exit 1; }

install_packages() {
  local missing=()
  command -v ceph-mon >/dev/null 2>&1 || missing+=(ceph-mon)
  command -v ceph-osd >/dev/null 2>&1 || missing+=(ceph-osd)
  command -v radosgw >/dev/null 2>&1 || missing+=(radosgw)
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "missing Debian packages: ${missing[*]} (sudo apt-get install -y ${missing[*]})"
  log "installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
    || die "apt-get install ${missing[*]} failed"
}

# The pid in $RGW_DIR/run/<name>.pid if that process is alive and is ours (its command line names our ceph.conf).
alive() {
  local pidfile="$RGW_DIR/run/$1.pid" pid
  [[ -f $pidfile ]] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$RGW_DIR/ceph.conf"
}

ceph_() { timeout 10 ceph -c "$RGW_DIR/ceph.conf" "$@"; }

s3_answers() {
  # A signed ListBuckets: proves the gateway is up and the test user's keys work.
  # (curl 7.88 leaves out x-amz-content-sha256, which RGW needs to check the signature)
  curl -sf -o /dev/null --max-time 2 -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 "aws:amz:${REGION}:s3" --user "${ACCESS_KEY}:${SECRET_KEY}" "$ENDPOINT/"
}

write_env() {
  umask 077
  cat >"$RGW_DIR/env.tmp" <<EOF
RGW_ENDPOINT=$ENDPOINT
RGW_ACCESS_KEY_ID=$ACCESS_KEY
RGW_SECRET_ACCESS_KEY=$SECRET_KEY
RGW_REGION=$REGION
EOF
  mv "$RGW_DIR/env.tmp" "$RGW_DIR/env"
  cat "$RGW_DIR/env"
}

wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 limit=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < deadline)) || die "$what not ready after ${limit}s (logs in $RGW_DIR/log)"
    sleep 0.25
  done
}

mon_answers() { ceph_ mon stat >/dev/null 2>&1; }
osd_up() { ceph_ osd dump 2>/dev/null | grep -q '^osd\.0 up'; }

start_gateway() {
  log "starting radosgw on $ENDPOINT"
  radosgw -c "$RGW_DIR/ceph.conf" -n client.rgw 9>&-
  wait_for "radosgw" 90 curl -s -o /dev/null --max-time 1 "$ENDPOINT/"
}

create_cluster() {
  local fsid osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  mkdir -p "$RGW_DIR"/{mon,osd,rgw,run,log}
  cat >"$RGW_DIR/ceph.conf" <<EOF
$MARKER (made by scripts/rgw/start.sh; throwaway test cluster)
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$RGW_MON_PORT
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
# auth none cannot do msgr2's "secure" mode, which radosgw asks the monitor for by default
ms mon client mode = crc
ms client mode = crc
ms cluster mode = crc
ms service mode = crc
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
# a test machine's disk may be fuller than a production monitor likes; do not stop the monitor for it
mon data avail warn = 2
mon data avail crit = 1
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
# a one-node cluster has nothing to batch: commit map changes at once (radosgw creates ~7 pools at start-up)
paxos propose interval = 0.05
paxos min wait = 0.01
run dir = $RGW_DIR/run
pid file = $RGW_DIR/run/\$name.pid
log file = $RGW_DIR/log/\$name.log
[mon.a]
mon data = $RGW_DIR/mon
admin socket = $RGW_DIR/run/\$name.asok
[osd.0]
osd data = $RGW_DIR/osd
osd objectstore = memstore
memstore device bytes = $((RGW_MEMSTORE_GB * 1024 * 1024 * 1024))
admin socket = $RGW_DIR/run/\$name.asok
[client.rgw]
rgw data = $RGW_DIR/rgw
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
admin socket = $RGW_DIR/run/\$name.asok
EOF

  log "creating monitor"
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$RGW_MON_PORT]" "$RGW_DIR/monmap" >/dev/null
  ceph-mon -c "$RGW_DIR/ceph.conf" --mkfs -i a --monmap "$RGW_DIR/monmap" 2>>"$RGW_DIR/log/setup.log"
  ceph-mon -c "$RGW_DIR/ceph.conf" -i a 9>&-
  wait_for "ceph-mon" 20 mon_answers

  log "creating OSD (memstore, ${RGW_MEMSTORE_GB} GB)"
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  [[ $(ceph_ osd new "$osd_uuid") == 0 ]] || die "ceph osd new did not give id 0"
  ceph-osd -c "$RGW_DIR/ceph.conf" -i 0 --mkfs --osd-uuid "$osd_uuid" 2>>"$RGW_DIR/log/setup.log"
  ceph-osd -c "$RGW_DIR/ceph.conf" -i 0 2>>"$RGW_DIR/log/setup.log" 9>&-
  wait_for "osd.0 up" 30 osd_up

  start_gateway

  log "creating user studiovault-test"
  radosgw-admin -c "$RGW_DIR/ceph.conf" user create --uid studiovault-test --display-name "StudioVault tests" \
    --access-key "$ACCESS_KEY" --secret "$SECRET_KEY" >/dev/null 2>>"$RGW_DIR/log/setup.log"
}

main() {
  install_packages
  mkdir -p "$(dirname "$RGW_DIR")"
  # One start at a time (parallel jest workers may all call this); the lock lives beside the folder.
  # Daemons are started with `9>&-` so that they do not inherit (and hold) the lock.
  exec 9>"$RGW_DIR.lock"
  flock -w 120 9 || die "another start.sh holds $RGW_DIR.lock"

  if alive mon.a && alive osd.0; then
    grep -qF "endpoint=127.0.0.1:$RGW_PORT" "$RGW_DIR/ceph.conf" \
      || die "the cluster in $RGW_DIR serves another port; stop it (scripts/rgw/stop.sh) or set RGW_DIR"
    if alive client.rgw && s3_answers; then
      log "already running ($ENDPOINT)"
      write_env
      return
    fi
    if osd_up; then
      alive client.rgw || start_gateway
      wait_for "S3 endpoint" 30 s3_answers
      log "gateway restarted"
      write_env
      return
    fi
  fi

  # Not (fully) running: start from nothing. Only ever wipe a folder this script made.
  if [[ -e $RGW_DIR ]]; then
    if [[ -f $RGW_DIR/ceph.conf ]] && head -n1 "$RGW_DIR/ceph.conf" | grep -qF "$MARKER"; then
      RGW_DIR="$RGW_DIR" bash "$(dirname "$0")/stop.sh" --quiet
      rm -rf "$RGW_DIR"
    elif [[ -n $(ls -A "$RGW_DIR") ]]; then
      die "$RGW_DIR exists and was not made by this script; choose another RGW_DIR"
    fi
  fi
  if curl -s -o /dev/null --max-time 1 "$ENDPOINT/"; then
    die "port $RGW_PORT already answers and is not this cluster's gateway; set RGW_PORT"
  fi

  create_cluster
  wait_for "S3 endpoint" 30 s3_answers
  log "ready at $ENDPOINT"
  write_env
}

main "$@"
