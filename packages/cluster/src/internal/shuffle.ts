// Shuffling with an injected random source (probe order, gossip targets), so a seeded run repeats.

/** Fisher-Yates shuffle in place, with the injected random source so a seeded run repeats. */
export function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
}
