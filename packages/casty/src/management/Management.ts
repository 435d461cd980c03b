// Management: the HTTP endpoint of one node (`clustered({ management: { host, port } })`), on node:http. It
// serves, for orchestrators, GET /alive and /ready; for people and scripts, /cluster/members, /cluster/events,
// /cluster/nodes (every member with its figures) and /metrics (Prometheus); and the dashboard at /. Each
// request does a bounded amount of work: it reads snapshots, never walks actors, and the cluster-wide view is
// collected at most once per second whatever the number of clients.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ExtensionKey, ExtensionNotFoundError } from '@casty/core';
import type { ActorSystem, SystemExtension } from '@casty/core';
import { ClusterMembership, formatAddress } from '@casty/cluster';
import { isLoopbackHost } from '@casty/cluster/internal';
import type { ClusteredActorSystem } from '@casty/cluster';
import { ClusterView } from './ClusterView';
import { DASHBOARD_HTML } from './dashboard';
import { ManagementBindError } from './errors';
import type { ResolvedManagementOptions } from './ManagementOptions';
import { renderMetrics } from './metrics';
import { Monitoring } from './Monitoring';

type Body = { readonly type: string; readonly text: string; readonly status?: number };
type Route = (url: URL) => Body | Promise<Body>;

const JSON_TYPE = 'application/json; charset=utf-8';
const ALLOW = 'GET, HEAD';
/** A member has this long to report its figures to a collection of the cluster view. */
const NODE_STATS_TIMEOUT_MS = 1_000;
/** A collection of the cluster view serves every request for this long. */
const NODE_STATS_MAX_AGE_MS = 900;

const json = (value: unknown, status = 200): Body => ({ type: JSON_TYPE, text: `${JSON.stringify(value, null, 2)}\n`, status });

export class Management implements SystemExtension {
  static readonly key = new ExtensionKey<Management>('casty.management');

  /** The management endpoint of `system`; throws ExtensionNotFoundError, saying how to enable it, when it has none. */
  static of(system: ActorSystem): Management {
    return system.requireExtension(Management.key, "start the node with clustered({ management: { port: 8558 } }) " +
      '(port 0 picks a free one) to serve its management endpoint');
  }

  private readonly view: ClusterView;
  private readonly routes: ReadonlyMap<string, Route>;
  private readonly token: Buffer | undefined;
  private address: AddressInfo | undefined;

  private constructor(private readonly system: ClusteredActorSystem, private readonly monitoring: Monitoring,
    private readonly server: Server, options: ResolvedManagementOptions) {
    this.token = options.token === undefined ? undefined : Buffer.from(options.token);
    this.view = new ClusterView(system, monitoring, { timeoutMs: NODE_STATS_TIMEOUT_MS, maxAgeMs: NODE_STATS_MAX_AGE_MS });
    this.routes = new Map<string, Route>([
      ['/', () => ({ type: 'text/html; charset=utf-8', text: DASHBOARD_HTML })],
      ['/alive', () => json({ alive: true, nodeId: system.nodeId })],
      ['/ready', () => {
        const reason = this.notReadyBecause();
        return json(reason === undefined ? { ready: true, nodeId: system.nodeId } : { ready: false, nodeId: system.nodeId, reason },
          reason === undefined ? 200 : 503);
      }],
      ['/cluster/members', () => json({ self: system.nodeId, members: this.members() })],
      ['/cluster/events', (url) => {
        const after = Number(url.searchParams.get('after') ?? 0);
        return Number.isInteger(after) && after >= 0
          ? json({ self: system.nodeId, events: this.monitoring.events(after) })
          : json({ error: `after must be a whole number >= 0 (the seq of the last event seen), got '${url.searchParams.get('after')}'` }, 400);
      }],
      ['/cluster/nodes', async () => json({ self: system.nodeId, at: monitoring.now(), ready: this.notReadyBecause() === undefined,
        nodes: await this.view.nodes() })],
      ['/metrics', () => ({ type: 'text/plain; version=0.0.4; charset=utf-8', text: renderMetrics(monitoring.snapshot(),
        ClusterMembership.of(system).swim.members(), this.notReadyBecause() === undefined) })],
    ]);
  }

