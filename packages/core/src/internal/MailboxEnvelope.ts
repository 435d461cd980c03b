// What the runtime itself puts in a mailbox around (or instead of) a user's message: an ask, a gated send, a
// timer's message, a stop in turn. One base class, so a plain message costs one `instanceof` to tell apart.

export abstract class MailboxEnvelope {}
