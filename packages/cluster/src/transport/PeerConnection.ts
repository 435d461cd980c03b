// PeerConnection: one outbound connection of this node to one peer address on one lane (control or data),
// optionally bound to the node id it is meant for, and everything about sending to it: the bounded outbound
// queue, batching the frames of a tick into one socket write, respecting the socket's backpressure ('drain'),
// the connect and handshake timeouts, reconnecting with backoff, keep-alive frames when idle, and accounting
// for every frame it does not deliver (dropped unsent, or lost in a socket that failed before the operating
// system took the bytes): those are counted and handed back to the transport, never dropped silently.
//
// States: idle -> connecting -> handshaking -> open; a failure or loss goes to backoff (when there is still
// traffic or the peer is wanted) or idle; backoff -> connecting when its timer fires; closed is final. A bound
// connection refused with WRONG_NODE (another node listens at the address now) drops what it holds and goes
// idle: the node it was meant for is not there.

import * as net from 'node:net';
import * as tls from 'node:tls';
import type { TimerHandle } from '@casty/core';
import { backoffDelay } from '../internal/backoff';
import { BufferPool } from '../internal/BufferPool';
import { FrameSocket } from '../internal/FrameSocket';
import type { SocketCounters } from '../internal/FrameSocket';
import { ConnectionLostError, ConnectTimeoutError, FrameTooLargeError, HandshakeError, MalformedFrameError, TransportBackpressureError } from './errors';
import { encodeFrame, FRAME_HEADER_BYTES, LENGTH_BYTES, protocolName, ProtocolId } from './frame';
import type { Frame } from './frame';
import { ClientHandshake, decodeHandshake, encodeHandshake, HANDSHAKE_MAX_PAYLOAD_BYTES } from './handshake';
import type { HandshakeIdentity, HandshakeMessage } from './handshake';
import { DROPPED_FRAMES_REPORTED, formatAddress } from './Transport';
import type { DroppedFrame, Lane, NodeAddress } from './Transport';
import type { ResolvedTransportConfig } from './TransportConfig';

/**
 * Most bytes put into one socket write. Frames queued in a tick are concatenated up to this size: large enough
 * that thousands of small frames cost one syscall, small enough that one write does not copy megabytes.
 */
export const WRITE_BATCH_BYTES = 256 * 1024;

/** Size of the first outbound chunk of a connection; each chunk that fills up doubles it, to WRITE_BATCH_BYTES. */
const FIRST_CHUNK_BYTES = 16 * 1024;

/**
 * Outbound chunks of at least this size are used again once written (see PeerConnection.chunkRefs): kept in
 * CHUNK_POOL, up to 8 chunks and 16 MiB for the whole process. A join's replica transfer
 * (125 MB to the joiner) put each 1 MiB frame into a new chunk, and each new chunk cost a page fault per 4 KiB
 * written: 15-20% of its senders' CPU time went to that copy, on a machine whose 2 cores it kept busy.
 */
const POOLED_CHUNK_BYTES = 64 * 1024;
const CHUNK_POOL = new BufferPool(8, 16 * 1024 * 1024);

/** A chunk of at least `size` bytes: a pooled one (at most 4 times as large), or a new one. */
function newChunkBuffer(size: number): Buffer {
  return size >= POOLED_CHUNK_BYTES ? CHUNK_POOL.take(size, 4 * size, size) : Buffer.allocUnsafeSlow(size);
}

/** For tests: the outbound chunks pooled now, and their bytes; `empty` first drops them all. */
export function pooledChunks(empty = false): { count: number; bytes: number } {
  return CHUNK_POOL.kept(empty);
}

/** What a PeerConnection needs from its transport. */
export interface PeerConnectionHost {
  readonly config: ResolvedTransportConfig;
  readonly counters: SocketCounters;
  /** This node as announced in the handshake. */
  identity(): HandshakeIdentity;
  /** A socket was opened; the transport destroys it on close. */
  track(socket: net.Socket): void;
  /** The connection completed its handshake with `remote`. */
  opened(connection: PeerConnection, remote: HandshakeIdentity): void;
  /** The open connection to `remote` ended. */
  lost(connection: PeerConnection, remote: HandshakeIdentity, reason: Error): void;
  /** Frames were dropped unsent (or failed in the socket before reaching the operating system). */
  dropped(connection: PeerConnection, frames: number, bytes: number, payloads: DroppedFrame[], reason: Error): void;
  /** A connect attempt failed: logged, within the transport's limit on such warnings. */
  connectFailed(message: string, reason: Error): void;
  /** Bytes were being written when the connection died: some may have arrived, some not. */
  unconfirmed(connection: PeerConnection, bytes: number): void;
}

