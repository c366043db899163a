/** What one delivery says: built once when the event happens, stored in the outbox, sent as is (retries send the same). */
export interface AlertMessage {
  event: 'problem.started' | 'problem.cleared' | 'test' | 'digest';
  /** One line: the subject of an e-mail, the first line of a chat message. */
  summary: string;
  /** Plain text body: what happened, which project, card, files, and the portal link. */
  text: string;
  /** Absolute portal address where it is fixed. */
  link: string | null;
  severity: 'critical' | 'warning' | 'info';
  problem?: {
    id: string;
    key: string;
    kind: string;
    severity: string;
    title: string;
    subject: Record<string, unknown>;
    details: Record<string, unknown>;
    startedAt: string;
    clearedAt: string | null;
  };
  /** The digest's open problems and the day's events. */
  items?: { summary: string; link: string | null }[];
  sentBy: string;
  createdAt: string;
}

export interface ProblemLike {
  id: string;
  key: string;
  kind: string;
  severity: string;
  title: string;
  subject: Record<string, unknown>;
  details: Record<string, unknown>;
  link: string | null;
  startedAt: Date;
  clearedAt: Date | null;
}

const CLEARED_WORD: Record<string, string> = {
  copy_damaged: 'Healed',
  heal_failed: 'Healed',
  volume_offline: 'Back online',
  drive_reconnect: 'Drive seen again',
};

function detailLines(details: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const files = details.files as { path: string; reason?: string | null; copies?: { where: string; state: string }[] }[] | undefined;
  if (files?.length) {
    lines.push('Files:');
    for (const f of files) {
      const copies = f.copies?.length ? ` [${f.copies.map((c) => `${c.where}: ${c.state}`).join(', ')}]` : '';
      lines.push(`  ${f.path}${f.reason ? ` — ${f.reason}` : ''}${copies}`);
    }
    const count = details.fileCount as number | undefined;
    if (count && count > files.length) lines.push(`  … and ${count - files.length} more`);
  }
  if (typeof details.root === 'string') lines.push(`Volume root: ${details.root}`);
  if (typeof details.path === 'string') lines.push(`Drive folder: ${details.path}`);
  return lines;
}

export function problemMessage(p: ProblemLike, event: 'problem.started' | 'problem.cleared', portal: string): AlertMessage {
  const link = p.link ? `${portal}${p.link}` : null;
  const started = event === 'problem.started';
  const summary = started
    ? `[StudioVault] ${p.severity === 'critical' ? 'Problem' : 'Warning'}: ${p.title}`
    : `[StudioVault] ${CLEARED_WORD[p.kind] ?? 'Cleared'}: ${p.title}`;
  const text = [
    started
      ? `Problem since ${p.startedAt.toISOString()}: ${p.title}`
      : `Cleared at ${(p.clearedAt ?? new Date()).toISOString()}: ${p.title}`,
    '',
    ...detailLines(p.details),
    ...(link ? ['', `Open: ${link}`] : []),
  ].join('\n');
  return {
    event,
    summary,
    text,
    link,
    severity: p.severity === 'critical' ? 'critical' : 'warning',
    problem: {
      id: p.id,
      key: p.key,
      kind: p.kind,
      severity: p.severity,
      title: p.title,
      subject: p.subject,
      details: p.details,
      startedAt: p.startedAt.toISOString(),
      clearedAt: p.clearedAt ? p.clearedAt.toISOString() : null,
    },
    sentBy: 'StudioVault',
    createdAt: new Date().toISOString(),
  };
}

export function testMessage(channel: string, portal: string): AlertMessage {
  return {
    event: 'test',
    summary: `[StudioVault] Test alert to channel "${channel}"`,
    text: `This is a test alert from StudioVault to the channel "${channel}". If you read this, alerts reach you.\n\nOpen: ${portal}/admin/alerts`,
    link: `${portal}/admin/alerts`,
    severity: 'info',
    sentBy: 'StudioVault',
    createdAt: new Date().toISOString(),
  };
}

export function digestMessage(open: ProblemLike[], cleared: ProblemLike[], portal: string): AlertMessage {
  const items = [
    ...open.map((p) => ({
      summary: `open since ${p.startedAt.toISOString().slice(0, 16)}: ${p.title}`,
      link: p.link ? `${portal}${p.link}` : null,
    })),
    ...cleared.map((p) => ({ summary: `cleared: ${p.title}`, link: p.link ? `${portal}${p.link}` : null })),
  ];
  const summary = open.length
    ? `[StudioVault] Daily digest: ${open.length} open problem${open.length === 1 ? '' : 's'}`
    : '[StudioVault] Daily digest: no open problems';
  const text = [summary.replace('[StudioVault] ', ''), '', ...items.map((i) => `- ${i.summary}${i.link ? `\n  ${i.link}` : ''}`)].join(
    '\n',
  );
  return {
    event: 'digest',
    summary,
    text,
    link: `${portal}/`,
    severity: open.some((p) => p.severity === 'critical') ? 'critical' : open.length ? 'warning' : 'info',
    items,
    sentBy: 'StudioVault',
    createdAt: new Date().toISOString(),
  };
}
