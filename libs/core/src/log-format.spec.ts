import type { IncomingMessage, ServerResponse } from 'node:http';
import { prettyLogLine, requestLogLevel, resolveLogFormat } from './log-format';

describe('prettyLogLine', () => {
  const time = new Date(2026, 11, 4, 9, 5, 7, 42).getTime();

  it('a request as method, path, status and time', () => {
    const line = JSON.stringify({
      level: 40,
      time,
      pid: 1,
      hostname: 'nas',
      req: { id: 'r1', method: 'GET', url: '/api/x' },
      res: { statusCode: 404 },
      responseTime: 3.4,
      msg: 'request completed',
    });
    expect(prettyLogLine(line)).toBe('09:05:07.042 WARN  GET /api/x 404 3ms req=r1\n');
  });

  it('a message with its context, fields and the stack of its error', () => {
    const line = JSON.stringify({
      level: 50,
      time,
      context: 'Jobs',
      msg: 'job failed',
      job: 'verify card',
      err: { message: 'boom', stack: 'Error: boom\n    at x' },
    });
    expect(prettyLogLine(line)).toBe('09:05:07.042 ERROR [Jobs] job failed job="verify card"\n    Error: boom\n        at x\n');
  });

  it('colours the level only when asked, and passes what is not JSON as it is', () => {
    expect(prettyLogLine(JSON.stringify({ level: 30, time, msg: 'hi' }), true)).toBe('09:05:07.042 \x1b[32mINFO \x1b[0m hi\n');
    expect(prettyLogLine('plain text')).toBe('plain text\n');
  });

  it('picks pretty on a terminal and JSON elsewhere, unless LOG_FORMAT says', () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as NodeJS.WriteStream;
    expect([resolveLogFormat(undefined, tty), resolveLogFormat(undefined, pipe)]).toEqual(['pretty', 'json']);
    expect([resolveLogFormat('json', tty), resolveLogFormat('pretty', pipe)]).toEqual(['json', 'pretty']);
  });
});

describe('requestLogLevel', () => {
  const level = (url: string, statusCode: number, err?: Error) =>
    requestLogLevel({ url, originalUrl: url } as unknown as IncomingMessage, { statusCode } as ServerResponse, err);

  it('keeps health checks, metrics and portal files at debug while they succeed, and logs them when they fail', () => {
    expect(['/api/health', '/api/health/live?x=1', '/metrics', '/', '/_nuxt/app.js', '/projects/x'].map((u) => level(u, 200))).toEqual(
      Array(6).fill('debug'),
    );
    expect([level('/api/health', 503), level('/_nuxt/nope.js', 404), level('/api/health', 200, new Error('x'))]).toEqual([
      'error',
      'warn',
      'error',
    ]);
  });

  it('logs API and upload requests at info, 4xx at warn and 5xx at error', () => {
    expect([level('/api/projects', 200), level('/files/abc', 204), level('/api/projects', 409), level('/api/x', 500)]).toEqual([
      'info',
      'info',
      'warn',
      'error',
    ]);
  });
});