/** An empty keep-alive frame. */
const HEARTBEAT_FRAME = encodeFrame(ProtocolId.HEARTBEAT, new Uint8Array(0));

/** Frames (and their payload bytes) found in `bytes`, a run of whole encoded frames; the first `keep` are copied out. */
function framesIn(bytes: Buffer, into: DroppedFrame[], keep: number): { frames: number; payloadBytes: number } {
  let frames = 0;
  let payloadBytes = 0;
  for (let at = 0; at + FRAME_HEADER_BYTES <= bytes.length;) {
    const length = bytes.readUInt32BE(at);
    const protocolId = bytes[at + LENGTH_BYTES] as number;
    if (protocolId !== ProtocolId.HEARTBEAT && protocolId !== ProtocolId.HANDSHAKE) {
      frames++;
      payloadBytes += length - 1;
      if (into.length < keep) {
        into.push({ protocolId: protocolId as ProtocolId,
          payload: Uint8Array.prototype.slice.call(bytes, at + FRAME_HEADER_BYTES, at + LENGTH_BYTES + length) });
      }
    }
    at += LENGTH_BYTES + length;
  }
  return { frames, payloadBytes };
}

export type PeerConnectionState = 'idle' | 'connecting' | 'handshaking' | 'open' | 'backoff' | 'closed';

export class PeerConnection {
  private stateValue: PeerConnectionState = 'idle';
  private socket: FrameSocket | undefined;
  private handshake: ClientHandshake | undefined;
  private timer: TimerHandle | undefined;
  private attempt = 0;
  /**
   * Frames not yet handed to a socket: the full chunks queue[head..] (a head index keeps dequeuing O(1)), then
   * chunk[chunkStart..chunkFill). Frames are written straight into `chunk`, which is only ever appended to:
   * the bytes before chunkFill may already sit in the socket's buffer, so they are never written again.
   */
  private queue: Buffer[] = [];
  private head = 0;
  private chunk: Buffer | undefined;
  private chunkStart = 0;
  private chunkFill = 0;
  private nextChunkBytes = FIRST_CHUNK_BYTES;
  private queuedBytes = 0;
  /**
   * Per chunk of POOLED_CHUNK_BYTES or more (by its ArrayBuffer), what still refers to it: being the current chunk,
   * each view of it in `queue`, each socket write of a view of it not yet called back. At 0 it goes to the pool.
   * Frames dropped release their views (what is reported dropped is copied first); a closed connection forgets its
   * chunks, so what its last writes hold is only collected, never used again while something may still read it.
   */
  private readonly chunkRefs = new Map<ArrayBufferLike, { readonly chunk: Buffer; refs: number }>();
  /** The largest payload queued before the peer told its limit (checked when the connection opens). */
  private largestQueued = 0;
  private flushScheduled = false;
  private awaitingDrain = false;
  /** The clock's time when the socket last filled up (valid while awaitingDrain). */
  private drainWaitSince = 0;
  /** The sweep's view: the socket's write count when it last looked, and for how long it has not changed. */
  private quiet = { writes: -1, ms: 0 };
  private wanted = false;
  /** A failed connect attempt was logged as a warning since the connection was last open. */
  private warnedUnreachable = false;
  /** The peer behind this address, once a handshake has told us. */
  remote: HandshakeIdentity | undefined;

  /**
   * @param lane which of the two connections to the peer this is (sent in the handshake)
   * @param expectedNodeId the node this connection is bound to: another node at the address refuses it
   */
  constructor(readonly address: NodeAddress, private readonly host: PeerConnectionHost, readonly lane: Lane = 'data',
    readonly expectedNodeId?: string) {}

  get state(): PeerConnectionState {
    return this.stateValue;
  }

  /** The peer for messages: its node id once known, and its address. */
  get peer(): string {
    const at = formatAddress(this.address);
    const id = this.remote?.nodeId ?? this.expectedNodeId;
    return id === undefined ? at : `node '${id}' at ${at}`;
  }