  /**
   * Starts the endpoint of `system` (a node composed with Monitoring) and registers it; it closes in shutdown
   * phase 'close', so /ready answers 503 through the hand-off and the leave.
   */
  static async start(system: ClusteredActorSystem, options: ResolvedManagementOptions): Promise<Management> {
    const monitoring = Monitoring.of(system);
    if (monitoring === undefined) {
      throw new ExtensionNotFoundError(`The management endpoint needs the node's monitoring extension, which '${system.nodeId}' ` +
        'lacks: start the node with clustered() or startNode(), which compose it');
    }
    const server = createServer();
    const management = new Management(system, monitoring, server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => management.handle(req, res));
    // Bounds on what a client can hold: slow headers, idle keep-alive connections.
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new ManagementBindError(formatAddress(options), error)));
      server.listen(options.port, options.host, () => resolve());
    });
    server.on('error', (error) => system.logger.error(`Management endpoint of '${system.nodeId}' failed`, error));
    management.address = server.address() as AddressInfo;
    system.registerExtension(Management.key, management);
    if (options.token === undefined && !isLoopbackHost(options.host)) {
      system.logger.warn(`The management endpoint of '${system.nodeId}' listens on ${management.url} without a token ` +
        '(management.insecure): anyone who can reach it can read the cluster');
    }
    return management;
  }

  /** Where it listens, with the port actually bound (so port 0 can be read back). */
  get host(): string {
    return this.address!.address;
  }

  get port(): number {
    return this.address!.port;
  }

  /** `http://host:port` of the endpoint; the dashboard is at `${url}/`. */
  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}`;
  }

  /** Undefined when ready: joined the cluster, with quorum, and not shutting down. Else why not. */
  private notReadyBecause(): string | undefined {
    if (this.system.isShuttingDown) return 'shutting down';
    const membership = ClusterMembership.of(this.system);
    if (!membership.isJoined) return 'not joined yet: no seed has answered';
    if (!membership.hasQuorum) {
      return `no quorum (${membership.quorum.lossReason ?? 'lost'}): this node hosts no entities or singletons until it reaches a ` +
        'quorum of the cluster again';
    }
    return undefined;
  }

  private members(): object[] {
    const members = ClusterMembership.of(this.system).swim.members().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return members.map((m) => ({ nodeId: m.id, address: formatAddress(m.address), state: m.state, incarnation: m.incarnation,
      self: m.id === this.system.nodeId }));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://management');
    } catch {
      // a request target no URL parser takes (it must not throw out of the handler and take the node down)
      res.writeHead(400, { 'content-type': JSON_TYPE }).end(`${JSON.stringify({ error: 'malformed request target' })}\n`);
      return;
    }
    const route = this.routes.get(url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname);
    const reply = (body: Body, headers: Record<string, string> = {}): void => {
      res.writeHead(body.status ?? 200, { 'content-type': body.type, 'content-length': Buffer.byteLength(body.text),
        'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body.text);
    };
    if (route === undefined) {
      reply(json({ error: `no such path: ${url.pathname}; the paths are ${[...this.routes.keys()].join(', ')}` }, 404));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(json({ error: `${req.method} is not allowed on ${url.pathname}; use GET or HEAD` }, 405), { allow: ALLOW });
      return;
    }
    // The page itself holds no data (it reads the token from its URL's fragment, which browsers never send);
    // health checks tell nothing but up or down, and orchestrators probe them without secrets.
    const open = url.pathname === '/' || url.pathname === '/alive' || url.pathname === '/ready';
    if (!open && !this.authorized(req)) {
      reply(json({ error: 'this endpoint needs management.token: send Authorization: Bearer <token>' }, 401),
        { 'www-authenticate': 'Bearer realm="casty"' });
      return;
    }
    const headers = url.pathname === '/'
      // nothing is loaded from elsewhere, and the page may not be framed
      ? { 'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
        "connect-src 'self'; img-src data:; frame-ancestors 'none'" }
      : {};
    Promise.resolve(route(url)).then((body) => reply(body, headers), (error: unknown) => {
      this.system.logger.error(`Management endpoint of '${this.system.nodeId}': GET ${url.pathname} failed`, error);
      reply(json({ error: `internal error: ${error instanceof Error ? error.message : String(error)}` }, 500));
    });
  }

  private authorized(req: IncomingMessage): boolean {
    if (this.token === undefined) return true;
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (match === null) return false;
    const given = Buffer.from(match[1]!);
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  /** Shutdown phase 'close' (SystemExtension): until then /ready answers 503, through the hand-off and the leave. */
  afterShutdown(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
