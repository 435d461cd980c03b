// For Casty's own packages (the cluster), not for users: the pieces of the runtime they build on.
// Nothing here is covered by semver.
export { LocalActorRef } from './LocalActorRef';
export { StoppedActorRef } from './StoppedActorRef';
export { RESOLVED } from './Runtime';
export { AskRegistry, PendingAsk } from './AskRegistry';
export type { AskObserver, AskTrace } from './AskRegistry';
export { MAX_TIMER_DELAY_MS } from '../Clock';
export { PendingSend, REPLY_RELAYED } from './ReplyGate';
export type { GatedCell, RelayableReply, ReplyGate } from './ReplyGate';
export { spawnSystemActor, spawnChildNow, detachAsk, hasChild } from './systemActors';
export type { DetachedAsk } from './ActorCell';
export { StopInTurn } from './StopInTurn';
export { declaredHandledClasses } from './metadata';
export { checkLogger } from '../loggers';
export { mailboxDepths, observeAsks, runtimeStats } from './runtimeStats';
export type { MailboxDepths, RuntimeStats } from './runtimeStats';
export { internUtf8 } from '../codec/WireReader';
