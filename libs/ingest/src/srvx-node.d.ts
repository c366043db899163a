// srvx ships ESM types only ("exports" → .d.mts), which this CommonJS build's module resolution
// cannot see; these are the two adapter functions @tus/server itself uses to serve Node requests.
declare module 'srvx/node' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export class NodeRequest extends Request {
    constructor(ctx: { req: IncomingMessage; res: ServerResponse });
  }
  export function sendNodeResponse(res: ServerResponse, response: Response): Promise<void>;
}
