import { clean, displayWidth } from '../output';

/** 1.52 GB, 31.2 MB, 950 kB, 12 B (decimal units, as drive makers and Finder count). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(bytesPerSecond >= 1e8 ? 0 : 1)} MB/s`;
}

/** 0:07, 12:03, 1:02:03 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function bar(fraction: number, width: number): string {
  const full = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
}

function percent(done: number, total: number): string {
  return `${total > 0 ? Math.floor((done / total) * 100) : 100}%`.padStart(4);
}

/** Shortens a path on the left: "…/100CANON/IMG_0001.CR3". */
function fit(text: string, width: number): string {
  if (displayWidth(text) <= width) return text + ' '.repeat(width - displayWidth(text));
  const chars = [...text];
  let out = '';
  for (let i = chars.length - 1; i >= 0; i--) {
    if (displayWidth(chars[i] + out) > width - 1) break;
    out = chars[i] + out;
  }
  return `…${out}${' '.repeat(Math.max(0, width - 1 - displayWidth(out)))}`;
}

export type FilePhase = 'reading' | 'uploading' | 'hashing' | 'sealing' | 'retrying';

export class FileProgress {
  /** Bytes the server has or was sent (tus offset). */
  sent = 0;
  phase: FilePhase = 'uploading';
  note = '';
  private seen = false;
  private source?: { catchingUp: boolean; hashed: number };
  /** Bytes sent since `since` (the first progress report), for this file's MB/s. */
  private moved = 0;
  private since = 0;

  constructor(
    private readonly owner: Progress,
    readonly rel: string,
    readonly size: number,
  ) {}

  /** tus's offset: the first value (where a resumed upload starts) is not counted as transfer. */
  update(sent: number): void {
    const delta = sent - this.sent;
    const transferred = this.seen ? Math.max(0, delta) : 0;
    this.owner.addDone(delta, transferred);
    if (!this.seen) this.since = Date.now();
    this.moved += transferred;
    this.seen = true;
    this.sent = sent;
  }

  /** This file's average bytes per second since its bytes began to move. */
  rate(): number {
    const ms = Date.now() - this.since;
    return this.seen && ms >= 500 ? (this.moved * 1000) / ms : 0;
  }

  /** The file being read: while it hashes the prefix the server already has, that shows. */
  watch(source: { catchingUp: boolean; hashed: number }): void {
    this.source = source;
  }

  /** What the file is doing, for people. */
  doing(): string {
    if (this.source?.catchingUp) return `hashing the part the NAS has: ${formatBytes(this.source.hashed)}`;
    return this.phase === 'uploading' ? '' : `${this.phase}${this.note ? ` ${this.note}` : ''}`;
  }

  setPhase(phase: FilePhase, note = ''): void {
    this.phase = phase;
    this.note = note;
  }

  /** The file is done (uploaded, failed or skipped): counts its whole size as done. */
  end(): void {
    this.owner.addDone(this.size - this.sent, 0);
    this.sent = this.size;
    this.owner.remove(this);
  }
}

export interface ProgressOptions {
  stream: NodeJS.WriteStream;
  /** Bars redrawn in place (stderr is a terminal). */
  tty: boolean;
  /** Progress lines as JSON objects (with --json, when stderr is not a terminal). */
  json: boolean;
  label: string;
  intervalMs?: number;
}

/**
 * Progress of a card on stderr: bars redrawn in place on a terminal (the card: bytes, MB/s,
 * ETA; and each file in flight), a plain line every few seconds otherwise, JSON lines with
 * --json. Messages (`log`) print above the bars.
 */
export class Progress {
  totalBytes = 0;
  totalFiles = 0;
  doneBytes = 0;
  doneFiles = 0;
  /** Bytes sent in this run (not skipped, not resumed): what MB/s is made of. */
  transferred = 0;
  readonly startedAt = Date.now();
  private readonly files = new Set<FileProgress>();
  private readonly samples: { t: number; bytes: number }[] = [];
  private timer?: NodeJS.Timeout;
  private drawn = 0;
  private readonly intervalMs: number;

  constructor(private readonly o: ProgressOptions) {
    this.intervalMs = o.intervalMs ?? (o.tty ? 200 : o.json ? 1000 : 5000);
  }