  /** Bytes waiting to be written to this peer: queued here plus buffered in the socket. */
  get pendingBytes(): number {
    return this.queuedBytes + (this.socket?.socket.writableLength ?? 0);
  }

  /**
   * Queues one frame whose payload is `head` followed by `body` (both copied here); throws
   * TransportBackpressureError when that would pass outboundQueueBytes.
   */
  enqueue(protocolId: number, head: Uint8Array, body?: Uint8Array): void {
    const payloadBytes = head.length + (body === undefined ? 0 : body.length);
    if (this.remote !== undefined && payloadBytes > this.remote.maxFrameBytes) {
      throw new FrameTooLargeError(payloadBytes, this.remote.maxFrameBytes, this.peer);
    }
    const size = FRAME_HEADER_BYTES + payloadBytes;
    const limit = this.host.config.outboundQueueBytes;
    const pending = this.queuedBytes + (this.socket === undefined ? 0 : this.socket.socket.writableLength);
    if (pending + size > limit) {
      throw new TransportBackpressureError(this.peer, limit, pending, size, this.stateValue);
    }
    let chunk = this.chunk;
    let at = this.chunkFill;
    if (chunk === undefined || at + size > chunk.length) {
      chunk = this.newChunk(size);
      at = 0;
    }
    chunk.writeUInt32BE(payloadBytes + 1, at);
    chunk[at + LENGTH_BYTES] = protocolId;
    chunk.set(head, at + FRAME_HEADER_BYTES);
    if (body !== undefined) chunk.set(body, at + FRAME_HEADER_BYTES + head.length);
    this.chunkFill = at + size;
    this.queuedBytes += size;
    if (this.remote === undefined && payloadBytes > this.largestQueued) this.largestQueued = payloadBytes;
    if (this.stateValue === 'idle') this.dial();
    else this.scheduleFlush();
  }

  /** Queues what is left of the current chunk and starts a new one with room for `size` bytes. */
  private newChunk(size: number): Buffer {
    if (this.chunk !== undefined) {
      if (this.chunkFill > this.chunkStart) {
        const rest = this.chunk.subarray(this.chunkStart, this.chunkFill);
        this.queue.push(rest);
        this.ref(rest);
      }
      if (this.chunkFill * 2 > this.chunk.length) this.nextChunkBytes = Math.min(this.nextChunkBytes * 2, WRITE_BATCH_BYTES);
      this.unref(this.chunk); // no longer the current chunk
    }
    const chunk = newChunkBuffer(Math.max(size, this.nextChunkBytes));
    if (chunk.length >= POOLED_CHUNK_BYTES) this.chunkRefs.set(chunk.buffer, { chunk, refs: 1 });
    this.chunk = chunk;
    this.chunkStart = 0;
    this.chunkFill = 0;
    return chunk;
  }

  /** Dials now when idle (see Transport.open); not redialed once lost, unless wanted or frames wait. */
  open(): void {
    if (this.stateValue === 'idle') this.dial();
  }

  /** Keeps this peer connected (reconnecting after every loss) until `close`. */
  want(): void {
    this.wanted = true;
    if (this.stateValue === 'idle') this.dial();
  }

  /**
   * Closes for good. An open connection first gets the queued frames and a graceful end; when not open, the
   * queued frames are dropped and reported. Reports the loss of an open connection to the host with `reason`.
   */
  close(reason: Error): void {
    if (this.stateValue === 'closed') return;
    const wasOpen = this.stateValue === 'open';
    this.stateValue = 'closed';
    this.host.config.clock.clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    if (wasOpen && socket !== undefined) {
      const rest = this.takeBatch(Number.POSITIVE_INFINITY);
      if (rest.length > 0) {
        socket.write(rest, (error) => {
          this.written(socket, rest, error);
          this.unref(rest);
        });
      }
      socket.end();
    } else {
      this.dropQueued(reason);
      if (socket !== undefined) socket.fail(reason);
    }
    this.queue = [];
    this.chunk = undefined;
    this.chunkRefs.clear(); // nothing is pooled after a close: what its writes still hold is only collected
    if (wasOpen && this.remote !== undefined) this.host.lost(this, this.remote, reason);
  }

