// Per sending process (origin), the number of the next message a shard delivers: each origin's order is kept.
// A shard mostly hears from one process at a time, so the first origin lives in two fields and the others in a
// map made on demand: the check on every entity message is then two comparisons, not two map operations.

export class Sequences {
  private firstOrigin = -1;
  private firstNext = 0;
  private others: Map<number, number> | undefined;

  constructor(entries?: Iterable<readonly [number, number]>) {
    if (entries !== undefined) for (const [origin, next] of entries) this.set(origin, next);
  }

  get(origin: number): number | undefined {
    if (origin === this.firstOrigin) return this.firstNext;
    return this.others?.get(origin);
  }

  set(origin: number, next: number): void {
    if (origin === this.firstOrigin || this.firstOrigin === -1) {
      this.firstOrigin = origin;
      this.firstNext = next;
    } else {
      (this.others ??= new Map()).set(origin, next);
    }
  }

  /** [origin, next] for every origin heard from (what a hand-off passes on). */
  entries(): [number, number][] {
    const all: [number, number][] = this.firstOrigin === -1 ? [] : [[this.firstOrigin, this.firstNext]];
    if (this.others !== undefined) all.push(...this.others);
    return all;
  }
}
