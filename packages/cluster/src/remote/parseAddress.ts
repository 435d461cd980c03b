// Reading node addresses given by users ('host:port', '[::1]:7946' or { host, port }), with errors that
// name the option and show what a right one looks like.

import { InvalidArgumentError } from '@casty/core';
import type { NodeAddress } from '../transport/Transport';

/** The address `value` names; `field` names the option in the error, e.g. `seeds[1]`. */
export function parseAddress(value: string | NodeAddress, field: string): NodeAddress {
  if (typeof value === 'object' && value !== null) return checked(value.host, value.port, field, value);
  if (typeof value !== 'string') throw wrong(field, value);
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:[\]]+):(\d+)$/.exec(value);
  if (match === null) throw wrong(field, value);
  return checked(match[1], Number(match[2]), field, value);
}

function checked(host: unknown, port: unknown, field: string, value: unknown): NodeAddress {
  if (typeof host !== 'string' || host.length === 0 || typeof port !== 'number' || !Number.isInteger(port) ||
    port < 1 || port > 65535) {
    throw wrong(field, value);
  }
  return { host, port };
}

function wrong(field: string, value: unknown): InvalidArgumentError {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return new InvalidArgumentError(`${field} must be 'host:port' (e.g. '10.0.0.2:7946' or '[::1]:7946') or ` +
    `{ host, port } with a port from 1 to 65535, got ${shown}`);
}
