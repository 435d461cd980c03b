// The codec's internal signal that a value cannot be written. It travels up through msgpack's encoder to
// `Codec.encode`, which knows the whole message and so can say where the value sits (see `describeUnencodable`).

/** Thrown inside the encoder for a value the wire cannot carry; never escapes `Codec.encode`. */
export class Unencodable {
  constructor(readonly value: unknown, readonly reason: 'value' | 'depth') {}
}
