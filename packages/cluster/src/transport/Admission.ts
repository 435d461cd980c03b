// Admission: which inbound connections a node keeps while they have not yet proven who they are, and how
// their refusals are reported. A connection is "pending" from the moment it is accepted (before TLS) until
// its handshake completes. Pending connections are capped in total and per remote IP address; a new
// connection over a cap sheds the OLDEST pending one (a real node finishes its handshake in milliseconds,
// so the oldest is the likeliest to be an idle or stalled flood connection). Addresses of known members
// (a connection from them completed a handshake, or this node was told to dial them) are exempt from the
// per-address cap and are shed last, so a member can connect during a flood from other addresses.
//
// Refused and shed connections are logged one by one at debug level only; at warn level the first one of a
// quiet period is logged at once, and the rest as one summary line per SUMMARY_INTERVAL_MS.

import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { CastyError, registerErrorClass } from '@casty/core';
import type { Clock, TimerHandle } from '@casty/core';
import type { Logger } from '@casty/core';

/** Milliseconds between two summary lines of refused and shed connections. */
export const SUMMARY_INTERVAL_MS = 10_000;
/** Most member addresses remembered; the least recently seen is forgotten first. */
const MAX_KNOWN_ADDRESSES = 4096;
/** Most distinct addresses counted for one summary line (the line then says "at least"). */
const MAX_SUMMARY_ADDRESSES = 10_000;

/** Which cap closed a pending connection. */
export type AdmissionCap = 'maxPendingHandshakes' | 'maxPendingHandshakesPerAddress';

/** A connection was closed before its handshake completed to make room under a cap (see TransportConfig). */
export class ConnectionShedError extends CastyError {
  static readonly code = 'CONNECTION_SHED';
  constructor(readonly peer: string, readonly cap: AdmissionCap, readonly limit: number) {
    super(ConnectionShedError.code,
      `Closed the connection from ${peer} before its handshake completed: ${cap} (${limit}) was reached and it ` +
      `was the oldest pending connection ${cap === 'maxPendingHandshakesPerAddress' ? 'from its address'
        : 'from an address that is not a known member'}. A node completes its handshake in milliseconds and ` +
      'redials with backoff; if many real nodes connect at once, raise the cap');
  }
}
registerErrorClass(ConnectionShedError.code, ConnectionShedError as unknown as new (...args: never[]) => CastyError);

/** The caps, from the resolved TransportConfig. */
export interface AdmissionLimits {
  readonly maxPendingHandshakes: number;
  readonly maxPendingHandshakesPerAddress: number;
}

/** Counters of admission, merged into TcpTransport.stats(). */
export interface AdmissionStats {
  /** Inbound connections closed before completing the handshake (malformed, wrong secret or certificate, timed out, closed by the peer); shed ones excluded. */
  readonly connectionsRefused: number;
  /** Inbound connections closed by admission control to stay under a cap. */
  readonly connectionsShed: number;
  /** Inbound connections accepted and not yet through the handshake, now. */
  readonly pendingHandshakes: number;
  /** The most pending connections there have been at once; never above maxPendingHandshakes. */
  readonly pendingHandshakesPeak: number;
  /**
   * The most pending connections there have been at once from one address that is not a known member; never
   * above maxPendingHandshakesPerAddress.
   */
  readonly pendingHandshakesPeakPerAddress: number;
}

/** The part of a connection admission needs: a way to close it with a reason. */
export interface Closable {
  fail(reason: Error): void;
}

interface Pending {
  readonly key: string;
  readonly ip: string;
  readonly peer: string;
  readonly raw: Socket;
  readonly member: boolean;
  connection: Closable | undefined;
  done: boolean;
}

/**
 * The key an address is counted under: an IPv4 address itself (IPv4-mapped IPv6 ones as plain IPv4), and an
 * IPv6 address by its /64 network, since one host or subscriber is usually given a whole /64 and could
 * otherwise open every connection from a new address.
 */
