import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configReference, ConfigError, loadConfig, Secret, sensitiveEnvNames } from './config';

describe('configuration', () => {
  it('has working defaults for the embedded mode', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3210);
    expect(c.database.url).toBeUndefined();
    expect(c.database.runMigrations).toBe(true);
    expect(c.volumes.primaryRoot).toMatch(/data\/volumes\/primary$/);
    expect(c.workerInProcess).toBe(true);
    expect(c.logFormat).toBeUndefined(); // decided by whether stdout is a terminal
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be an integer/],
    [{ PORT: '70000' }, /PORT must not be greater than 65535/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a postgres:\/\/ URL/],
    [{ NODE_ENV: 'production' }, /STUDIOVAULT_SECRET_KEY .* is required when NODE_ENV=production/],
    [{ STUDIOVAULT_SECRET_KEY: 'short' }, /STUDIOVAULT_SECRET_KEY must be at least 32 characters/],
    [{ STUDIOVAULT_ADMIN_EMAIL: 'admin@studio.test' }, /STUDIOVAULT_ADMIN_PASSWORD is not/],
    [{ STUDIOVAULT_ADMIN_EMAIL: 'nope', STUDIOVAULT_ADMIN_PASSWORD: 'long enough pass' }, /STUDIOVAULT_ADMIN_EMAIL must be an e-mail/],
    [{ STUDIOVAULT_MIGRATIONS_RUN: 'maybe' }, /STUDIOVAULT_MIGRATIONS_RUN must be a boolean/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ LOG_FORMAT: 'xml' }, /LOG_FORMAT must be one of/],
    [{ STUDIOVAULT_SECRET_KEY_FILE: '/nonexistent/key' }, /STUDIOVAULT_SECRET_KEY_FILE: cannot read/],
  ])('refuses %j with one line naming the variable', (env, message) => {
    let err: unknown;
    try {
      loadConfig(env as NodeJS.ProcessEnv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('allows restores under <data>/restores and no disk target by default; reads lists separated by commas or colons', () => {
    const d = loadConfig({ STUDIOVAULT_DATA_DIR: '/srv/sv' });
    expect(d.folders).toEqual({ restoreRoots: ['/srv/sv/restores'], diskTargetRoots: [], keyDir: '/srv/sv/keys' });
    const c = loadConfig({
      STUDIOVAULT_DATA_DIR: '/srv/sv',
      STUDIOVAULT_RESTORE_ROOTS: '/volume1/restores, /mnt/restore//',
      STUDIOVAULT_DISK_TARGET_ROOTS: '/mnt/usb:/media',
      STUDIOVAULT_KEY_DIR: '/run/secrets',
    });
    expect(c.folders).toEqual({
      restoreRoots: ['/volume1/restores', '/mnt/restore'],
      diskTargetRoots: ['/mnt/usb', '/media'],
      keyDir: '/run/secrets',
    });
  });

  it.each([
    [{ STUDIOVAULT_RESTORE_ROOTS: 'restores' }, /STUDIOVAULT_RESTORE_ROOTS: restores is not an absolute path/],
    [{ STUDIOVAULT_RESTORE_ROOTS: '/' }, /STUDIOVAULT_RESTORE_ROOTS: \/ cannot hold .*root of the file system/],
    [{ STUDIOVAULT_RESTORE_ROOTS: '/mnt/r,/etc' }, /STUDIOVAULT_RESTORE_ROOTS: \/etc cannot hold .*system folder/],
    [{ STUDIOVAULT_DISK_TARGET_ROOTS: '/root/usb' }, /STUDIOVAULT_DISK_TARGET_ROOTS: \/root\/usb cannot hold .*system folder \(\/root\)/],
    [{ STUDIOVAULT_PRIMARY_ROOT: '/pools/primary', STUDIOVAULT_RESTORE_ROOTS: '/pools' }, /\/pools holds the volume \/pools\/primary/],
    [
      { STUDIOVAULT_MIRROR_ROOT: '/pools/mirror', STUDIOVAULT_DISK_TARGET_ROOTS: '/pools/mirror/usb' },
      /is inside the volume \/pools\/mirror/,
    ],
  ])('refuses folder roots %j', (env, message) => {
    expect(() => loadConfig({ STUDIOVAULT_DATA_DIR: '/srv/sv', ...env } as NodeJS.ProcessEnv)).toThrow(message);
  });

  it('reads _FILE secrets and never puts a secret in its error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sv-config-'));
    writeFileSync(join(dir, 'key'), 'k'.repeat(40) + '\n');
    expect(loadConfig({ STUDIOVAULT_SECRET_KEY_FILE: join(dir, 'key') }).security.secretKey).toBe('k'.repeat(40));
    try {
      loadConfig({ STUDIOVAULT_SECRET_KEY: 'hunter2-secret' });
      throw new Error('should fail');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });

  it('documents every variable and marks secrets sensitive', () => {
    expect(sensitiveEnvNames()).toEqual(expect.arrayContaining(['DATABASE_URL', 'STUDIOVAULT_SECRET_KEY', 'STUDIOVAULT_ADMIN_PASSWORD']));
    const ref = configReference();
    expect(ref).toMatch(/\| `PORT` \| server \| 3210 \|/);
    expect(ref).toMatch(/STUDIOVAULT_SECRET_KEY_FILE/);
  });

  it('Secret prints as redacted', () => {
    const s = new Secret('AKIA-very-secret');
    expect(String(s)).toBe('**redacted**');
    expect(JSON.stringify({ s })).toBe('{"s":"**redacted**"}');
    expect(s.reveal()).toBe('AKIA-very-secret');
  });
});
