/**
 * The subscriber connection of a Redis store on a Redis Cluster. Classic PUBLISH reaches every
 * node, so one plain connection to any node hears every channel; this keeps one, and moves it
 * to another node when its node stops answering, taking the channels along.
 *
 * Not ioredis' own cluster subscriber (Cluster#subscribe): its connection never retries, and
 * with every node down it picks a new one at once, over and over, a tight loop that keeps a CPU
 * core busy in every provider process for the whole outage.
 */
import { Redis, type Cluster } from 'ioredis';
import type { HostPort } from './redis-connection.js';

export interface ClusterSubscriberOptions {
  cluster: Cluster;
  /** The configured seed nodes: where to go before the cluster has told us its nodes. */
  seeds: HostPort[];
  connectionName: string;
  /** Every channel the store listens on now (a replacement connection subscribes them all). */
  channels: () => string[];
  /** Attaches the store's message and error handlers to each new connection. */
  setup: (connection: Redis) => void;
  /** How long subscribe() keeps trying other nodes. */
  deadlineMs: number;
}

export interface ClusterSubscriber {
  /** SUBSCRIBE, on the next node if the current one does not answer, until the deadline. */
  subscribe(channel: string): Promise<void>;
  /** UNSUBSCRIBE on the current connection, if there is one. */
  unsubscribe(channel: string): Promise<void>;
  close(): Promise<void>;
}

/** Nodes subscribe() tries before it gives up (each try takes ~0.6 s when a node refuses). */
const MAX_ATTEMPTS = 3;
/** Pause before replacing a connection that gave up, so a full outage costs no CPU to speak of. */
const REPLACE_AFTER_MS = 1_000;

export function createClusterSubscriber(opts: ClusterSubscriberOptions): ClusterSubscriber {
  let current: Redis | undefined;
  let replacing: NodeJS.Timeout | undefined;
  let turn = 0;
  let closed = false;

  /** Nodes the cluster is talking to right now first, then any it knows, then the seeds. */
  function nextNode(): HostPort {
    const known = opts.cluster.nodes('all');
    const ready = known.filter((node) => node.status === 'ready');
    const candidates = (ready.length ? ready : known).map(({ options }) => ({ host: options.host!, port: options.port! }));
    const list = candidates.length ? candidates : opts.seeds;
    return list[turn++ % list.length];
  }

  function connection(): Redis {
    if (current) return current;
    clearTimeout(replacing);
    const { host, port } = nextNode();
    const created = new Redis({
      ...opts.cluster.options.redisOptions, // credentials, TLS, timeouts
      host,
      port,
      connectionName: opts.connectionName,
      enableOfflineQueue: true,
      // A few quick tries on this node (a restart, a blip), then give up and move on.
      retryStrategy: (times) => (times > 3 ? null : times * 200),
    });
    opts.setup(created);
    created.on('end', () => retire(created, REPLACE_AFTER_MS));
    // ioredis re-subscribes only within one connection; a replacement starts from nothing.
    const channels = opts.channels();
    if (channels.length) created.subscribe(...channels).catch(() => undefined); // failing: 'end', next node
    current = created;
    return created;
  }

  /**
   * Stop using this connection; with channels to hear, open the next one after `delayMs`. Not
   * through disconnect() and its 'end' event: between reconnect attempts ioredis never emits it.
   */
  function retire(retired: Redis, delayMs: number | null): void {
    if (current !== retired) return;
    current = undefined;
    retired.disconnect();
    if (closed || delayMs === null || opts.channels().length === 0) return;
    clearTimeout(replacing);
    replacing = setTimeout(() => {
      if (!closed && !current && opts.channels().length > 0) connection();
    }, delayMs).unref();
  }

  // The cluster dropped this node (it died, or left the cluster): move now rather than sit on a
  // node that no longer hears what the others publish.
  const onNodeGone = (node: Redis) => {
    if (current && node.options.host === current.options.host && node.options.port === current.options.port) retire(current, 0);
  };
  opts.cluster.on('-node', onNodeGone);

  return {
    async subscribe(channel) {
      const deadline = Date.now() + opts.deadlineMs;
      for (let attempt = 1; ; attempt++) {
        const used = connection(); // synchronously: keeps SUBSCRIBE/UNSUBSCRIBE in call order
        try {
          await used.subscribe(channel);
          return;
        } catch (error) {
          if (closed || attempt >= MAX_ATTEMPTS || Date.now() >= deadline) throw error;
          retire(used, null); // the next turn of the loop opens the next node's connection
        }
      }
    },

    async unsubscribe(channel) {
      if (current) await current.unsubscribe(channel);
    },

    async close() {
      closed = true;
      clearTimeout(replacing);
      opts.cluster.off('-node', onNodeGone);
      const last = current;
      current = undefined;
      if (last?.status === 'ready') await last.quit().catch(() => last.disconnect());
      else last?.disconnect();
    },
  };
}
