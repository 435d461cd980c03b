// The message codec's public names.

export { Codec } from './Codec';
export { CODEC_DEFAULTS, type CodecOptions, type RefHook } from './CodecOptions';
export { MalformedMessageError, MessageEncodingError, UnknownMessageClassError } from './errors';
export { WireType, type WireTypeNumber } from './wireTypes';
