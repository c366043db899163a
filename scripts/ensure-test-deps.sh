#!/usr/bin/env bash
# What the test suite needs beyond npm packages: Debian's Chromium (portal end-to-end test), xmllint (ASC MHL XSD checks)
# and a Postgres on 127.0.0.1:5432 with trust auth for user postgres.
set -euo pipefail

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v xmllint >/dev/null 2>&1 || need_apt+=(libxml2-utils)   # ASC MHL files are validated against the ASC's XSDs
if ((${#need_apt[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "installing from Debian: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "missing: ${need_apt[*]} — install them (sudo apt-get install ${need_apt[*]}) and run again" >&2
    exit 1
  fi
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 || { echo "the tests need Postgres on 127.0.0.1:5432 (trust auth, user postgres)" >&2; exit 1; }
fi