  /**
   * The transport's periodic look at an open connection: one whose peer has read nothing for `idleTimeoutMs`
   * while bytes wait for it (stalled) is failed (what it still holds is counted as dropped; what is queued waits
   * for the redial); one with nothing to send that wrote nothing for a third of it writes a keep-alive frame,
   * so the peer can tell it from a dead one.
   */
  sweep(now: number, everyMs: number, idleTimeoutMs: number): void {
    const socket = this.socket;
    if (this.stateValue !== 'open' || socket === undefined) return;
    if (this.awaitingDrain) {
      if (now - this.drainWaitSince >= idleTimeoutMs) {
        socket.fail(new ConnectionLostError(this.peer, `the peer read nothing for ${Math.round(now - this.drainWaitSince)} ms ` +
          `with ${socket.socket.writableLength} bytes waiting for it (idleTimeoutMs ${idleTimeoutMs}): it is stalled`));
      }
      return;
    }
    if (socket.writes !== this.quiet.writes) {
      this.quiet = { writes: socket.writes, ms: 0 };
      return;
    }
    this.quiet.ms += everyMs;
    if (this.queuedBytes === 0 && this.quiet.ms >= idleTimeoutMs / 3) socket.write(HEARTBEAT_FRAME);
  }

  /** Drops every queued frame, reporting them to the host with `reason`. */
  private dropQueued(reason: Error): void {
    if (this.queuedBytes === 0) return;
    const payloads: DroppedFrame[] = [];
    let frames = 0;
    let bytes = 0;
    for (const part of this.pendingParts()) {
      const found = framesIn(part, payloads, DROPPED_FRAMES_REPORTED); // the payloads reported are copies
      frames += found.frames;
      bytes += found.payloadBytes;
    }
    this.releaseQueued();
    this.queue = [];
    this.head = 0;
    this.chunkStart = this.chunkFill;
    this.queuedBytes = 0;
    if (frames > 0) this.host.dropped(this, frames, bytes, payloads, reason);
  }

  /** Releases the chunks of the queued views (queue[head..]) about to be dropped (see chunkRefs). */
  private releaseQueued(): void {
    for (let i = this.head; i < this.queue.length; i++) this.unref(this.queue[i] as Buffer);
  }

  /** The queued bytes, as runs of whole frames. */
  private pendingParts(): Buffer[] {
    const parts = this.queue.slice(this.head);
    if (this.chunk !== undefined && this.chunkFill > this.chunkStart) parts.push(this.chunk.subarray(this.chunkStart, this.chunkFill));
    return parts;
  }

  /**
   * A batch's write callback. With an error, the batch never reached the operating system: its frames are lost,
   * counted and reported. Without one but on a socket already destroyed, Node had handed the batch to the
   * operating system when the connection died: some of it may have arrived, so it is counted as unconfirmed
   * (never as dropped: a tell reported dropped must not have been delivered).
   */
  private written(socket: FrameSocket, batch: Buffer, error: Error | null | undefined): void {
    if (error === undefined || error === null) {
      if (socket.socket.destroyed) this.host.unconfirmed(this, batch.length);
      return;
    }
    const payloads: DroppedFrame[] = [];
    const found = framesIn(batch, payloads, DROPPED_FRAMES_REPORTED);
    if (found.frames > 0) this.host.dropped(this, found.frames, found.payloadBytes, payloads, error);
  }

  private dial(): void {
    const { config } = this.host;
    this.stateValue = 'connecting';
    this.handshake = undefined;
    const options = { host: this.address.host, port: this.address.port };
    const raw = config.tls === undefined ? net.connect(options) : tls.connect({
      ...options,
      key: config.tls.key,
      cert: config.tls.cert,
      ...(config.tls.ca === undefined ? {} : { ca: config.tls.ca }),
      rejectUnauthorized: true,
      ...(net.isIP(this.address.host) === 0 ? { servername: this.address.host } : {}),
      ...(config.tls.verifyHostname ? {} : { checkServerIdentity: () => undefined }),
    });
    this.host.track(raw);
    const socket = new FrameSocket(raw, this.peer, HANDSHAKE_MAX_PAYLOAD_BYTES, {
      onFrame: (frame) => this.onFrame(socket, frame),
      onClose: (reason) => this.onClosed(socket, reason),
    }, this.host.counters);
    this.socket = socket;
    this.setTimer(config.connectTimeoutMs,
      () => socket.fail(new ConnectTimeoutError(this.peer, config.connectTimeoutMs)));
    raw.once(config.tls === undefined ? 'connect' : 'secureConnect', () => this.onConnected(socket));
  }

