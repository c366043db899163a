import { AsyncLocalStorage } from 'node:async_hooks';
import { Role } from '@studiovault/contracts';

export interface Actor {
  userId: string;
  email: string;
  role: Role;
  via: 'session' | 'token' | 'system';
  sessionId?: string;
  tokenId?: string;
}

export interface RequestContext {
  requestId?: string;
  ip?: string;
  actor?: Actor;
}

/** Who is acting and on which request: read by the audit log without threading it through every call. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

export function currentContext(): RequestContext {
  return requestContext.getStore() ?? {};
}
