// A stop that waits its turn in the mailbox (Akka's PoisonPill): the messages queued before it are processed,
// then `beforeStop` sees the instance (a shard hand-off captures its state there) and the actor stops. Messages
// queued after it become dead letters, as for any stopped actor.

import { MailboxEnvelope } from './MailboxEnvelope';
import type { Actor } from '../Actor';

export class StopInTurn extends MailboxEnvelope {
  constructor(readonly beforeStop?: (instance: Actor<unknown>) => void) {
    super();
  }
}
