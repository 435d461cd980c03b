// Table-driven validation of a config made of numeric fields, shared by SwimConfig and GossipConfig: each
// field has a range and a unit, so an InvalidArgumentError names the config, the field, the rule and the value.

import { InvalidArgumentError } from '@casty/core';

/** The range of one numeric field. */
export interface FieldRule {
  readonly min: number;
  readonly max: number;
  /** Shown in the error, e.g. 'milliseconds'. */
  readonly unit: string;
  /** Whole numbers only. Default true. */
  readonly integer?: boolean;
}

/**
 * Merges `overrides` over `defaults` and checks every field against `rules`.
 * @throws {InvalidArgumentError} naming `configName.field` for an unknown field or a value out of its range.
 */
export function resolveFields<T extends Record<string, number>>(
  configName: string,
  rules: Readonly<Record<keyof T & string, FieldRule>>,
  defaults: T,
  overrides: Partial<T>,
): T {
  if (overrides === null || typeof overrides !== 'object') {
    throw new InvalidArgumentError(`${configName} overrides must be an object, got ${String(overrides)}`);
  }
  for (const key of Object.keys(overrides)) {
    if (!(key in rules)) {
      throw new InvalidArgumentError(`${configName} has no field '${key}'; known fields are ${Object.keys(rules).join(', ')}`);
    }
  }
  const out: Record<string, number> = {};
  for (const [field, rule] of Object.entries(rules) as Array<[string, FieldRule]>) {
    const value: unknown = overrides[field] ?? defaults[field];
    const integer = rule.integer ?? true;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < rule.min || value > rule.max ||
      (integer && !Number.isInteger(value))) {
      throw new InvalidArgumentError(`${configName}.${field} must be ${integer ? 'an integer' : 'a number'} ` +
        `from ${rule.min} to ${rule.max} (${rule.unit}), got ${String(value)}`);
    }
    out[field] = value;
  }
  return out as T;
}
