// The `management` option of clustered(): where the HTTP endpoint listens and who may read it. Validated at
// the call, as every option of clustered(): users run tsx, which does not type-check.

import { InvalidArgumentError } from '@casty/core';
import { isLoopbackHost } from '@casty/cluster/internal';

/** `clustered({ management })`: the HTTP management endpoint and dashboard of this node. */
export interface ManagementOptions {
  /**
   * Interface to bind. Default '127.0.0.1': only this machine can read the endpoint. Any host but a loopback one
   * (127.0.0.0/8, ::1, localhost) needs `token`, or `insecure: true`, as the cluster port needs credentials.
   */
  readonly host?: string;
  /** Port to bind. Default 8558 (Akka Management's); 0 picks a free one (read it back from `Management.of(system).url`). */
  readonly port?: number;
  /**
   * A bearer token of at least 16 characters: every request but GET /alive and /ready must carry it
   * (`Authorization: Bearer <token>`; a browser opens the dashboard at `/?token=<token>`). It travels in clear
   * text over HTTP: off loopback, put the endpoint behind a TLS-terminating proxy or on a trusted network.
   */
  readonly token?: string;
  /** `true` lets the endpoint listen on a non-loopback host without a token (a trusted network only; logs a warning). */
  readonly insecure?: boolean;
}

/** The options, checked, with defaults filled in. */
export interface ResolvedManagementOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
}

/** Akka Management's port. */
export const DEFAULT_MANAGEMENT_PORT = 8558;
const MIN_TOKEN_LENGTH = 16;
const KEYS = ['host', 'port', 'token', 'insecure'];

function invalid(field: string, problem: string): InvalidArgumentError {
  return new InvalidArgumentError(`clustered() option management.${field} ${problem}`);
}

/** Checks `management` as given to clustered(); throws InvalidArgumentError naming the wrong field and the fix. */
export function resolveManagementOptions(management: unknown): ResolvedManagementOptions {
  if (management === null || typeof management !== 'object' || Array.isArray(management)) {
    throw new InvalidArgumentError(`clustered() option management must be an object { host?, port?, token?, insecure? }, ` +
      `got ${Array.isArray(management) ? 'an array' : JSON.stringify(management)}`);
  }
  const options = management as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw invalid(key, `is not an option; the options of management are ${KEYS.join(', ')}`);
  }
  const { host = '127.0.0.1', port = DEFAULT_MANAGEMENT_PORT, token, insecure } = options;
  if (typeof host !== 'string' || host.length === 0) throw invalid('host', `must be a host name or IP address, got ${JSON.stringify(host)}`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw invalid('port', `must be a whole number from 0 (a free port) to 65535, got ${JSON.stringify(port)}`);
  }
  if (token !== undefined && (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH)) {
    throw invalid('token', `must be a string of at least ${MIN_TOKEN_LENGTH} characters ` +
      `(got ${typeof token === 'string' ? `${token.length} characters` : typeof token}); generate one, e.g. ` +
      "with require('node:crypto').randomBytes(24).toString('base64url')");
  }
  if (insecure !== undefined && typeof insecure !== 'boolean') throw invalid('insecure', `must be true or false, got ${JSON.stringify(insecure)}`);
  if (token === undefined && !isLoopbackHost(host) && insecure !== true) {
    throw invalid('host', `'${host}' is not a loopback address and management.token is not set: anyone who can reach ` +
      'the port could read the cluster. Set management.token (every request must then carry it), or management.insecure: ' +
      'true for a trusted network, or bind to 127.0.0.1');
  }
  return { host, port, token: token as string | undefined };
}
