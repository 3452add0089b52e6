/**
 * --waiting N: one provider instance holding N QR pages open on SSE, as N people looking at the
 * QR code before they pick up their phone. Reports what they cost the instance (RSS, event-loop
 * delay, Redis connections and subscriptions) and how fast a confirm still reaches its page.
 */
import path from 'node:path';
import { freePort, startLoad, startServer, type LoadChild, type ServerChild } from './children.js';
import type { Site } from './flows.js';
import type { ProcessStats } from './instrument.js';
import { machine, openFileLimit, treeUsage } from './proc.js';
import { percentile } from './report.js';
import type { BenchContext } from './run.js';
import { createApp, REDIRECT_URI, signedInPhones } from './seed.js';

export interface WaitingOptions {
  count: number;
  clients: number;
  setupConcurrency: number;
  qrTtl: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const loopOf = (stats: ProcessStats[]) => stats[0].loopDelay;

/** Sequential logins (one at a time) for `seconds`: confirm → notified while the pages wait. */
async function probeLogins(server: ServerChild, site: Site, phones: { token: string }[], seconds: number) {
  const load = startLoad();
  try {
    load.send({ type: 'run', flow: 'qr', origin: server.url, site, phones, concurrency: 1, warmupMs: 500, durationMs: seconds * 1000 });
    let during: ProcessStats[] = [];
    const { result } = await load.next('result', async (phase) => {
      const stats = await server.stats(phase === 'start');
      if (phase === 'end') during = stats;
    });
    return {
      logins: result.logins,
      errors: result.errors,
      errorSamples: result.errorSamples,
      notifyMs: { p50: percentile(result.notifyMs, 50), p99: percentile(result.notifyMs, 99), max: percentile(result.notifyMs, 100) },
      loginMs: { p50: percentile(result.totalMs, 50), p99: percentile(result.totalMs, 99) },
      loopDelayMs: loopOf(during),
    };
  } finally {
    await load.stop();
  }
}

export async function runWaiting(ctx: BenchContext, opts: WaitingOptions) {
  const port = await freePort();
  ctx.log(`[bench] machine: ${JSON.stringify(machine())}`);
  ctx.log(`[bench] waiting pages: ${opts.count} over ${opts.clients} client process(es), ${opts.setupConcurrency} set up at once, QR_TTL ${opts.qrTtl} s`);
  // --expose-gc: after the raw RSS, the heap is read after a full GC too (retained, not garbage).
  // One socket per page in the server, and in each client process its share (+ slack for the rest).
  const limit = openFileLimit();
  if (limit < opts.count + 512)
    throw new Error(`ulimit -n is ${limit}: the server cannot hold ${opts.count} streams; raise it (ulimit -n ${opts.count + 1024})`);
  if (limit < opts.count / opts.clients + 512)
    throw new Error(`ulimit -n is ${limit}: use more client processes (--clients ${Math.ceil(opts.count / (limit - 512))})`);
  ctx.log(`[bench] ulimit -n ${limit}`);
  const server = await startServer('saoma', ctx.saomaEnv(port, { QR_TTL: opts.qrTtl }), 1, ['--expose-gc']);
  const clients: LoadChild[] = [];
  try {
    const app = await createApp(path.join(ctx.tmp, 'saoma', 'w1', 'admin.sock'));
    const site: Site = { clientId: app.appId, clientSecret: app.appSecret, redirectUri: REDIRECT_URI, scope: 'openid profile' };
    const phones = await signedInPhones(server.url, 2);

    const before = await probeLogins(server, site, phones, 3); // also warms the JIT and the pools
    await sleep(2000);
    const rssBefore = treeUsage(server.pid).rssBytes;
    const statsBefore = (await server.stats(false, true))[0];
    const heapBefore = statsBefore.heapUsedBytes;
    const connectionsBefore = await ctx.probe?.connections();

    const started = performance.now();
    for (let i = 0; i < opts.clients; i++) clients.push(startLoad());
    const share = (i: number) => Math.floor(opts.count / opts.clients) + (i < opts.count % opts.clients ? 1 : 0);
    const held = await Promise.all(
      clients.map((c, i) => {
        const done = c.next('held');
        c.send({ type: 'hold', origin: server.url, site, count: share(i), setupConcurrency: Math.ceil(opts.setupConcurrency / opts.clients) });
        return done;
      }),
    );
    const setupSeconds = (performance.now() - started) / 1000;
    const opened = held.reduce((t, h) => t + h.opened, 0);
    ctx.log(`[bench] ${opened} pages open (${held.reduce((t, h) => t + h.failed, 0)} failed) in ${setupSeconds.toFixed(1)} s`);

    await sleep(3000);
    await server.stats(true);
    await sleep(5000);
    const idle = loopOf(await server.stats(false));
    const rssWaiting = treeUsage(server.pid).rssBytes;
    const statsWaiting = (await server.stats(false, true))[0];
    const heapWaiting = statsWaiting.heapUsedBytes;
    const rssWaitingAfterGc = treeUsage(server.pid).rssBytes;
    const connections = await ctx.probe?.connections();
    const during = await probeLogins(server, site, phones, 5);

    await Promise.all(
      clients.map((c) => {
        const done = c.next('released');
        c.send({ type: 'release' });
        return done;
      }),
    );
    // Every page's subscription must go when its page goes: wait (up to 60 s) until they have.
    const released = performance.now();
    let connections_ = await ctx.probe?.connections();
    while (connections_ && connectionsBefore && connections_.subscriptions > connectionsBefore.subscriptions && performance.now() - released < 60_000) {
      await sleep(500);
      connections_ = await ctx.probe?.connections();
    }
    const after = { rssMB: mb(treeUsage(server.pid).rssBytes), connections: connections_, drainSeconds: Math.round((performance.now() - released) / 100) / 10 };

    const result = {
      pages: opts.count,
      opened,
      failed: held.reduce((t, h) => t + h.failed, 0),
      errorSamples: held.flatMap((h) => h.errorSamples),
      setupSeconds: Math.round(setupSeconds * 10) / 10,
      setupPagesPerSecond: Math.round(opened / setupSeconds),
      rssBeforeMB: mb(rssBefore),
      rssWaitingMB: mb(rssWaiting),
      kbPerWaitingPage: opened ? Math.round(((rssWaiting - rssBefore) / opened / 1024) * 10) / 10 : null,
      rssWaitingAfterGcMB: mb(rssWaitingAfterGc),
      heapBeforeMB: mb(heapBefore),
      heapWaitingMB: mb(heapWaiting),
      heapSpacesWaitingMB: Object.fromEntries(Object.entries(statsWaiting.heapSpacesBytes).map(([k, v]) => [k, mb(v)])),
      heapTotalBeforeMB: mb(statsBefore.heapTotalBytes),
      heapTotalWaitingMB: mb(statsWaiting.heapTotalBytes),
      externalBeforeMB: mb(statsBefore.externalBytes),
      externalWaitingMB: mb(statsWaiting.externalBytes),
      heapKbPerWaitingPage: opened ? Math.round(((heapWaiting - heapBefore) / opened / 1024) * 10) / 10 : null,
      loopDelayWaitingMs: idle,
      redisBefore: connectionsBefore ?? null,
      redisWaiting: connections ?? null,
      confirmNotifiedBeforeMs: before.notifyMs,
      confirmNotifiedWaitingMs: during.notifyMs,
      probeLoginsWhileWaiting: {
        logins: during.logins,
        errors: during.errors,
        errorSamples: during.errorSamples,
        loginMs: during.loginMs,
        loopDelayMs: during.loopDelayMs,
      },
      afterRelease: after,
    };
    ctx.log(report(result));
    return result;
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
    await server.stop();
  }
}

function report(r: Awaited<ReturnType<typeof runWaiting>> extends infer T ? T : never): string {
  const lines = [
    `\nWaiting QR pages on one instance`,
    `pages open                 ${r.opened} of ${r.pages} (${r.failed} failed), set up in ${r.setupSeconds} s (${r.setupPagesPerSecond}/s)`,
    `server RSS                 ${r.rssBeforeMB} MB before -> ${r.rssWaitingMB} MB waiting (${r.kbPerWaitingPage} KB per page); ${r.rssWaitingAfterGcMB} MB after a full GC; ${r.afterRelease.rssMB} MB after release`,
    `JS heap after full GC      ${r.heapBeforeMB} MB before -> ${r.heapWaitingMB} MB waiting (${r.heapKbPerWaitingPage} KB per page)`,
    `V8 spaces while waiting    ${Object.entries(r.heapSpacesWaitingMB)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} MB`,
    `V8 heap reserved, external ${r.heapTotalBeforeMB} -> ${r.heapTotalWaitingMB} MB; external (Buffers, native) ${r.externalBeforeMB} -> ${r.externalWaitingMB} MB`,
    `event-loop delay (waiting) p50 ${r.loopDelayWaitingMs.p50} ms, p99 ${r.loopDelayWaitingMs.p99} ms, max ${r.loopDelayWaitingMs.max} ms`,
    `event-loop delay (probes)  p50 ${r.probeLoginsWhileWaiting.loopDelayMs.p50} ms, p99 ${r.probeLoginsWhileWaiting.loopDelayMs.p99} ms, max ${r.probeLoginsWhileWaiting.loopDelayMs.max} ms`,
    r.redisWaiting
      ? `redis                      ${r.redisWaiting.cmd} command + ${r.redisWaiting.sub} subscriber connection(s); subscriber holds ${r.redisWaiting.subscriptions} channels (PUBSUB CHANNELS: ${r.redisWaiting.channels}); after release: ${r.afterRelease.connections?.subscriptions} channels (${r.afterRelease.drainSeconds} s to unsubscribe)`
      : 'redis                      - (embedded: in-memory store)',
    `confirm -> notified        before: p50 ${r.confirmNotifiedBeforeMs.p50.toFixed(2)} / p99 ${r.confirmNotifiedBeforeMs.p99.toFixed(2)} ms; while waiting: p50 ${r.confirmNotifiedWaitingMs.p50.toFixed(2)} / p99 ${r.confirmNotifiedWaitingMs.p99.toFixed(2)} / max ${r.confirmNotifiedWaitingMs.max.toFixed(2)} ms (${r.probeLoginsWhileWaiting.logins} logins, ${r.probeLoginsWhileWaiting.errors} errors)`,
    `targets (issue 7)          RSS <= 256 MB: ${r.rssWaitingMB <= 256 ? 'met' : 'MISSED'}; one subscriber connection: ${r.redisWaiting ? (r.redisWaiting.sub === 1 ? 'met' : 'MISSED') : 'n/a'}`,
  ];
  if (r.errorSamples.length) lines.push(`setup errors: ${r.errorSamples.join(' | ')}`);
  return lines.join('\n');
}
