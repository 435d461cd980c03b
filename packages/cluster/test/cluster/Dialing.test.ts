// Whom a node dials, over real TCP: never an address another node names. A peer (here a raw client that
// completed the handshake) that sends a peer list, or a SWIM ping-req for a node that is no member, naming an
// address, gets no connection made to that address; the node answers the peer over a connection to the address
// the peer announced for itself.

import { Codec } from '@casty/core';
import { EnvelopeKind, ProtocolId } from '@casty/cluster/internal';
import { encodeEnvelope, NO_BODY } from '../../src/remote/envelope';
import { encodeFrame as swimFrame, encodeMessage, SwimKind } from '../../src/membership/messages';
import { encodeFrame } from '../../src/transport/frame';
import { cleanup, rawHandshake, rawServer, waitUntil } from '../helpers';
import { TestNodes } from '../remote/nodes';

afterEach(cleanup);

describe('dialing', () => {
  const nodes = new TestNodes('tcp');
  afterEach(() => nodes.shutdown());

  /**
   * Node a; a trap (a listener nobody should dial) and the address peer x announces, each recording the
   * connections it gets; and x, a raw client that completed the handshake with a.
   */
  async function setUp() {
    const a = await nodes.start('a');
    const trap: unknown[] = [];
    const { port: trapPort } = await rawServer((socket) => trap.push(socket));
    const own: unknown[] = [];
    const { port: ownPort } = await rawServer((socket) => own.push(socket));
    const peer = await rawHandshake(a.system.address.port, 'x', undefined, 'casty', { listenPort: ownPort });
    return { trap, trapPort, own, peer };
  }

  test('a peer list from another node makes no connection; a reply goes to the asker\'s own address', async () => {
    const { trap, trapPort, own, peer } = await setUp();
    const codec = new Codec();
    // The retired full-mesh peer list (kind PEERS), naming an address, then a lookup on the same connection.
    peer.write(encodeFrame(ProtocolId.ACTOR, encodeEnvelope(codec, [EnvelopeKind.PEERS], [['evil', '127.0.0.1', trapPort]])));
    peer.write(encodeFrame(ProtocolId.ACTOR, encodeEnvelope(codec, [EnvelopeKind.LOOKUP, 1, 'nobody'], NO_BODY)));
    // The lookup is answered over a connection a makes to the address x announced: the peer list was read before it.
    await waitUntil('a dials the address x announced, to answer its lookup', () => own.length === 1, 10_000);
    expect(trap).toEqual([]);
  });

  test('a ping-req for a node that is no member makes no connection; it is answered with a nack', async () => {
    const { trap, trapPort, own, peer } = await setUp();
    const pingReq = encodeMessage({ kind: SwimKind.PING_REQ, seq: 7, target: 'ghost',
      targetAddress: { host: '127.0.0.1', port: trapPort }, wantNack: true });
    peer.write(encodeFrame(ProtocolId.SWIM, swimFrame(pingReq, [])));
    await waitUntil('a answers x (the nack), at the address x announced', () => own.length >= 1, 10_000);
    expect(trap).toEqual([]);
  });
});
