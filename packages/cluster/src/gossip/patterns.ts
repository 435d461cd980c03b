// Pattern subscriptions on gossiped keys: subscribe('actors/*', cb) calls cb for every change of a key the
// glob matches. Keys are '/'-separated paths, so '*' stays within one segment and '**' crosses segments.

import { InvalidArgumentError } from '@casty/core';
import { Listeners } from '../internal/Listeners';
import type { Logger } from '@casty/core';
import type { NodeId, Unsubscribe } from '../transport/Transport';

/** A change of one key, as subscribers see it. */
export interface GossipChange {
  readonly key: string;
  /** The new value; undefined when the key was deleted. */
  readonly value: Uint8Array | undefined;
  /** The node whose write this is. */
  readonly writer: NodeId;
  /** 'local' for a write on this node, 'remote' for one learned from another node. */
  readonly origin: 'local' | 'remote';
}

/**
 * A RegExp for a glob: `*` matches any characters but '/', `**` any characters, `?` one character but '/';
 * everything else is literal.
 */
export function compilePattern(pattern: string): RegExp {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new InvalidArgumentError(`A gossip key pattern must be a non-empty string, got ${String(pattern)}; use '**' for every key`);
  }
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** True when `key` matches the glob `pattern`. */
export function matchesPattern(pattern: string, key: string): boolean {
  return compilePattern(pattern).test(key);
}

/** Subscribers by pattern; a throwing subscriber is logged and does not stop the others. */
export class Subscriptions {
  private readonly listeners: Listeners<GossipChange>;

  constructor(logger: Logger) {
    this.listeners = new Listeners(logger, 'gossip subscription');
  }

  /** Calls `callback` for every change of a key matching `pattern`; returns the function that unsubscribes. */
  subscribe(pattern: string, callback: (change: GossipChange) => void): Unsubscribe {
    const regex = compilePattern(pattern);
    return this.listeners.add((change) => {
      if (regex.test(change.key)) callback(change);
    });
  }

  notify(change: GossipChange): void {
    this.listeners.emit(change);
  }
}
