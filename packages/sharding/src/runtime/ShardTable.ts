// A region's shards by number: a Map for iteration in insertion order, and an array for the lookup that every
// entity message makes (an index instead of a hash).

export class ShardTable<TShard> implements Iterable<[number, TShard]> {
  private readonly byNumber = new Map<number, TShard>();
  private readonly slots: (TShard | undefined)[] = [];

  get size(): number {
    return this.byNumber.size;
  }

  get(shard: number): TShard | undefined {
    return this.slots[shard];
  }

  has(shard: number): boolean {
    return this.slots[shard] !== undefined;
  }

  set(shard: number, value: TShard): void {
    this.byNumber.set(shard, value);
    while (this.slots.length <= shard) this.slots.push(undefined);
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
