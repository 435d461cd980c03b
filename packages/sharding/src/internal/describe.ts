// How an argument's value is shown in an error message.

/** Strings quoted, everything else by String(). */
export function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}
