import { describe, expect, it } from 'vitest';
import { Prisma } from '../storage/generated/client.ts';
import { isOutage, outageSource } from './outage.js';

describe('outageSource', () => {
  it('names the service an outage is of, from the driver that reported it', () => {
    expect(outageSource(new Prisma.PrismaClientKnownRequestError("Can't reach database server", { code: 'P1001', clientVersion: '7' }))).toBe('database');
    expect(outageSource(Object.assign(new Error('x'), { name: 'DriverAdapterError', cause: { kind: 'DatabaseNotReachable' } }))).toBe('database');
    expect(outageSource(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe('database');
    expect(outageSource(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }))).toBe('store');
    expect(outageSource(new Error('Connection is closed.'))).toBe('store');
    expect(outageSource(new Error('wrapped', { cause: new Error('Command timed out') }))).toBe('store');
    expect(outageSource(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe('unknown');
  });

  it('is null for errors that are not outages (bugs, bad input, a unique violation)', () => {
    expect(outageSource(new TypeError('x is undefined'))).toBeNull();
    expect(outageSource(new Prisma.PrismaClientKnownRequestError('Unique constraint failed', { code: 'P2002', clientVersion: '7' }))).toBeNull();
    expect(outageSource(Object.assign(new Error('x'), { name: 'DriverAdapterError', cause: { kind: 'postgres', code: '23505' } }))).toBeNull();
    expect(outageSource(undefined)).toBeNull();
    expect(isOutage(new Error('Connection terminated unexpectedly'))).toBe(true);
  });
});
