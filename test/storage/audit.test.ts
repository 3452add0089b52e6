import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createAudit } from '../../provider/src/accounts/audit.js';
import { openDatabase, type Database } from '../../provider/src/storage/database.js';
import { createTestDatabase, skipUnlessPostgres } from '../support/services.js';

/** The audit trail is group-committed (accounts/audit.ts); on both databases the product runs on. */
const backends: Array<[string, () => Promise<{ db: Database; done: () => Promise<void> }>, boolean]> = [
  [
    'PGlite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-audit-'));
      const db = await openDatabase({ dataDir: dir, inMemory: true });
      return {
        db,
        done: async () => {
          await db.close();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    false,
  ],
  [
    'PostgreSQL',
    async () => {
      const made = await createTestDatabase();
      const db = await openDatabase({ databaseUrl: made.url, dataDir: os.tmpdir() });
      return {
        db,
        done: async () => {
          await db.close();
          await made.drop();
        },
      };
    },
    await skipUnlessPostgres(),
  ],
];

describe.each(backends)('audit trail on %s', (_name, open, skip) => {
  const opened: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const done of opened) await done();
  });

  it.skipIf(skip)('stores every one of 300 concurrent events, in fewer statements, each resolved only once stored', async () => {
    const { db, done } = await open();
    opened.push(done);
    const errors: unknown[] = [];
    const audit = createAudit(db.prisma, pino({ level: 'silent' }));
    // Count the INSERTs the audit sends (its only statement) on the very client it uses.
    let inserts = 0;
    const raw = db.prisma.$executeRaw.bind(db.prisma);
    (db.prisma as { $executeRaw: typeof raw }).$executeRaw = ((...args: Parameters<typeof raw>) => (inserts++, raw(...args))) as typeof raw;

    const events = Array.from({ length: 300 }, (_, i) => i);
    await Promise.all(
      events.map(async (i) => {
        await audit.record('qr.scanned', { userId: 'usr_group', appId: `app_${i % 3}`, detail: { i } });
        // Resolved means stored: this event is readable at once.
        const row = await db.prisma.auditEvent.findFirst({ where: { userId: 'usr_group', detail: { path: ['i'], equals: i } } });
        if (!row) errors.push(i);
      }),
    );
    expect(errors).toEqual([]);
    expect(await db.prisma.auditEvent.count({ where: { userId: 'usr_group' } })).toBe(300);
    expect(inserts).toBeGreaterThan(0);
    expect(inserts).toBeLessThan(300);
  });

  it.skipIf(skip)('keeps the good rows of a batch with a row the database refuses, and logs that one', async () => {
    const { db, done } = await open();
    opened.push(done);
    const logged: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
    const audit = createAudit(db.prisma, log);
    await Promise.all([
      audit.record('qr.scanned', { userId: 'usr_batch', detail: { n: 1 } }),
      audit.record('qr.confirmed', { userId: 'usr_batch', userAgent: 'bad \u0000 agent' }), // text refuses NUL
      audit.record('login.completed', { userId: 'usr_batch', detail: { n: 3 } }),
    ]);
    const rows = await db.prisma.auditEvent.findMany({ where: { userId: 'usr_batch' }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => r.type)).toEqual(['qr.scanned', 'login.completed']);
    expect(logged.some((l) => l.includes('audit write failed') && l.includes('qr.confirmed'))).toBe(true);
    // Event time is when it was recorded, in UTC, whatever the server's time zone.
    expect(Math.abs(rows[0].at.getTime() - Date.now())).toBeLessThan(60_000);
  });
});