  start(totalBytes: number, totalFiles: number): void {
    this.totalBytes = totalBytes;
    this.totalFiles = totalFiles;
    this.samples.push({ t: Date.now(), bytes: 0 });
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  file(rel: string, size: number): FileProgress {
    const f = new FileProgress(this, rel, size);
    this.files.add(f);
    return f;
  }

  /** @internal */
  addDone(bytes: number, transferred: number): void {
    this.doneBytes += bytes;
    this.transferred += transferred;
  }

  /** @internal */
  remove(f: FileProgress): void {
    if (this.files.delete(f)) this.doneFiles++;
  }

  /** A file that needed no transfer (skipped, already there). */
  skip(size: number): void {
    this.doneBytes += size;
    this.doneFiles++;
  }

  /** Bytes per second over the last ~5 s. */
  rate(): number {
    const now = Date.now();
    const cur = { t: now, bytes: this.transferred };
    const old = this.samples.find((s) => now - s.t <= 5000) ?? this.samples[0];
    if (!old || cur.t - old.t < 200) return 0;
    return ((cur.bytes - old.bytes) * 1000) / (cur.t - old.t);
  }

  /** A message for the person: above the bars on a terminal, a line otherwise. */
  log(text: string): void {
    this.clear();
    this.o.stream.write(`${text}\n`);
    this.draw();
  }

  /** A JSON event line (only with --json off a terminal). */
  event(data: Record<string, unknown>): void {
    if (this.o.json && !this.o.tty) this.o.stream.write(`${JSON.stringify(data)}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private tick(): void {
    const now = Date.now();
    this.samples.push({ t: now, bytes: this.transferred });
    while (this.samples.length > 2 && now - this.samples[1].t > 5000) this.samples.shift();
    if (this.o.tty) {
      this.clear();
      this.draw();
    } else if (this.o.json) {
      this.event(this.snapshot());
    } else {
      this.o.stream.write(`${this.line()}\n`);
    }
  }

  snapshot(): Record<string, unknown> {
    const rate = this.rate();
    return {
      event: 'progress',
      bytesDone: this.doneBytes,
      bytesTotal: this.totalBytes,
      filesDone: this.doneFiles,
      filesTotal: this.totalFiles,
      bytesPerSecond: Math.round(rate),
      etaSeconds: rate > 0 ? Math.round((this.totalBytes - this.doneBytes) / rate) : null,
      current: [...this.files].map((f) => ({ relativePath: f.rel, sent: f.sent, size: f.size, phase: f.doing() || f.phase })),
    };
  }

  private line(): string {
    const rate = this.rate();
    const eta = rate > 0 ? `, ETA ${formatDuration((this.totalBytes - this.doneBytes) / rate)}` : '';
    return (
      `progress: ${percent(this.doneBytes, this.totalBytes).trim()} ${formatBytes(this.doneBytes)} of ${formatBytes(this.totalBytes)}, ` +
      `${this.doneFiles} of ${this.totalFiles} files, ${formatRate(rate)}${eta}`
    );
  }

  private draw(): void {
    if (!this.o.tty || !this.timer) return;
    const cols = Math.max(60, this.o.stream.columns || 100);
    const rate = this.rate();
    const eta = rate > 0 ? formatDuration((this.totalBytes - this.doneBytes) / rate) : '--:--';
    const head =
      `${fit(clean(this.o.label), 14)} ${bar(this.totalBytes ? this.doneBytes / this.totalBytes : 1, 24)} ${percent(this.doneBytes, this.totalBytes)}  ` +
      `${formatBytes(this.doneBytes)} / ${formatBytes(this.totalBytes)}  ${formatRate(rate)}  ETA ${eta}  files ${this.doneFiles}/${this.totalFiles}`;
    const lines = [head];
    for (const f of this.files) {
      const doing = f.doing();
      const fileRate = f.rate();
      const what = doing ? `  ${doing}` : fileRate > 0 ? `  ${formatRate(fileRate)}` : '';
      lines.push(
        `  ${fit(clean(f.rel), 34)} ${bar(f.size ? f.sent / f.size : 1, 16)} ${percent(f.sent, f.size)}  ` +
          `${formatBytes(f.sent)} / ${formatBytes(f.size)}${what}`,
      );
    }
    const out = lines.map((l) => (displayWidth(l) > cols - 1 ? [...l].slice(0, cols - 1).join('') : l));
    this.o.stream.write(`${out.join('\n')}\n`);
    this.drawn = out.length;
  }

  private clear(): void {
    if (!this.o.tty || this.drawn === 0) return;
    // Up to the first line of the block, then clear to the end of the screen.
    this.o.stream.write(`\x1b[${this.drawn}A\r\x1b[J`);
    this.drawn = 0;
  }
}
