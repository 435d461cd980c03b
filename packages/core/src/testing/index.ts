// Test kit for Casty users and for Casty's own tests: a manual clock and condition waits.
export { ManualClock, flushMicrotasks } from './ManualClock';
export { waitUntil } from './waitUntil';
