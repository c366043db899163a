import { createHash } from 'node:crypto';
import { isTargetError } from './errors';
import { mergeRetention } from './retention';
import {
  PREFLIGHT_CHECKS,
  type LockMode,
  type OffsiteTarget,
  type PreflightCheck,
  type PreflightCheckId,
  type PreflightReport,
} from './target';

export interface ProbeOutcome {
  ok: boolean;
  detail: string;
}

/** What each driver checks its own way; `put` and `retention` are the same for every target. */
export interface PreflightProbes {
  reachable(): Promise<ProbeOutcome>;
  credentials(): Promise<ProbeOutcome>;
  bucket(): Promise<ProbeOutcome>;
  versioning(): Promise<ProbeOutcome>;
  objectLock(): Promise<ProbeOutcome & { defaultRetention?: { mode: LockMode; days: number } }>;
}

/** Where the probe object goes; each preflight adds one small version (locked for a minute, or by the bucket's default). */
export const PREFLIGHT_KEY = '.studiovault/preflight';

function describe(err: unknown): { detail: string; errorKind?: PreflightCheck['errorKind'] } {
  if (isTargetError(err)) return { detail: err.message, errorKind: err.kind };
  return { detail: err instanceof Error ? err.message : String(err) };
}

/**
 * Runs the named checks in order. A check whose prerequisite failed is reported as skipped,
 * with the reason, rather than failing with a confusing second error.
 */
export async function runPreflight(target: OffsiteTarget, probes: PreflightProbes, probeKey = PREFLIGHT_KEY): Promise<PreflightReport> {
  const results = new Map<PreflightCheckId, PreflightCheck>();
  let defaultRetention: PreflightReport['defaultRetention'];
  const name = (id: PreflightCheckId) => PREFLIGHT_CHECKS.find((c) => c.id === id)!.name;

  const run = async (id: PreflightCheckId, needs: PreflightCheckId[], fn: () => Promise<ProbeOutcome>): Promise<boolean> => {
    const missing = needs.find((n) => !results.get(n)?.ok);
    if (missing) {
      results.set(id, { id, name: name(id), status: 'skipped', ok: false, detail: `not checked: "${name(missing)}" did not pass` });
      return false;
    }
    try {
      const out = await fn();
      results.set(id, { id, name: name(id), status: out.ok ? 'ok' : 'failed', ok: out.ok, detail: out.detail });
      return out.ok;
    } catch (err) {
      results.set(id, { id, name: name(id), status: 'failed', ok: false, ...describe(err) });
      return false;
    }
  };

  let probeVersion: string | undefined;
  await run('reachable', [], () => probes.reachable());
  await run('credentials', ['reachable'], () => probes.credentials());
  await run('bucket', ['credentials'], () => probes.bucket());
  await run('versioning', ['bucket'], () => probes.versioning());
  await run('objectLock', ['bucket'], async () => {
    const out = await probes.objectLock();
    defaultRetention = out.defaultRetention;
    return out;
  });
  await run('put', ['bucket'], async () => {
    const body = Buffer.from(`StudioVault preflight ${new Date().toISOString()}\n`);
    const put = await target.put(probeKey, body, {
      size: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      contentMd5: createHash('md5').update(body).digest('base64'),
      contentType: 'text/plain',
    });
    probeVersion = put.versionId;
    return { ok: true, detail: `wrote ${probeKey} (version ${put.versionId})` };
  });
  await run('retention', ['put', 'objectLock'], async () => {
    const version = probeVersion!;
    const current = await target.getRetention(probeKey, version);
    // Always a real change (one second longer than anything in force), so the permission is proven.
    const wanted = mergeRetention(current, { mode: current?.mode ?? 'GOVERNANCE', retainUntil: new Date(Date.now() + 60_000) });
    if (current && wanted.retainUntil.getTime() <= current.retainUntil.getTime())
      wanted.retainUntil = new Date(current.retainUntil.getTime() + 1000);
    await target.putRetention(probeKey, version, wanted);
    const after = await target.getRetention(probeKey, version);
    if (!after || after.retainUntil.getTime() < Math.floor(wanted.retainUntil.getTime() / 1000) * 1000) {
      return { ok: false, detail: `retention set on ${probeKey} but not read back (${after ? after.retainUntil.toISOString() : 'none'})` };
    }
    return { ok: true, detail: `${after.mode} until ${after.retainUntil.toISOString()} read back on ${probeKey}` };
  });

  const checks = PREFLIGHT_CHECKS.map((c) => results.get(c.id)!);
  return { ok: checks.every((c) => c.ok), checks, defaultRetention };
}
