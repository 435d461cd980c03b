// A real HTTP request with node:http, for the management endpoint's tests: status, headers and body. Each on a
// connection of its own (no keep-alive agent), so a request after the endpoint closed is refused, not reset.

import { request } from 'node:http';
import { createServer } from 'node:net';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function http(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET `url` and parse its JSON body. */
export async function getJson<T = Record<string, unknown>>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const reply = await http(url, { headers });
  if (reply.status !== 200) throw new Error(`GET ${url} answered ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body) as T;
}

/** A port nothing listens on now: bound by a server that is closed again. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
