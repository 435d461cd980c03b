// A region's shards by number: a Map for iteration in insertion order, and an array for the lookup that every
// entity message makes (an index instead of a hash).

export class ShardTable<TShard> implements Iterable<[number, TShard]> {
  private readonly byNumber = new Map<number, TShard>();
  private readonly slots: (TShard | undefined)[];

  constructor(readonly shardCount: number) {
    this.slots = new Array<TShard | undefined>(shardCount).fill(undefined);
  }

  get size(): number {
    return this.byNumber.size;
  }

  get(shard: number): TShard | undefined {
    return this.slots[shard];
  }

  has(shard: number): boolean {
    return this.slots[shard] !== undefined;
  }

  /** @throws {RangeError} for a shard number out of 0..shardCount - 1 (the region checks what comes from the wire first). */
  set(shard: number, value: TShard): void {
    if (!(Number.isInteger(shard) && shard >= 0 && shard < this.shardCount)) {
      throw new RangeError(`shard ${shard} is not one of 0 to ${this.shardCount - 1}`);
    }
    this.byNumber.set(shard, value);
    this.slots[shard] = value;
  }

  delete(shard: number): boolean {
    if (this.slots[shard] !== undefined) this.slots[shard] = undefined;
    return this.byNumber.delete(shard);
  }

  values(): IterableIterator<TShard> {
    return this.byNumber.values();
  }

  [Symbol.iterator](): IterableIterator<[number, TShard]> {
    return this.byNumber.entries();
  }
}
