// The codec's errors. Each has its own stable code and is registered with `registerErrorClass`, so one that
// crosses the wire (say, as the rejection of a remote ask) is rebuilt as the same class on the other node.

import { CastyError, registerErrorClass } from '../errors';

/**
 * A value could not be turned into bytes: it holds an unregistered class, a function, a symbol, or is nested
 * too deeply (or cyclic). Raised by `Codec.encode`, so the sender learns of it, not the receiver.
 */
export class MessageEncodingError extends CastyError {
  static readonly code = 'MESSAGE_ENCODING';
  /** Where in the message the bad value sits, e.g. `order.items[2]`; empty for the message itself. */
  readonly path: string;
  /** The class name (or `typeof`) of the value that could not be encoded. */
  readonly valueClass: string;

  constructor(message: string, path: string, valueClass: string, options?: { cause?: unknown }) {
    super(MessageEncodingError.code, message, options);
    this.path = path;
    this.valueClass = valueClass;
  }
}

/**
 * Bytes named a message class (by its `@message` wire name) that is not registered on this node.
 * The bytes themselves were sound; the cluster turns this into a dead letter.
 */
export class UnknownMessageClassError extends CastyError {
  static readonly code = 'UNKNOWN_MESSAGE_CLASS';

  constructor(readonly wireName: string) {
    super(UnknownMessageClassError.code,
      `Received a message of class '${wireName}', which is not registered on this node; load the module that ` +
      `declares it with @message('${wireName}') on this node too, or check that both nodes run the same version`);
  }
}

/** Bytes could not be decoded: they are truncated, corrupt, too large, or not written by a Casty codec. */
export class MalformedMessageError extends CastyError {
  static readonly code = 'MALFORMED_MESSAGE';

  constructor(reason: string, options?: { cause?: unknown }) {
    super(MalformedMessageError.code,
      `Could not decode a message: ${reason}. The bytes are corrupt or were not written by a compatible Casty codec`,
      options);
  }
}

registerErrorClass(MessageEncodingError.code, MessageEncodingError);
registerErrorClass(UnknownMessageClassError.code, UnknownMessageClassError);
registerErrorClass(MalformedMessageError.code, MalformedMessageError);
