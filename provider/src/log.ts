import { pino } from 'pino';

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
const SECRET_KEY = /^(password|passwordhash|secret|appsecret|client_?secret|token|access_?token|refresh_?token|id_?token|code_?verifier|authorization|cookie|set-cookie)$/i;

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
    formatters: { log: (object) => scrub(object, 0) as Record<string, unknown> },
  };
  return destination ? pino(options, destination) : pino(options);
}
