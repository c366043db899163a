import type { Command } from 'commander';
import type { Schemas } from '@studiovault/api-client';
import type { Context } from '../context';
import { ExitCode, SilentExit, usageError } from '../errors';
import { clean, type Column, formatWhen, table } from '../output';
import { action } from './action';
import { readSecretFile } from './targets';

type Channel = Schemas['AlertChannelDto'];
type Created = Schemas['AlertChannelCreatedDto'];
type CreateChannel = Schemas['CreateAlertChannelDto'];
type Problem = Schemas['ProblemDto'];

interface EmailOptions {
  smtpUrl: string;
  from: string;
  to: string;
  digest?: boolean;
}

interface WebhookOptions {
  url: string;
  secretFile?: string;
  format?: 'json' | 'slack' | 'discord' | 'ntfy';
  digest?: boolean;
}

const FORMATS = ['json', 'slack', 'discord', 'ntfy'];

function where(c: Channel): string {
  if (c.kind === 'email') return `${(c.to ?? []).join(', ')} via ${c.smtpHost}:${c.smtpPort}`;
  return `${c.host ?? '?'} (${c.format ?? 'json'})`;
}

function state(c: Channel): string {
  if (!c.enabled) return 'disabled';
  if (c.failing) return `failing${c.pendingDeliveries ? `, ${c.pendingDeliveries} to retry` : ''}`;
  return c.lastSentAt ? 'ok' : 'not used yet';
}

const COLUMNS: Column<Channel>[] = [
  { header: 'NAME', value: (c) => clean(c.name) },
  { header: 'KIND', value: (c) => c.kind + (c.digest ? ' (digest)' : '') },
  { header: 'WHERE', value: (c) => clean(where(c)) },
  { header: 'STATE', value: state },
  { header: 'LAST SENT', value: (c) => (c.lastSentAt ? formatWhen(c.lastSentAt) : 'never') },
];

function channelName(raw: string): string {
  const name = raw.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/.test(name))
    throw usageError('a channel name is 1-64 letters, digits, spaces, dots, dashes or underscores');
  return name;
}

async function create(ctx: Context, body: CreateChannel): Promise<void> {
  const api = await ctx.connect();
  const created: Created = await api.call(api.client.POST('/api/alerts/channels', { body }));
  ctx.out.result(created, () => {
    ctx.out.line(`Added alert channel "${clean(created.channel.name)}" (${created.channel.kind}): ${clean(where(created.channel))}`);
    if (created.secret) {
      ctx.out.line(`Signing secret (shown once; the receiver checks X-StudioVault-Signature with it): ${created.secret}`);
    }
    ctx.out.line(`Send a test: studiovault alerts test "${clean(created.channel.name)}"`);
  });
}

