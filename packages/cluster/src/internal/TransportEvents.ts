// The part of a transport that is the same whatever moves the bytes: the per-protocol frame handlers, the
// peer up/down listeners, and the checks on `send`'s arguments. TcpTransport and InMemoryTransport both
// delegate to it, so they behave the same to the layers above.

import { InvalidArgumentError } from '@casty/core';
import { FrameTooLargeError } from '../transport/errors';
import { isKnownProtocolId, protocolName, ProtocolId } from '../transport/frame';
import type { Logger } from '@casty/core';
import type { DroppedFrames, DroppedListener, FrameHandler, FrameHandlerOptions, NodeId, PeerDownListener, PeerInfo, PeerTarget, PeerUpListener, Unsubscribe } from '../transport/Transport';

function checkProtocolId(protocolId: number, call: string): void {
  if (!isKnownProtocolId(protocolId) || protocolId === ProtocolId.HANDSHAKE || protocolId === ProtocolId.HEARTBEAT) {
    throw new InvalidArgumentError(`${call}: protocolId ${protocolId} is not an application protocol; ` +
      `use one of ProtocolId.ACTOR, SWIM, GOSSIP (HANDSHAKE and HEARTBEAT belong to the transport)`);
  }
}

/** Checks `send`'s protocol id and payload size; throws InvalidArgumentError or FrameTooLargeError. */
export function checkSend(protocolId: number, payload: Uint8Array, maxFrameBytes: number): void {
  checkProtocolId(protocolId, 'send');
  if (!(payload instanceof Uint8Array)) {
    throw new InvalidArgumentError(`send: payload must be a Uint8Array (or Buffer), got ${typeof payload}`);
  }
  if (payload.length > maxFrameBytes) throw new FrameTooLargeError(payload.length, maxFrameBytes);
}

/** `checkSend` for a payload given as two parts. */
export function checkSendParts(protocolId: number, head: Uint8Array, body: Uint8Array, maxFrameBytes: number): void {
  checkProtocolId(protocolId, 'send');
  if (!(head instanceof Uint8Array) || !(body instanceof Uint8Array)) {
    throw new InvalidArgumentError(`send: payload parts must be Uint8Arrays (or Buffers), got ${typeof head} and ${typeof body}`);
  }
  const length = head.length + body.length;
  if (length > maxFrameBytes) throw new FrameTooLargeError(length, maxFrameBytes);
}

export class TransportEvents {
  private readonly handlers = new Map<number, FrameHandler>();
  /** Protocols whose handler borrows payloads (see FrameHandlerOptions). */
  private readonly borrowers = new Set<number>();
  private readonly upListeners = new Set<PeerUpListener>();
  private readonly downListeners = new Set<PeerDownListener>();
  private readonly droppedListeners = new Set<DroppedListener>();
  /** Protocols whose unhandled frames were already reported, so a busy peer does not flood the log. */
  private readonly reportedUnhandled = new Set<number>();

  constructor(private readonly logger: Logger) {}

  onFrame(protocolId: ProtocolId, handler: FrameHandler, options?: FrameHandlerOptions): Unsubscribe {
    checkProtocolId(protocolId, 'onFrame');
    if (typeof handler !== 'function') throw new InvalidArgumentError('onFrame: handler must be a function');
    if (options !== undefined && (typeof options !== 'object' || options === null ||
      !['undefined', 'boolean'].includes(typeof (options as { borrows?: unknown }).borrows))) {
      throw new InvalidArgumentError(`onFrame: options must be { borrows?: boolean }, got ${String(options)}`);
    }
    if (this.handlers.has(protocolId)) {
      throw new InvalidArgumentError(`onFrame: protocol ${protocolName(protocolId)} already has a handler; ` +
        'call the Unsubscribe returned by the first onFrame before setting another');
    }
    this.handlers.set(protocolId, handler);
    if (options?.borrows === true) this.borrowers.add(protocolId);
    else this.borrowers.delete(protocolId);
    return () => {
      if (this.handlers.get(protocolId) !== handler) return;
      this.handlers.delete(protocolId);
      this.borrowers.delete(protocolId);
    };
  }

  onPeerUp(listener: PeerUpListener): Unsubscribe {
    this.upListeners.add(listener);
    return () => this.upListeners.delete(listener);
  }

  onPeerDown(listener: PeerDownListener): Unsubscribe {
    this.downListeners.add(listener);
    return () => this.downListeners.delete(listener);
  }

  onDropped(listener: DroppedListener): Unsubscribe {
    this.droppedListeners.add(listener);
    return () => this.droppedListeners.delete(listener);
  }

  dropped(dropped: DroppedFrames): void {
    for (const listener of [...this.droppedListeners]) this.guard('dropped-frames listener', () => listener(dropped));
  }

  /**
   * Hands a frame to its protocol's handler; a throwing handler is logged, never fatal to the connection. A
   * `borrowed` payload (valid during the call only) goes to a handler that does not borrow as a copy.
   */
  deliver(protocolId: number, from: NodeId, payload: Uint8Array, borrowed = false): void {
    const handler = this.handlers.get(protocolId);
    if (handler === undefined) {
      if (!this.reportedUnhandled.has(protocolId)) {
        this.reportedUnhandled.add(protocolId);
        this.logger.debug(`Dropping ${protocolName(protocolId)} frames from ${from}: no handler is set for that protocol`);
      }
      return;
    }
    if (borrowed && !this.borrowers.has(protocolId)) payload = Buffer.from(payload); // a copy
    // On every frame: no closure and no label unless the handler throws.
    try {
      handler(from, payload);
    } catch (err) {
      this.report(`${protocolName(protocolId)} frame handler`, err);
    }
  }

  peerUp(peer: PeerInfo): void {
    for (const listener of [...this.upListeners]) this.guard('peer-up listener', () => listener(peer));
  }

  peerDown(peer: PeerInfo, reason: Error): void {
    for (const listener of [...this.downListeners]) this.guard('peer-down listener', () => listener(peer, reason));
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.report(what, err);
    }
  }

  private report(what: string, err: unknown): void {
    this.logger.error(`A ${what} threw; the transport carries on`, err instanceof Error ? err : new Error(String(err)));
  }
}

/** The listener half of the Transport interface, shared by every transport implementation. */
export abstract class TransportBase {
  protected readonly events: TransportEvents;

  protected constructor(logger: Logger) {
    this.events = new TransportEvents(logger);
  }

  /** See Transport.send. */
  abstract send(to: PeerTarget, protocolId: ProtocolId, payload: Uint8Array): void;

  /** See Transport.sendParts; this default joins the parts and calls `send`. */
  sendParts(to: PeerTarget, protocolId: ProtocolId, head: Uint8Array, body: Uint8Array): void {
    const payload = Buffer.allocUnsafe(head.length + body.length);
    payload.set(head, 0);
    payload.set(body, head.length);
    this.send(to, protocolId, payload);
  }

  /** See Transport.onFrame. */
  onFrame(protocolId: ProtocolId, handler: FrameHandler, options?: FrameHandlerOptions): Unsubscribe {
    return this.events.onFrame(protocolId, handler, options);
  }

  /** See Transport.onPeerUp. */
  onPeerUp(listener: PeerUpListener): Unsubscribe {
    return this.events.onPeerUp(listener);
  }

  /** See Transport.onPeerDown. */
  onPeerDown(listener: PeerDownListener): Unsubscribe {
    return this.events.onPeerDown(listener);
  }

  /** See Transport.onDropped. */
  onDropped(listener: DroppedListener): Unsubscribe {
    return this.events.onDropped(listener);
  }
}
