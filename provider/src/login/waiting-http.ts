import type { Request, Response } from 'express';
import { z } from 'zod';
import { parseWith } from '../http/guard.js';
import { ipKey } from '../http/rate-limit.js';
import type { Logins } from './login.js';
import type { QrSnapshot } from './store.js';

/**
 * The HTTP shape of waiting on a login, shared by every surface that shows a QR (API.md §2):
 * `…/events` (Server-Sent Events) and `…/status?last&wait` (long-poll). The surface checks who
 * may wait on which login; this only speaks HTTP to events.ts.
 */
const statusQuery = z.object({
  last: z.enum(['pending', 'scanned', 'confirmed', 'denied', 'expired']).optional(),
  wait: z.coerce.number().min(0).max(30).default(25),
});

/** A snapshot as JSON: `expiresAt` as an ISO date. */
export const snapshotJson = (s: QrSnapshot) => ({ ...s, expiresAt: new Date(s.expiresAt).toISOString() });

function closedSignal(req: Request): AbortSignal {
  const closed = new AbortController();
  req.once('close', () => closed.abort());
  return closed.signal;
}

/** Long-poll: 200 with the snapshot; null (no QR) is the caller's to answer. */
export async function longPoll(logins: Logins, id: string, req: Request): Promise<ReturnType<typeof snapshotJson> | null> {
  const { last, wait } = parseWith(statusQuery, req.query);
  const snapshot = await logins.watch(id, { address: ipKey(req.ip), closed: closedSignal(req), last, waitMs: wait * 1000 });
  return snapshot && snapshotJson(snapshot);
}

/** Server-Sent Events: `event: status` per change, a comment every 20 s against idle proxies. */
export async function eventStream(logins: Logins, id: string, req: Request, res: Response): Promise<void> {
  let heartbeat: NodeJS.Timeout | undefined;
  const closed = closedSignal(req);
  closed.addEventListener('abort', () => clearInterval(heartbeat), { once: true });
  await logins.stream(id, {
    address: ipKey(req.ip),
    closed,
    open() {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no', // nginx: do not buffer the stream
      });
      res.write('retry: 2000\n\n');
      heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 20_000);
    },
    send: (s) => void res.write(`event: status\ndata: ${JSON.stringify(snapshotJson(s))}\n\n`),
    end() {
      clearInterval(heartbeat);
      res.end();
    },
  });
}
