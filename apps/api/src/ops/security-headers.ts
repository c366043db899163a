import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

const SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
const SRC_ATTR = /\ssrc\s*=/i;
const TYPE_ATTR = /\stype\s*=\s*["']?([^"'\s>]+)/i;
const JS_TYPES = new Set(['', 'module', 'text/javascript', 'application/javascript']);

/**
 * The CSP hashes (`'sha256-…'`) of the inline scripts of the portal's HTML shells (index.html,
 * 200.html, 404.html): the Nuxt build puts its runtime config in one. Data blocks
 * (`type="application/json"`) are not run and need none.
 */
export function inlineScriptHashes(webDir: string | undefined): string[] {
  if (!webDir || !existsSync(webDir)) return [];
  const hashes = new Set<string>();
  for (const name of readdirSync(webDir).filter((n) => n.endsWith('.html'))) {
    const html = readFileSync(join(webDir, name), 'utf8');
    for (const [, attrs, body] of html.matchAll(SCRIPT)) {
      if (SRC_ATTR.test(attrs) || !JS_TYPES.has((TYPE_ATTR.exec(attrs)?.[1] ?? '').toLowerCase())) continue;
      hashes.add(`'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
    }
  }
  return [...hashes].sort();
}

/**
 * Response headers for the API, the tus endpoint and the portal (helmet): a strict CSP (scripts
 * from this origin plus the portal's own inline script by hash; never 'unsafe-inline' for
 * scripts), no framing, nosniff, no referrer, and `Cache-Control: no-store` on /api and /files
 * (sessions, tokens, catalog data).
 *
 * - `'wasm-unsafe-eval'`: the portal hashes files in the browser with hash-wasm (WebAssembly);
 *   it allows compiling WebAssembly, not JavaScript eval.
 * - style-src stays 'self': Vue sets `:style` bindings through the CSSOM, which CSP does not
 *   govern, and the build has no inline style element.
 * - No upgrade-insecure-requests and no HSTS: a NAS portal is often plain HTTP on the LAN;
 *   HTTPS (and HSTS) belong to the reverse proxy that terminates TLS.
 */
export function securityHeaders(webDir: string | undefined): RequestHandler[] {
  const csp = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'", "'wasm-unsafe-eval'", ...inlineScriptHashes(webDir)],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'font-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'worker-src': ["'self'"],
        'object-src': ["'none'"],
        'base-uri': ["'none'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  const noStore = (req: Request, res: Response, next: NextFunction) => {
    if (/^\/(api|files)(\/|$)/.test(req.path)) res.setHeader('Cache-Control', 'no-store');
    next();
  };
  return [csp, noStore];
}
