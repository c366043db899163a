/** Socket errors of a database server that is not there, or went away mid-query (restarting, killed). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET']);

/**
 * Postgres SQLSTATEs of a lost server: 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
 * connect now (starting up, recovering), class 08 connection exceptions.
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

const MESSAGES = [
  /Connection terminated/i,
  /connection is not open/i,
  /Client has encountered a connection error/i,
  /Cannot use a pool after calling end/i,
  /timeout exceeded when trying to connect/i,
  /the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)/i,
  /Driver not Connected/i,
  /terminating connection due to administrator command/i,
];

/**
 * True when `err` (or what caused it, as TypeORM's QueryFailedError wraps the driver's error)
 * says the database connection is lost, not that the query was wrong: the request can be tried
 * again once the database is back.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || SQLSTATES.has(e.code))) return true;
  if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1))) return true; // AggregateError
  return isDatabaseUnavailable(e.driverError, depth + 1) || isDatabaseUnavailable(e.cause, depth + 1);
}
