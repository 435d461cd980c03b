// Finds where a value sits inside a message, as a JavaScript-like path (`order.items[2]`), so an encoding error
// can point at it. Runs only after encoding has failed, which keeps the hot path free of path bookkeeping.

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * The path from `root` to the first place holding `target` (by identity), `''` when `root` is the target, or
 * `undefined` if it is not found. `skip` values (actor refs) are not looked into. Cycles are followed once.
 */
export function pathTo(root: unknown, target: unknown, skip?: (value: unknown) => boolean): string | undefined {
  return search(root, target, '', new Set(), skip);
}

function search(value: unknown, target: unknown, path: string, seen: Set<object>,
  skip: ((value: unknown) => boolean) | undefined): string | undefined {
  if (value === target) return path;
  if (typeof value !== 'object' || value === null || seen.has(value) || skip?.(value) === true) return undefined;
  seen.add(value);
  if (value instanceof Map) {
    let index = 0;
    for (const [key, item] of value) {
      const found = search(key, target, `${path}.keys()[${index}]`, seen, skip) ??
        search(item, target, `${path}.get(${keyText(key)})`, seen, skip);
      if (found !== undefined) return found;
      index++;
    }
    return undefined;
  }
  if (value instanceof Set) {
    let index = 0;
    for (const item of value) {
      const found = search(item, target, `${path}.values()[${index}]`, seen, skip);
      if (found !== undefined) return found;
      index++;
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = search(value[index], target, `${path}[${index}]`, seen, skip);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const step = IDENTIFIER.test(key) ? (path === '' ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key)}]`;
    const found = search(record[key], target, step, seen, skip);
    if (found !== undefined) return found;
  }
  return undefined;
}

function keyText(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key);
  if (typeof key === 'number' || typeof key === 'boolean' || typeof key === 'bigint') return String(key);
  return key === null ? 'null' : `<${typeof key === 'object' ? classNameOfKey(key) : typeof key}>`;
}

function classNameOfKey(key: object): string {
  return (key as { constructor?: { name?: string } }).constructor?.name || 'Object';
}
