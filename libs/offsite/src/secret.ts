import { inspect } from 'node:util';

const REDACTED = '**redacted**';

/**
 * A credential (S3 secret key, B2 application key). It prints, serialises and inspects as
 * `**redacted**` (restic's secret_string.go), so a config object can be logged or put in an
 * error whole; only reveal() gives the value, at the one place that sends it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  get empty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  /** Replaces every occurrence of the given secrets in a text (for messages from a server or an SDK). */
  static scrub(text: string, secrets: readonly Secret[]): string {
    let out = text;
    for (const s of secrets) if (!s.empty) out = out.split(s.reveal()).join(REDACTED);
    return out;
  }
}
