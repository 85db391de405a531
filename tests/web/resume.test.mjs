// SPDX-License-Identifier: MIT
// Dropped connections in the session (www/js/session.js): resuming with the token, signals
// queued while down, a server that forgot us (bad_token: joined afresh, the call carried on),
// removal while away, and another window taking the session over (4000).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSession, connect, enter, SEED_TEXT } from './fake.mjs';

const BO = { id: 8, nickname: 'Bo', state: { mic: true, cam: true, hand: false } };
const CY = { id: 9, nickname: 'Cy' };
const DEE = { id: 10, nickname: 'Dee', state: { mic: false, cam: false, hand: true } };

/** A session in 'standup' with Bo and Cy whose socket just dropped. */
function dropped() {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO, CY], host: 8 });
  t.socket.up = false;
  t.session.closed(1006);
  t.clear();
  return t;
}

test('a drop in a room keeps the token for a resume; signals wait in a queue', () => {
  const t = dropped();
  assert.equal(t.state.resumeToken, 'tok-1');
  assert.equal(t.state.room, 'standup', 'the call stays');
  assert.equal(t.session.sendSignal({ type: 'signal', to: 8, data: { sdp: 'offer' } }), false);
  assert.equal(t.session.sendSignal({ type: 'state', mic: true }), false);
  assert.deepEqual(t.state.signalQueue, [{ type: 'signal', to: 8, data: { sdp: 'offer' } }], 'only signals are queued');
});

test('a resume is the first message; the new hello waits; resumed flushes the queue and our state', () => {
  const t = dropped();
  t.session.sendSignal({ type: 'signal', to: 8, data: { sdp: 'offer' } });
  t.socket.up = true;
  t.session.opened();
  assert.deepEqual(t.sent, [{ type: 'resume', token: 'tok-1' }]);
  assert.equal(t.state.resuming, true);
  t.session.setHand(true);
  assert.deepEqual(t.messages('state'), [], 'no state while resuming');
  t.receive({ type: 'hello', text: 'hello!', id: 12, nickname: 'Anon', token: 'tok-9', rooms: [] });
  assert.equal(t.state.id, 7, 'the hello waits for the resume');
  assert.equal(t.state.pendingHello.id, 12);
  t.receive({ type: 'resumed', id: 7, nickname: 'Ann', room: 'standup', token: 'tok-2' });
  assert.equal(t.state.resuming, false);
  assert.equal(t.state.pendingHello, null);
  assert.equal(t.state.resumeToken, null);
  assert.equal(t.state.token, 'tok-2');
  assert.deepEqual(t.sent.slice(1), [
    { type: 'signal', to: 8, data: { sdp: 'offer' } },
    { type: 'state', mic: true, cam: false, hand: true },
  ]);
  assert.deepEqual(t.state.signalQueue, []);
  assert.ok(t.of('conn').length > 0, 'the banner is updated');
});

test('the joined after a resume reconciles the members and keeps the call', () => {
  const t = dropped();
  t.socket.up = true;
  t.session.opened();
  t.receive({ type: 'resumed', id: 7, nickname: 'Ann', room: 'standup', token: 'tok-2' });
  t.clear();
  t.receive({
    type: 'joined',
    room: 'standup',
    id: 7,
    members: [{ id: 9, nickname: 'Cyril' }, DEE],
    count: 3,
    host: 8,
    locked: false,
    listed: false,
    protected: false,
  });
  assert.deepEqual([...t.state.members.keys()], [9, 10]);
  assert.deepEqual(t.callLog, [
    ['bye', 8],
    ['rename', 9, 'Cyril'],
    ['welcome', 10, 'Dee'],
    ['peerState', 10, DEE.state],
  ]);
  assert.deepEqual(t.notices(), [], 'no "You joined" again');
  assert.deepEqual(t.screens(), []);
  assert.equal(t.of('chatReset').length, 0, 'the chat stays');
  assert.deepEqual(t.messages(), [{ type: 'state', mic: true, cam: false, hand: false }]);
});

test('resumed in no room while we were in one: the host removed us while away', () => {
  const t = dropped();
  t.socket.up = true;
  t.session.opened();
  t.receive({ type: 'resumed', id: 7, nickname: 'Ann', room: null, token: 'tok-2' });
  assert.equal(t.state.room, null);
  assert.deepEqual(t.of('left'), [['removed', 'standup']]);
  assert.deepEqual(t.screens(), ['left']);
});