  private onConnected(socket: FrameSocket): void {
    if (socket !== this.socket || socket.isClosed) return;
    const { config } = this.host;
    this.stateValue = 'handshaking';
    this.handshake = new ClientHandshake(this.peer, this.host.identity(), config.secret, this.lane, this.expectedNodeId);
    this.setTimer(config.handshakeTimeoutMs, () => socket.fail(new HandshakeError(this.peer, 'TIMEOUT',
      `no complete handshake within handshakeTimeoutMs ${config.handshakeTimeoutMs} ms`)));
    this.writeHandshake(socket, this.handshake.hello());
  }

  private onFrame(socket: FrameSocket, frame: Frame): void {
    if (this.stateValue !== 'handshaking' || this.handshake === undefined || frame.protocolId !== ProtocolId.HANDSHAKE) {
      // Replies travel on the peer's own connection to us, so nothing but the handshake comes back here.
      throw new MalformedFrameError(this.peer, `unexpected ${protocolName(frame.protocolId)} frame on an outbound connection`);
    }
    const step = this.handshake.receive(decodeHandshake(this.peer, frame.payload));
    if (step.reply !== undefined) this.writeHandshake(socket, step.reply);
    if (step.established === undefined) return;
    this.host.config.clock.clearTimeout(this.timer);
    this.remote = step.established;
    socket.peer = this.peer;
    this.stateValue = 'open';
    if (this.warnedUnreachable) this.host.config.logger.debug(`Connected to ${this.peer} again after ${this.attempt} failed attempt(s)`);
    this.warnedUnreachable = false;
    this.attempt = 0;
    if (this.largestQueued > step.established.maxFrameBytes) this.dropOversize(step.established.maxFrameBytes);
    this.largestQueued = 0;
    this.host.opened(this, step.established);
    this.scheduleFlush();
  }

  /** Drops the queued frames larger than the peer accepts (queued before its limit was known). */
  private dropOversize(limit: number): void {
    const keep: Buffer[] = [];
    const dropped: DroppedFrame[] = [];
    let frames = 0;
    let bytes = 0;
    let largest = 0;
    for (const part of this.pendingParts()) {
      for (let at = 0; at < part.length;) {
        const frame = part.subarray(at, at + LENGTH_BYTES + part.readUInt32BE(at));
        const payloadBytes = frame.length - FRAME_HEADER_BYTES;
        if (payloadBytes > limit) {
          const found = framesIn(frame, dropped, DROPPED_FRAMES_REPORTED);
          frames += found.frames;
          bytes += found.payloadBytes;
          largest = Math.max(largest, payloadBytes);
          this.queuedBytes -= frame.length;
        } else {
          keep.push(frame);
          this.ref(frame); // a view queued anew
        }
        at += frame.length;
      }
    }
    this.releaseQueued();
    this.queue = keep;
    this.head = 0;
    this.chunkStart = this.chunkFill;
    if (frames > 0) this.host.dropped(this, frames, bytes, dropped, new FrameTooLargeError(largest, limit, this.peer));
  }

  private writeHandshake(socket: FrameSocket, message: HandshakeMessage): void {
    socket.write(encodeFrame(ProtocolId.HANDSHAKE, encodeHandshake(message)));
  }

  private onClosed(socket: FrameSocket, reason: Error): void {
    if (socket !== this.socket) return;
    const { config } = this.host;
    const wasOpen = this.stateValue === 'open';
    this.socket = undefined;
    this.awaitingDrain = false;
    config.clock.clearTimeout(this.timer);
    if (wasOpen && this.remote !== undefined) this.host.lost(this, this.remote, reason);
    if (this.stateValue === 'closed') return;
    if (reason instanceof HandshakeError && reason.reason === 'WRONG_NODE') {
      // The node this connection is bound to is not at this address: nothing queued for it can be delivered.
      this.dropQueued(reason);
      this.stateValue = 'idle';
      this.wanted = false;
      this.attempt = 0;
      config.logger.debug(`Gave up the connection to ${this.peer}`, reason);
      return;
    }
    if (this.queuedBytes === 0 && !this.wanted) {
      this.stateValue = 'idle';
      if (!wasOpen) this.connectFailed(`Could not connect to ${this.peer}; no frames are waiting for it`, reason);
      return;
    }
    const delay = backoffDelay(this.attempt++, config.reconnect, config.random);
    if (!wasOpen) this.connectFailed(`Could not connect to ${this.peer} (attempt ${this.attempt}); retrying in ${delay} ms`, reason);
    this.stateValue = 'backoff';
    this.setTimer(delay, () => this.dial());
  }

