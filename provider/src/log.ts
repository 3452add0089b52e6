import { AsyncLocalStorage } from 'node:async_hooks';
import { pino } from 'pino';

/**
 * The request being served, for code that has no `req` at hand: set once per request by
 * http/request-id.ts and read by every log line (the `requestId` mixin below) and every error
 * body. AsyncLocalStorage rather than a child logger passed down: the services hold the root
 * logger, and oidc-provider's handlers run inside our chain, so this reaches all of them.
 */
const requestContext = new AsyncLocalStorage<string>();

/** Runs `fn` as part of the request `requestId`. */
export const withRequestId = <T>(requestId: string, fn: () => T): T => requestContext.run(requestId, fn);

/** The id of the request being served, if any. */
export const currentRequestId = (): string | undefined => requestContext.getStore();

/** Paths that may carry secrets; pino replaces them so they never reach a log line. */
const redact = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.appSecret',
  '*.client_secret',
  '*.secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.code',
];

/** Keys masked at any depth (pino's `*.key` paths reach exactly one level down, never the top). */
const SECRET_KEY =
  /^(password|passwordhash|secret|appsecret|client_?secret|token|access_?token|refresh_?token|id_?token|code_?verifier|authorization|cookie|set-cookie)$/i;

function scrub(value: unknown, depth: number): unknown {
  // Errors go to pino's err serializer as they are; plain data is walked (bounded).
  if (depth > 8 || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : scrub(v, depth + 1)]));
}

export type Logger = pino.Logger;

/** `destination`: where lines go (default stdout); tests pass a stream to read them. */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: redact, censor: '[redacted]' },
    base: { service: 'saoma' },
    // Every line logged while serving a request names it, whichever logger wrote it.
    mixin: () => {
      const requestId = requestContext.getStore();
      return requestId ? { requestId } : {};
    },
    formatters: { log: (object) => scrub(object, 0) as Record<string, unknown> },
  };
  return destination ? pino(options, destination) : pino(options);
}
