// BufferPool: large buffers kept to be used again. On a virtual machine, the first write to each 4 KiB page of a new
// buffer faults; copying 1 MiB into a new buffer took ten times as long as into one used before (see its users: the
// frames gathered by FrameDecoder, the outbound chunks of PeerConnection).

export class BufferPool {
  private readonly free: Buffer[] = [];
  private freeBytes = 0;

  /** Keeps at most `maxCount` buffers and `maxBytes` in all. */
  constructor(private readonly maxCount: number, private readonly maxBytes: number) {}

  /** The last kept buffer of `min` to `max` bytes, or a new one of `size` bytes (at least `min`). */
  take(min: number, max: number, size: number): Buffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const kept = this.free[i] as Buffer;
      if (kept.length >= min && kept.length <= max) {
        this.free.splice(i, 1);
        this.freeBytes -= kept.length;
        return kept;
      }
    }
    return Buffer.allocUnsafeSlow(Math.max(size, min));
  }

  /** Keeps `buffer` for a later `take` when there is room; else it is left to the collector. */
  give(buffer: Buffer): void {
    if (this.free.length >= this.maxCount || this.freeBytes + buffer.length > this.maxBytes) return;
    this.free.push(buffer);
    this.freeBytes += buffer.length;
  }

  /** The buffers kept now, and their bytes; `empty` first drops them all (for tests). */
  kept(empty = false): { count: number; bytes: number } {
    if (empty) this.free.splice(0, this.free.length);
    if (empty) this.freeBytes = 0;
    return { count: this.free.length, bytes: this.freeBytes };
  }
}