export function addressKey(address: string): string {
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return lower.slice(7);
  if (isIP(lower) !== 6) return lower;
  const [head = '', tail] = lower.replace(/%.*$/, '').split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/** A short label of why a connection ended, for the summary line: the error's code and reason. */
function label(error: Error): string {
  const { code, reason, cap } = error as { code?: unknown; reason?: unknown; cap?: unknown };
  const head = typeof code === 'string' ? code : error.name;
  const detail = typeof cap === 'string' ? cap : typeof reason === 'string' && reason.length <= 40 ? reason : undefined;
  return detail === undefined ? head : `${head}/${detail}`;
}

export class Admission {
  /** Pending connections by `ip|port`, oldest first (a Map iterates in insertion order). */
  private readonly pending = new Map<string, Pending>();
  /** Pending connections from addresses that are not known members, by address (addressKey), oldest first. */
  private readonly byAddress = new Map<string, Set<Pending>>();
  private readonly byConnection = new WeakMap<Closable, Pending>();
  /** Known member addresses, least recently seen first. */
  private readonly known = new Set<string>();
  private refused = 0;
  private shed = 0;
  private peak = 0;
  private peakPerAddress = 0;
  private closed = false;
  /** Armed while a period of refusals is being summarized; undefined when quiet. */
  private timer: TimerHandle | undefined;
  private periodRefused = 0;
  private periodShed = 0;
  private readonly periodReasons = new Map<string, number>();
  private readonly periodAddresses = new Set<string>();

  constructor(private readonly limits: AdmissionLimits, private readonly clock: Clock,
    private readonly logger: Logger) {}

  stats(): AdmissionStats {
    return { connectionsRefused: this.refused, connectionsShed: this.shed, pendingHandshakes: this.pending.size,
      pendingHandshakesPeak: this.peak, pendingHandshakesPeakPerAddress: this.peakPerAddress };
  }

  /** Remembers `host` (an IP address; names are ignored) as a member's: exempt from the per-address cap. */
  know(host: string): void {
    if (isIP(host) === 0) return;
    const ip = addressKey(host);
    this.known.delete(ip);
    this.known.add(ip);
    if (this.known.size > MAX_KNOWN_ADDRESSES) this.known.delete(this.known.values().next().value as string);
  }

  /** A socket was accepted (before TLS): it becomes pending, shedding older pending ones over the caps. */
  admit(raw: Socket): void {
    const address = raw.remoteAddress;
    if (this.closed || address === undefined) {
      raw.destroy();
      return;
    }
    const ip = addressKey(address);
    const entry: Pending = { key: `${address}|${raw.remotePort ?? '?'}`, ip, peer: `${address}:${raw.remotePort ?? '?'}`,
      raw, member: this.known.has(ip), connection: undefined, done: false };
    if (!entry.member) {
      const fromAddress = this.byAddress.get(ip);
      const oldest = fromAddress?.values().next().value;
      if (fromAddress !== undefined && oldest !== undefined && fromAddress.size >= this.limits.maxPendingHandshakesPerAddress) {
        this.shedOne(oldest, 'maxPendingHandshakesPerAddress', this.limits.maxPendingHandshakesPerAddress);
      }
    }
    if (this.pending.size >= this.limits.maxPendingHandshakes) {
      let victim: Pending | undefined;
      for (const candidate of this.pending.values()) {
        if (!candidate.member) {
          victim = candidate;
          break;
        }
      }
      victim ??= this.pending.values().next().value as Pending;
      this.shedOne(victim, 'maxPendingHandshakes', this.limits.maxPendingHandshakes);
    }
    this.pending.set(entry.key, entry);
    if (!entry.member) {
      let fromAddress = this.byAddress.get(ip);
      if (fromAddress === undefined) this.byAddress.set(ip, fromAddress = new Set());
      fromAddress.add(entry);
      this.peakPerAddress = Math.max(this.peakPerAddress, fromAddress.size);
    }
    this.peak = Math.max(this.peak, this.pending.size);
    // The backstop: a pending connection that goes away without anyone reporting why is a refusal.
    raw.once('close', () => this.settle(entry, undefined));
  }

  /** The connection object made for an accepted socket (the TLS socket under TLS, with the same remote address). */
  attach(socket: Socket, connection: Closable): void {
    const entry = this.pending.get(`${socket.remoteAddress ?? '?'}|${socket.remotePort ?? '?'}`);
    if (entry === undefined) return;
    entry.connection = connection;
    this.byConnection.set(connection, entry);
  }

  /** The connection completed its handshake: no longer pending, and its address is a member's from now on. */
  established(connection: Closable): void {
    const entry = this.byConnection.get(connection);
    if (entry === undefined || entry.done) return;
    entry.done = true;
    this.remove(entry);
    this.know(entry.ip);
  }

  /**
   * A pending connection ended before its handshake completed, with `reason`: counted and reported once
   * (later reports of the same connection, and reports of shed ones, are ignored). `from` is the connection
   * object given to `attach`, or the socket (a TLS failure before there is a connection object).
   */
  refusedBy(from: Closable | Socket, reason: Error): void {
    const entry = this.byConnection.get(from as Closable) ?? this.pending.get(
      `${(from as Socket).remoteAddress ?? '?'}|${(from as Socket).remotePort ?? '?'}`);
    if (entry !== undefined) this.settle(entry, reason);
  }

  /** Stops admitting and reporting (the transport is closing its connections itself); logs what is left to summarize. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.summarize();
  }

  private settle(entry: Pending, reason: Error | undefined): void {
    if (entry.done) return;
    entry.done = true;
    this.remove(entry);
    if (this.closed) return;
    this.refused++;
    this.report('Refused', entry, reason ?? Object.assign(new Error('closed before completing the handshake'),
      { code: 'CLOSED_BEFORE_HANDSHAKE' }));
  }

  private shedOne(entry: Pending, cap: AdmissionCap, limit: number): void {
    entry.done = true;
    this.remove(entry);
    this.shed++;
    const reason = new ConnectionShedError(entry.peer, cap, limit);
    entry.connection?.fail(reason);
    entry.raw.destroy();
    this.report('Shed', entry, reason);
  }

  private remove(entry: Pending): void {
    this.pending.delete(entry.key);
    const fromAddress = this.byAddress.get(entry.ip);
    if (fromAddress !== undefined && fromAddress.delete(entry) && fromAddress.size === 0) this.byAddress.delete(entry.ip);
  }

  private report(what: 'Refused' | 'Shed', entry: Pending, reason: Error): void {
    this.logger.debug(`${what} the connection from ${entry.peer} before its handshake completed`, reason);
    if (this.timer === undefined) {
      // The first of a quiet period is logged at once, with its reason; the rest go into the summary.
      this.logger.warn(`${what} the connection from ${entry.peer} before its handshake completed (${label(reason)}); ` +
        `further refused or shed connections are summarized every ${SUMMARY_INTERVAL_MS / 1000} s`, reason);
      this.arm();
      return;
    }
    if (what === 'Shed') this.periodShed++;
    else this.periodRefused++;
    const key = label(reason);
    this.periodReasons.set(key, (this.periodReasons.get(key) ?? 0) + 1);
    if (this.periodAddresses.size < MAX_SUMMARY_ADDRESSES) this.periodAddresses.add(entry.ip);
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => {
      // A period with nothing to summarize ends the summarizing: the next refusal is logged at once again.
      if (this.summarize()) this.arm();
      else this.timer = undefined;
    }, SUMMARY_INTERVAL_MS);
  }

  /** Logs the period's summary line if anything happened in it; returns whether it did. */
  private summarize(): boolean {
    const total = this.periodRefused + this.periodShed;
    if (total === 0) return false;
    const reasons = [...this.periodReasons].sort((a, b) => b[1] - a[1]).slice(0, 8)
      .map(([reason, count]) => `${reason} ${count}`).join(', ');
    const addresses = this.periodAddresses.size >= MAX_SUMMARY_ADDRESSES ? `at least ${MAX_SUMMARY_ADDRESSES}`
      : String(this.periodAddresses.size);
    this.logger.warn(`Refused ${this.periodRefused} and shed ${this.periodShed} inbound connections before their ` +
      `handshake completed, from ${addresses} address${addresses === '1' ? '' : 'es'}, in the last ` +
      `${SUMMARY_INTERVAL_MS / 1000} s; reasons: ${reasons}. Members are still served; a logger's debug level ` +
      'shows each connection');
    this.periodRefused = 0;
    this.periodShed = 0;
    this.periodReasons.clear();
    this.periodAddresses.clear();
    return true;
  }
}
