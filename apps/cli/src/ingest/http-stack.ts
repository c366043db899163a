import * as http from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse, HttpStack } from 'tus-js-client';
import { readBuffers } from './hashing-reader';

/**
 * The HTTP stack tus-js-client sends its requests with, for Node: like its own NodeHttpStack,
 * plus what an ingest over a LAN needs: an idle timeout (a pulled cable does not end a TCP
 * connection for many minutes), errors of the card (the request body) ending the request,
 * keep-alive connections, and the WHATWG URL parser.
 */
export class IngestHttpStack implements HttpStack {
  private readonly agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };

  constructor(private readonly idleMs: number) {}

  createRequest(method: string, url: string): HttpRequest {
    return new IngestRequest(method, url, this.idleMs, this.agents);
  }

  getName(): string {
    return 'StudioVaultIngestHttpStack';
  }
}

class IngestRequest implements HttpRequest {
  private readonly headers: Record<string, string> = {};
  private progress: (bytesSent: number) => void = () => undefined;
  private req: http.ClientRequest | null = null;

  constructor(
    private readonly method: string,
    private readonly url: string,
    private readonly idleMs: number,
    private readonly agents: { http: http.Agent; https: https.Agent },
  ) {}

  getMethod(): string {
    return this.method;
  }

  getURL(): string {
    return this.url;
  }

  setHeader(header: string, value: string): void {
    this.headers[header] = value;
  }

  getHeader(header: string): string | undefined {
    return this.headers[header];
  }

  setProgressHandler(handler: (bytesSent: number) => void): void {
    this.progress = handler;
  }

  send(body?: unknown): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const url = new URL(this.url);
      const secure = url.protocol === 'https:';
      const headers: Record<string, string | number> = { ...this.headers };
      const size = (body as { size?: number } | null | undefined)?.size;
      if (typeof size === 'number' && size > 0) headers['Content-Length'] = size;
      else if (body instanceof Uint8Array) headers['Content-Length'] = body.length;
      const req = (secure ? https : http).request(url, {
        method: this.method,
        headers,
        agent: secure ? this.agents.https : this.agents.http,
      });
      this.req = req;
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      req.setTimeout(this.idleMs, () => {
        req.destroy(Object.assign(new Error(`no data moved for ${Math.round(this.idleMs / 1000)} s`), { code: 'ETIMEDOUT' }));
      });
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve(new IngestResponse(res, Buffer.concat(chunks).toString('utf8')));
        });
      });
      if (body instanceof Readable) {
        // Each chunk is written and its read buffer given back once the socket has taken it.
        const send = async () => {
          let sent = 0;
          let last = 0;
          for await (const chunk of body as AsyncIterable<Buffer>) {
            if (req.destroyed) return;
            const ok = req.write(chunk, (err) => {
              if (!err) readBuffers.give(chunk);
            });
            sent += chunk.length;
            const now = Date.now();
            if (now - last >= 100) {
              last = now;
              this.progress(sent);
            }
            if (!ok) await drained(req);
          }
          req.end();
        };
        // A failed read of the card ends the request with that error.
        send().catch((err: Error) => {
          body.destroy();
          req.destroy(err);
          fail(err);
        });
      } else if (body instanceof Uint8Array) {
        req.end(body, () => this.progress(body.length));
      } else {
        req.end();
      }
    });
  }

  abort(): Promise<void> {
    this.req?.destroy();
    return Promise.resolve();
  }

  getUnderlyingObject(): unknown {
    return this.req;
  }
}

class IngestResponse implements HttpResponse {
  constructor(
    private readonly res: http.IncomingMessage,
    private readonly body: string,
  ) {}

  getStatus(): number {
    return this.res.statusCode ?? 0;
  }

  getHeader(header: string): string | undefined {
    const v = this.res.headers[header.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  getBody(): string {
    return this.body;
  }

  getUnderlyingObject(): unknown {
    return this.res;
  }
}

/** Resolves when the request can take more, rejects when it ends first. */
function drained(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      req.off('drain', onDrain);
      req.off('close', onClose);
      req.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('the request ended'));
    const onError = (err: Error) => done(err);
    req.once('drain', onDrain);
    req.once('close', onClose);
    req.once('error', onError);
  });
}
