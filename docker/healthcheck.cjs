#!/usr/bin/env node
// Container health check for the StudioVault API (used by the image's
// HEALTHCHECK and by docker-compose.yml). Exits 0 when the endpoint answers
// 2xx, 1 otherwise. Usage: studiovault-healthcheck [path]   (default /api/health)
// Node's built-in fetch is used so the runtime image needs no curl or wget.
'use strict';

const path = process.argv[2] || '/api/health';
const port = process.env.PORT || '3210';
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS || 4000);

fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) })
  .then((res) => {
    if (!res.ok) console.error(`health check ${path}: HTTP ${res.status}`);
    process.exit(res.ok ? 0 : 1);
  })
  .catch((err) => {
    console.error(`health check ${path}: ${err && err.message ? err.message : err}`);
    process.exit(1);
  });
