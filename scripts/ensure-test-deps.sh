#!/usr/bin/env bash
# What the test suite needs beyond npm packages: Debian's Chromium (portal end-to-end test), xmllint (ASC MHL XSD checks)
# (Postgres is the machine's on 127.0.0.1:5432 if one answers, else the suite's own embedded one.)
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

# Postgres: the machine's on 127.0.0.1:5432 when one answers there; otherwise the suite starts
# its own embedded Postgres (test/jest.global-setup.ts). Nothing to do here.