test('bad_token: the server forgot us; a fresh session rejoins with the passcode and listing it knew', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO], host: 7, protected: true, listed: true, passcode: 'pass-1234' });
  assert.equal(t.state.passcode, 'pass-1234');
  t.socket.up = false;
  t.session.closed(1006);
  t.session.sendSignal({ type: 'signal', to: 8, data: {} });
  t.socket.up = true;
  t.clear();
  t.session.opened();
  t.receive({ type: 'hello', text: 'hello!', id: 12, nickname: 'Anon', token: 'tok-9', rooms: [] });
  t.receive({ type: 'error', code: 'bad_token', message: 'unknown token' });
  assert.equal(t.state.resuming, false);
  assert.equal(t.state.id, 12);
  assert.equal(t.state.token, 'tok-9');
  assert.deepEqual(t.state.signalQueue, [], 'old signals are dropped');
  assert.equal(t.state.carry, true, 'the live call is carried over');
  assert.deepEqual(t.sent, [
    { type: 'resume', token: 'tok-1' },
    SEED_TEXT,
    { type: 'nickname', nickname: 'Ann' },
    { type: 'join', room: 'standup', passcode: 'pass-1234', listed: true },
  ]);
  assert.deepEqual(t.alerts(), [], 'nothing for the user to do');

  t.receive({ type: 'nickname', nickname: 'Ann' });
  t.clear();
  t.receive({ type: 'joined', room: 'standup', id: 12, members: [], count: 1, host: 12, locked: false, listed: true, protected: true, passcode: 'pass-1234' });
  assert.equal(t.state.carry, false);
  assert.deepEqual(t.callLog, [['carry', { selfId: 12, nickname: 'Ann', members: [] }]]);
  assert.deepEqual(t.notices(), [], 'the call goes on without a "You joined"');
  assert.equal(t.of('chatReset').length, 0);
  assert.equal(t.session.isHost(), true);
  assert.deepEqual(t.messages('state'), [{ type: 'state', mic: true, cam: false, hand: false }]);

  // Bo comes back with a new id: his kept connection takes it, quietly.
  t.carrying.add('Bo');
  t.receive({ type: 'welcome', room: 'standup', id: 13, nickname: 'Bo', count: 2, host: 12, locked: false, listed: true, protected: true });
  assert.deepEqual(t.notices(), []);
});

test('a rejoin refused after a restart goes to the pre-join screen', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO], host: 8 });
  t.socket.up = false;
  t.session.closed(1006);
  t.socket.up = true;
  t.session.opened();
  t.receive({ type: 'hello', id: 12, nickname: 'Anon', token: 'tok-9', rooms: [] });
  t.receive({ type: 'error', code: 'bad_token' });
  t.clear();
  t.receive({ type: 'error', code: 'room_locked' });
  assert.equal(t.state.carry, false);
  assert.deepEqual(t.callLog, [['end']]);
  assert.deepEqual(t.screens(), ['prejoin']);
  assert.equal(t.of('openPreJoin')[0].room, 'standup');
  assert.deepEqual(t.of('refuse'), ['The host has locked this meeting. You can join when they unlock it.']);
});

test('a drop outside a room is not resumed', () => {
  const t = makeSession();
  connect(t);
  t.socket.up = false;
  t.session.closed(1006);
  assert.equal(t.state.resumeToken, null);
  t.socket.up = true;
  t.clear();
  t.session.opened();
  assert.deepEqual(t.sent, [SEED_TEXT]);
  t.receive({ type: 'hello', id: 20, nickname: 'Anon', token: 'tok-5', rooms: [] });
  assert.equal(t.state.id, 20);
});

test('the name we chose is sent again to a fresh session', () => {
  const t = makeSession();
  connect(t);
  t.session.setNickname('Ann');
  t.receive({ type: 'nickname', nickname: 'Ann' });
  t.clear();
  t.session.opened();
  t.receive({ type: 'hello', id: 21, nickname: 'Anon', token: 'tok-6', rooms: [] });
  assert.deepEqual(t.messages(), [{ type: 'nickname', nickname: 'Ann' }]);
});

test('another window resumed the session (4000): this one stops and leaves the call', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO] });
  t.clear();
  t.session.closed(4000);
  assert.deepEqual(t.alerts(), ['This meeting continued in another window, so this one stopped.']);
  assert.equal(t.state.resumeToken, null);
  assert.equal(t.state.room, null);
  assert.deepEqual(t.of('left'), [['left', 'standup']]);
});
