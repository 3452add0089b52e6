/**
 * How the environment chooses Redis (config.ts → `config.redis`): REDIS_URL alone, Sentinel
 * (REDIS_SENTINELS) or Cluster (REDIS_CLUSTER_NODES), and the errors for what cannot work.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../provider/src/config.js';
import { parseHostPortList } from '../../provider/src/storage/redis-connection.js';

const config = (env: Record<string, string>) => loadConfig({ DATA_DIR: '/tmp/saoma-config-test', ...env });

describe('Redis settings from the environment', () => {
  it('no Redis variable: the in-memory store (config.redis is null)', () => {
    expect(config({}).redis).toBeNull();
  });

  it('REDIS_URL alone: one server, the URL kept as it is', () => {
    expect(config({ REDIS_URL: 'rediss://:pw@cache.example:6380/2' }).redis).toEqual({ mode: 'single', url: 'rediss://:pw@cache.example:6380/2' });
  });

  it('REDIS_SENTINELS: a host:port list (default port 26379, IPv6 bracketed), group name default mymaster', () => {
    const c = config({ REDIS_SENTINELS: '10.0.0.1:26380, sentinel-b ,[::1]:5000,', REDIS_URL: 'redis://:pw@ignored/1' });
    expect(c.redis).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26380 },
        { host: 'sentinel-b', port: 26379 },
        { host: '::1', port: 5000 },
      ],
      name: 'mymaster',
      sentinelPassword: undefined,
      url: 'redis://:pw@ignored/1',
    });
    expect(config({ REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'cache', REDIS_SENTINEL_PASSWORD: 'spw' }).redis).toMatchObject({
      name: 'cache',
      sentinelPassword: 'spw',
    });
  });

  it('REDIS_CLUSTER_NODES: a host:port list (default port 6379)', () => {
    expect(config({ REDIS_CLUSTER_NODES: 'node-1:7000,node-2' }).redis).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'node-1', port: 7000 },
        { host: 'node-2', port: 6379 },
      ],
      url: undefined,
    });
  });

  it('Sentinel and Cluster together are an error', () => {
    expect(() => config({ REDIS_SENTINELS: 's:26379', REDIS_CLUSTER_NODES: 'n:7000' })).toThrow(
      /^Invalid configuration:\n {2}REDIS_SENTINELS and REDIS_CLUSTER_NODES: set one or the other/,
    );
  });

  it('a list entry that is not host:port is an error naming the variable and the entry', () => {
    for (const [name, value, entry] of [
      ['REDIS_SENTINELS', 'a:26379,b:notaport', 'b:notaport'],
      ['REDIS_SENTINELS', 'redis://a:26379', 'redis://a:26379'],
      ['REDIS_CLUSTER_NODES', 'n:0', 'n:0'],
      ['REDIS_CLUSTER_NODES', 'n:65536', 'n:65536'],
      ['REDIS_CLUSTER_NODES', 'a b:7000', 'a b:7000'],
      ['REDIS_CLUSTER_NODES', '::1:7000', '::1:7000'],
    ]) {
      expect(() => config({ [name]: value }), `${name}=${value}`).toThrow(
        new RegExp(`^Invalid configuration:\\n {2}${name}: "${entry.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is not host:port`),
      );
    }
    expect(() => config({ REDIS_CLUSTER_NODES: ' , ' })).toThrow(/REDIS_CLUSTER_NODES: expected a comma-separated list of host:port/);
  });

  it('sentinel name or password without sentinels, a db with Cluster, a bad REDIS_URL with either: errors', () => {
    expect(() => config({ REDIS_SENTINEL_NAME: 'x', REDIS_URL: 'redis://r' })).toThrow(/REDIS_SENTINEL_NAME and REDIS_SENTINEL_PASSWORD need REDIS_SENTINELS/);
    expect(() => config({ REDIS_CLUSTER_NODES: 'n:7000', REDIS_URL: 'redis://:pw@x/3' })).toThrow(/REDIS_URL: Redis Cluster has only database 0/);
    const bad = () => config({ REDIS_SENTINELS: 's:1', REDIS_URL: 'http://user:hunter2@x' });
    expect(bad).toThrow(/REDIS_URL: unsupported Redis URL scheme "http:"/);
    expect(bad).not.toThrow(/hunter2/); // the message never repeats the URL's password
    expect(config({ REDIS_CLUSTER_NODES: 'n:7000', REDIS_URL: 'rediss://:pw@x/0' }).redis).toMatchObject({ mode: 'cluster' });
  });

  it('WORKERS > 1 accepts any of the three ways to Redis, and none', () => {
    const db = { DATABASE_URL: 'postgresql://x/y', WORKERS: '2' };
    expect(config({ ...db, REDIS_URL: 'redis://r' }).WORKERS).toBe(2);
    expect(config({ ...db, REDIS_SENTINELS: 's:26379' }).WORKERS).toBe(2);
    expect(config({ ...db, REDIS_CLUSTER_NODES: 'n:7000' }).WORKERS).toBe(2);
    expect(() => config(db)).toThrow(/WORKERS > 1 needs DATABASE_URL and Redis \(REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES/);
  });
});

describe('parseHostPortList', () => {
  it('trims, skips empty entries, applies the default port', () => {
    expect(parseHostPortList(' a:1 ,, b ', 99)).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 99 },
    ]);
  });
});