  /**
   * A failed connect attempt is a state change worth a warning once: the first since this connection was last
   * open (or made). Later attempts go to debug, and so do all of a control-lane connection bound to a member:
   * SWIM reports a member it cannot reach (MemberSuspect, MemberDown), and keeps trying one it declared down.
   */
  private connectFailed(message: string, reason: Error): void {
    const membersOwn = this.lane === 'control' && this.expectedNodeId !== undefined;
    if (!membersOwn && !this.warnedUnreachable) {
      this.warnedUnreachable = true;
      this.host.connectFailed(`${message}; further attempts are logged at debug level until it connects`, reason);
    } else {
      this.host.config.logger.debug(message, reason);
    }
  }

  private setTimer(delayMs: number, fn: () => void): void {
    const { clock } = this.host.config;
    clock.clearTimeout(this.timer);
    this.timer = clock.setTimeout(fn, delayMs);
  }

  /** Flushes once per tick: everything queued until the event loop turns goes out together. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.awaitingDrain || this.stateValue !== 'open') return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const socket = this.socket;
    if (this.stateValue !== 'open' || socket === undefined) return;
    while (this.queuedBytes > 0) {
      const batch = this.takeBatch(WRITE_BATCH_BYTES);
      if (!socket.write(batch, (error) => {
        this.written(socket, batch, error);
        this.unref(batch);
      })) {
        // The socket buffered past its high-water mark: wait for it to drain instead of piling up memory.
        this.awaitingDrain = true;
        this.drainWaitSince = this.host.config.clock.now();
        socket.socket.once('drain', () => {
          this.awaitingDrain = false;
          if (socket === this.socket) this.flush();
        });
        return;
      }
    }
  }

  /**
   * Dequeues queued bytes up to `maxBytes` (at least one chunk) as one Buffer; usually a view, no copy. The caller
   * holds a reference to its chunk (see chunkRefs), to `unref` once it is written.
   */
  private takeBatch(maxBytes: number): Buffer {
    const current = this.chunk === undefined || this.chunkFill === this.chunkStart
      ? undefined : this.chunk.subarray(this.chunkStart, this.chunkFill);
    if (this.head === this.queue.length) {
      // The common case: everything queued sits in the current chunk.
      if (current === undefined) return Buffer.alloc(0);
      this.chunkStart = this.chunkFill;
      this.queuedBytes -= current.length;
      this.ref(current);
      return current;
    }
    const parts: Buffer[] = [];
    let bytes = 0;
    while (this.head < this.queue.length) {
      const part = this.queue[this.head] as Buffer;
      if (parts.length > 0 && bytes + part.length > maxBytes) break;
      parts.push(part);
      bytes += part.length;
      this.head++;
    }
    const queued = parts.length;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      if (current !== undefined && bytes + current.length <= maxBytes) {
        parts.push(current);
        bytes += current.length;
        this.chunkStart = this.chunkFill;
      }
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.queuedBytes -= bytes;
    const batch = parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts, bytes);
    this.ref(batch);
    for (let i = 0; i < queued; i++) this.unref(parts[i] as Buffer);
    return batch;
  }

  /** One more reference to the chunk `view` lies in, if it is a pooled-size chunk (see chunkRefs). */
  private ref(view: Buffer): void {
    const use = this.chunkRefs.get(view.buffer);
    if (use !== undefined) use.refs++;
  }

  /** One reference fewer to the chunk `view` lies in; the last one gives the chunk to the pool (see chunkRefs). */
  private unref(view: Buffer): void {
    const use = this.chunkRefs.get(view.buffer);
    if (use === undefined || --use.refs > 0) return;
    this.chunkRefs.delete(view.buffer);
    CHUNK_POOL.give(use.chunk);
  }
}
