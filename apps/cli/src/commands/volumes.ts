import type { Command } from 'commander';
import type { Schemas } from '@studiovault/api-client';
import type { Api } from '../api';
import type { Context } from '../context';
import { SilentExit, ExitCode, usageError } from '../errors';
import { formatBytes } from '../ingest/progress';
import { clean, type Column, formatWhen, table } from '../output';
import { action } from './action';

type Volume = Schemas['VolumeDto'];

const COLUMNS: Column<Volume>[] = [
  { header: 'VOLUME', value: (v) => v.role },
  { header: 'STATE', value: (v) => v.state },
  { header: 'ROOT', value: (v) => clean(v.rootPath) },
  { header: 'FREE', value: (v) => (v.freeBytes === null ? '-' : formatBytes(v.freeBytes)) },
  { header: 'CHECKED', value: (v) => (v.lastCheckedAt ? formatWhen(v.lastCheckedAt) : 'never') },
];

/** The volumes for people: a table, then why each offline one is offline and the same-device warning. */
function print(ctx: Context, volumes: Volume[]): void {
  ctx.out.result(volumes, () => {
    ctx.out.line(table(volumes, COLUMNS));
    for (const v of volumes) {
      if (v.state === 'offline') ctx.out.line(`${v.role} volume offline: ${clean(v.offlineReason ?? 'not reachable')}`);
    }
    if (volumes.some((v) => v.sameDevice)) ctx.out.line('warning: the primary and mirror volumes are on the same device (not two media)');
  });
}

function check(api: Api): Promise<Volume[]> {
  return api.call(api.client.POST('/api/volumes/check'));
}

export function registerVolumesCommands(program: Command): void {
  const volumes = program
    .command('volumes')
    .description("the NAS's primary and mirror volumes: each is known by the identity marker at its root and its device");

  volumes
    .command('list')
    .description('the volumes as last checked (the server checks them every 30 s)')
    .action(
      action(async (ctx) => {
        const api = await ctx.connect();
        print(ctx, await api.call(api.client.GET('/api/volumes')));
      }),
    );

  volumes
    .command('check')
    .description('check every volume now (admin): marker, device, free space; a volume that came back is caught up at once')
    .addHelpText(
      'after',
      [
        '',
        'A volume whose marker (.studiovault-volume.json at its root) is missing or belongs to another volume, or whose',
        'device changed (a disk not mounted, a folder moved away), is offline: nothing is written there and its copies do',
        'not count. When the right disk is back, the copies written meanwhile are made and verified.',
        '',
        'Exit codes: 0 every volume online, 1 a volume is offline, 2 usage, 3 server unreachable.',
      ].join('\n'),
    )
    .action(
      action(async (ctx) => {
        const api = await ctx.connect();
        const list = await check(api);
        print(ctx, list);
        if (list.some((v) => v.state === 'offline')) throw new SilentExit(ExitCode.Failed);
      }),
    );

  volumes
    .command('adopt')
    .description("take the disk now at a volume's root as that volume (admin): writes a new marker, records its device")
    .argument('<role>', 'primary or mirror')
    .action(
      action<Record<string, never>, [string]>(async (ctx, _opts, role) => {
        if (role !== 'primary' && role !== 'mirror') throw usageError('the volume is "primary" or "mirror"');
        const api = await ctx.connect();
        print(ctx, await api.call(api.client.POST('/api/volumes/adopt', { body: { role } })));
      }),
    );
}
