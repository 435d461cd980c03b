// Waiting for a condition with a deadline, instead of sleeping a fixed time and hoping.

/**
 * Polls `predicate` until it returns true, or throws after `timeoutMs` with `description` and, when given,
 * what `describeState()` reports (the cluster state, a mailbox size...), so a failure says what was seen.
 */
export async function waitUntil(
  description: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  describeState?: () => unknown,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) {
      const state = describeState === undefined ? '' : `\nstate: ${safeJson(describeState())}`;
      throw new Error(`Timed out after ${timeoutMs} ms waiting until ${description}${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 50);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
  } catch {
    return String(value);
  }
}
