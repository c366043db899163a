import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { cancelled, usageError } from './errors';

export interface PromptStreams {
  input: NodeJS.ReadStream;
  /** Prompts go to stderr so stdout stays clean for --json and pipes. */
  output: NodeJS.WriteStream;
}

const defaultStreams = (): PromptStreams => ({ input: process.stdin, output: process.stderr });

/**
 * Asks one question on the terminal. With `hidden`, what is typed is not echoed (passwords):
 * readline writes to a muted stream once the question is shown.
 */
export function ask(question: string, opts: { hidden?: boolean; streams?: PromptStreams } = {}): Promise<string> {
  const { input, output } = opts.streams ?? defaultStreams();
  if (!input.isTTY) {
    return Promise.reject(usageError('cannot ask: standard input is not a terminal (for scripts use --email and --password-stdin)'));
  }
  const hide = opts.hidden === true;
  let muted = false;
  const sink = new Writable({
    write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void) {
      if (!muted) output.write(chunk, encoding);
      callback();
    },
  });
  const rl = createInterface({ input, output: sink, terminal: true, historySize: 0 });
  return new Promise<string>((resolve, reject) => {
    let answered = false;
    rl.on('SIGINT', () => {
      output.write('\n');
      rl.close();
    });
    rl.on('close', () => {
      if (!answered) reject(cancelled());
    });
    rl.question(question, (answer) => {
      answered = true;
      if (hide) output.write('\n');
      rl.close();
      resolve(answer);
    });
    // The question is on the screen now; from here on nothing typed is echoed.
    muted = hide;
  });
}

/** All of standard input, for `--password-stdin`; one trailing newline is not part of it. */
export async function readStdin(input: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (input.isTTY) throw usageError('--password-stdin reads the password from a pipe, e.g. printf %s "$PASSWORD" | studiovault login …');
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
