/**
 * What an identity source's servers may send us: a key set or a discovery document is a few
 * kilobytes (a dozen RSA keys ~ 10 KB). Without a bound, a source's server (misconfigured, or
 * taken over) could make every instance hold whatever it sends in memory.
 */
export const MAX_SOURCE_DOCUMENT_BYTES = 256 * 1024;

/**
 * fetch for jose's remote key sets and openid-client's discovery, token and JWKS requests:
 * refuses a response over MAX_SOURCE_DOCUMENT_BYTES, by its Content-Length or as it streams.
 */
export async function boundedFetch(url: string, init: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_SOURCE_DOCUMENT_BYTES) {
    await res.body?.cancel();
    throw new Error(`${url} answered ${declared} bytes, over the ${MAX_SOURCE_DOCUMENT_BYTES} allowed`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_SOURCE_DOCUMENT_BYTES) throw new Error(`${url} answered over the ${MAX_SOURCE_DOCUMENT_BYTES} bytes allowed`);
    chunks.push(chunk);
  }
  // A body only where one is allowed (null-body statuses such as 204 and 304 take none).
  const body = [101, 204, 205, 304].includes(res.status) ? null : Buffer.concat(chunks);
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}