export function registerAlertsCommands(program: Command): void {
  const alerts = program
    .command('alerts')
    .description('alert channels (admin): e-mail and webhooks told once when a problem starts and once when it clears');

  const add = alerts.command('add').description('add an alert channel');

  add
    .command('email')
    .description('e-mail over SMTP (STARTTLS when the server offers it, with AUTH)')
    .argument('<name>', 'a name for the channel, e.g. office')
    .requiredOption('--smtp-url <url>', 'smtp://user:password@host:587 (add ?requireTLS=true to demand STARTTLS) or smtps://…:465')
    .requiredOption('--from <addr>', 'the sender, e.g. "StudioVault <nas@studio.example>"')
    .requiredOption('--to <addr[,addr]>', 'one or more recipients, comma-separated')
    .option('--digest', 'one summary a day instead of each alert')
    .addHelpText(
      'after',
      '\nThe SMTP password is stored encrypted on the server and never shown again.\n\nExample:\n  studiovault alerts add email office --smtp-url smtp://nas%40studio.example:PASS@mail.studio.example:587 \\\n      --from nas@studio.example --to ada@studio.example,bob@studio.example',
    )
    .action(
      action<EmailOptions, [string]>(async (ctx, opts, name) => {
        const to = opts.to
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean);
        if (!to.length) throw usageError('--to needs at least one address');
        await create(ctx, {
          kind: 'email',
          name: channelName(name),
          smtpUrl: opts.smtpUrl,
          from: opts.from,
          to,
          digest: opts.digest ? true : undefined,
        });
      }),
    );

  add
    .command('webhook')
    .description('a JSON POST signed with HMAC-SHA256 (X-StudioVault-Signature: sha256=<hex> of the body)')
    .argument('<name>', 'a name for the channel, e.g. chat')
    .requiredOption('--url <url>', 'the receiver URL (stored encrypted: chat webhooks hold their token in it)')
    .option(
      '--secret-file <file>',
      'a file on this computer holding the signing secret (16+ characters); omitted: the server makes one and prints it once',
    )
    .option('--format <format>', 'json (StudioVault JSON, with text/content for chat tools), slack, discord or ntfy', 'json')
    .option('--digest', 'one summary a day instead of each alert')
    .action(
      action<WebhookOptions, [string]>(async (ctx, opts, name) => {
        if (opts.format && !FORMATS.includes(opts.format)) throw usageError(`--format is one of ${FORMATS.join(', ')}`);
        let url: URL;
        try {
          url = new URL(opts.url);
        } catch {
          throw usageError('--url must be an http(s) URL');
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError('--url must be an http(s) URL');
        const secret = opts.secretFile ? await readSecretFile(opts.secretFile, (m) => ctx.out.warn(m)) : undefined;
        await create(ctx, {
          kind: 'webhook',
          name: channelName(name),
          url: opts.url,
          secret,
          format: opts.format,
          digest: opts.digest ? true : undefined,
        });
      }),
    );

  alerts
    .command('list')
    .description('the alert channels, their last delivery and last error')
    .action(
      action(async (ctx) => {
        const api = await ctx.connect();
        const list: Channel[] = await api.call(api.client.GET('/api/alerts/channels'));
        ctx.out.result(list, () => {
          if (!list.length) return ctx.out.line('No alert channels yet: studiovault alerts add email|webhook NAME …');
          ctx.out.line(table(list, COLUMNS));
          for (const c of list) {
            if (c.failing && c.lastError) ctx.out.line(`${clean(c.name)}: last error ${formatWhen(c.lastErrorAt!)}: ${clean(c.lastError)}`);
          }
        });
      }),
    );

  alerts
    .command('test')
    .description('send a test alert to a channel now (exit 1 when it could not be delivered)')
    .argument('<name>', 'the channel name')
    .action(
      action<Record<string, never>, [string]>(async (ctx, _opts, name) => {
        const api = await ctx.connect();
        const r = await api.call(api.client.POST('/api/alerts/channels/{name}/test', { params: { path: { name: channelName(name) } } }));
        ctx.out.result(r, () =>
          ctx.out.line(r.ok ? `Sent a test alert to "${clean(name)}".` : `Not delivered: ${clean(r.error ?? 'unknown error')}`),
        );
        if (!r.ok) throw new SilentExit(ExitCode.Failed);
      }),
    );

  alerts
    .command('remove')
    .description('remove an alert channel')
    .argument('<name>', 'the channel name')
    .action(
      action<Record<string, never>, [string]>(async (ctx, _opts, name) => {
        const api = await ctx.connect();
        await api.call(api.client.DELETE('/api/alerts/channels/{name}', { params: { path: { name: channelName(name) } } }));
        ctx.out.result({ removed: name }, () => ctx.out.line(`Removed alert channel "${clean(name)}".`));
      }),
    );

  alerts
    .command('problems')
    .description('what needs a person now (the portal banner): at-risk files, offline volumes, failing targets, drills, drives')
    .action(
      action(async (ctx) => {
        const api = await ctx.connect();
        const list: Problem[] = await api.call(api.client.GET('/api/problems'));
        ctx.out.result(list, () => {
          if (!list.length) return ctx.out.line('No problems.');
          for (const p of list)
            ctx.out.line(`${p.severity === 'critical' ? '✗' : '!'} ${clean(p.title)} (since ${formatWhen(p.startedAt)})`);
        });
        if (list.length) throw new SilentExit(ExitCode.Failed);
      }),
    );
}
