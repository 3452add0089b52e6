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

export type Logger = pino.Logger;

export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, redact: { paths: redact, censor: '[redacted]' }, base: { service: 'saoma' } });
}
