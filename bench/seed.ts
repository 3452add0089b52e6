/**
 * What a login needs before it can start, made the way an operator and people would: the app
 * through the running provider's admin socket, the users through the phone API.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Phone } from './flows.js';

export const REDIRECT_URI = 'http://127.0.0.1:5999/callback';

/** POST /api/admin/apps on the admin socket (DATA_DIR/admin.sock). */
export function createApp(socketPath: string): Promise<{ appId: string; appSecret: string }> {
  // ES256 as every app had before new apps defaulted to RS256, so runs compare with bench/README's.
  const body = JSON.stringify({ name: 'Bench Site', redirectUris: [REDIRECT_URI], idTokenSignedResponseAlg: 'ES256' });
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: '/api/admin/apps', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text)) : reject(new Error(`create app: HTTP ${res.statusCode} ${text}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** `count` people, each registered and signed in on a phone (a device token each). */
export async function signedInPhones(origin: string, count: number): Promise<Phone[]> {
  const run = randomBytes(3).toString('hex');
  const password = 'bench password 1';
  const phones: Phone[] = new Array(count);
  let next = 0;
  // Registration and sign-in hash passwords (scrypt): a few at a time.
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const username = `bench_${run}_${i}`;
      await post(`${origin}/api/mobile/register`, { username, password, nickname: `Bench ${i}` });
      const { token } = await post(`${origin}/api/mobile/login`, { username, password, deviceName: 'bench phone' });
      phones[i] = { token: String(token) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, count) }, worker));
  return phones;
}
