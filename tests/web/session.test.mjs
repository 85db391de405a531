// SPDX-License-Identifier: MIT
// The session's state machine (www/js/session.js) without a browser: connecting, invite links,
// joining, members coming and going, renames, hands, reactions, chat, leaving.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { makeSession, connect, enter, SEED_TEXT } from './fake.mjs';

const BO = { id: 8, nickname: 'Bo', state: { mic: false, cam: true, hand: false } };
const CY = { id: 9, nickname: 'Cy' };

test('a new connection greets with plain text; hello starts the session and lists the rooms', () => {
  const t = makeSession();
  t.session.opened();
  assert.deepEqual(t.sent, [SEED_TEXT]);
  const rooms = [{ name: 'lobby', count: 2, capacity: 8, locked: false, protected: false }, { name: 42 }];
  t.receive({ type: 'hello', text: 'hi there', id: 3, nickname: 'Anon', token: 'abc', rooms });
  assert.equal(t.state.id, 3);
  assert.equal(t.state.nickname, 'Anon');
  assert.equal(t.state.token, 'abc');
  assert.deepEqual(t.of('greeting'), ['hi there']);
  assert.deepEqual(t.of('rooms'), [rooms]);
  assert.deepEqual([...t.state.roomInfo.keys()], ['lobby'], 'entries without a name are dropped');
  assert.deepEqual(t.screens(), [], 'no invite: the home screen stays');
});

test('an invite link with a name joins at once, with the passcode this tab knows', () => {
  const t = makeSession({ invite: { room: 'standup', name: 'Zed', passcode: null }, known: { standup: 'pass-1234' } });
  connect(t);
  assert.deepEqual(t.messages(), [
    { type: 'nickname', nickname: 'Zed' },
    { type: 'join', room: 'standup', passcode: 'pass-1234' },
  ]);
  assert.equal(t.state.pendingRoom, 'standup');
  assert.equal(t.state.joinPasscode, 'pass-1234');
  assert.deepEqual(t.state.invite, { room: null, name: null, passcode: null }, 'the invite is used once');
  assert.deepEqual(t.screens(), []);
});

test('an invite link without a name opens the pre-join screen; a listed room with a passcode asks for it', () => {
  const t = makeSession({ invite: { room: 'vault', name: null, passcode: null } });
  connect(t, { rooms: [{ name: 'vault', count: 3, capacity: 8, locked: false, protected: true }] });
  assert.deepEqual(t.screens(), ['prejoin']);
  assert.equal(t.state.view, 'prejoin');
  assert.equal(t.state.prejoinRoom, 'vault');
  assert.deepEqual(t.of('openPreJoin'), [{ room: 'vault', count: 3, creating: false, summary: '', askPasscode: true, passcode: '' }]);
  assert.deepEqual(t.messages(), [], 'nothing sent before the user says so');

  // A later room list updates the count on the pre-join screen.
  t.receive({ type: 'rooms', rooms: [{ name: 'vault', count: 5, capacity: 8, locked: false, protected: true }] });
  assert.deepEqual(t.of('prejoinCount'), [5]);
  t.receive({ type: 'rooms', rooms: [] });
  assert.deepEqual(t.of('prejoinCount'), [5, null]);
});

test('the pre-join screen does not ask for a passcode the tab knows, and prefills it', () => {
  const t = makeSession({ known: { vault: 'open-sesame' } });
  connect(t, { rooms: [{ name: 'vault', count: 1, capacity: 8, locked: false, protected: true }] });
  t.session.openPreJoin('  vault ');
  assert.deepEqual(t.of('openPreJoin'), [{ room: 'vault', count: 1, creating: false, summary: '', askPasscode: false, passcode: 'open-sesame' }]);
  t.session.openPreJoin('   ');
  assert.equal(t.of('openPreJoin').length, 1, 'a blank name opens nothing');
});

test('joined: the room, its members and host, the call, our state, the notice', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO, CY], host: 8 });
  assert.equal(t.state.room, 'standup');
  assert.equal(t.state.lastRoom, 'standup');
  assert.equal(t.state.pendingRoom, null);
  assert.equal(t.state.count, 3);
  assert.equal(t.state.host, 8);
  assert.equal(t.session.isHost(), false);
  assert.deepEqual([...t.state.members], [
    [8, { nickname: 'Bo', state: { mic: false, cam: true, hand: false } }],
    [9, { nickname: 'Cy', state: null }],
  ]);
  assert.deepEqual(t.notices(), ['You joined standup. Here: Bo, Cy.']);
  assert.deepEqual(t.screens(), ['room']);
  assert.deepEqual(t.of('entered'), ['standup']);
  assert.deepEqual(t.of('focus'), ['room']);
  assert.equal(t.of('chatReset').length, 1);
  assert.deepEqual(t.callLog.find((c) => c[0] === 'start'), ['start', { selfId: 7, nickname: 'Ann', members: [BO, CY] }]);
  assert.deepEqual(t.messages('join'), [{ type: 'join', room: 'standup' }]);
  assert.deepEqual(t.messages('state'), [{ type: 'state', mic: true, cam: false, hand: false }], 'our state right after joining');
  assert.deepEqual(t.of('toast'), [], 'nothing announced on joining');
});

test('joined an empty room we created: we are the host', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'solo', { host: 7 });
  assert.deepEqual(t.notices(), ['You joined solo. Nobody else is here yet.']);
  assert.equal(t.session.isHost(), true);
});

test('welcome, rename, state and bye keep the members and say so', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO], host: 8 });
  t.clear();
  const room = { host: 8, locked: false, listed: false, protected: false };
  t.receive({ type: 'welcome', room: 'elsewhere', id: 9, nickname: 'Cy', count: 5, ...room });
  assert.equal(t.state.members.has(9), false, 'another room is ignored');
  t.receive({ type: 'welcome', room: 'standup', id: 9, nickname: 'Cy', count: 3, ...room });
  assert.deepEqual(t.state.members.get(9), { nickname: 'Cy', state: null });
  assert.equal(t.state.count, 3);
  assert.deepEqual(t.notices(), ['Cy joined']);
  assert.deepEqual(t.of('chime'), ['join']);
  assert.deepEqual(t.of('notify'), [['Cy joined', 'in standup']]);
  assert.deepEqual(t.callLog, [['welcome', 9, 'Cy']]);

  t.receive({ type: 'renamed', id: 9, old: 'Cy', nickname: 'Cyd' });
  assert.equal(t.state.members.get(9).nickname, 'Cyd');
  assert.equal(t.notices().at(-1), 'Cy is now Cyd');

  t.receive({ type: 'state', id: 9, mic: 1, cam: 0, hand: true });
  t.receive({ type: 'state', id: 9, mic: true, cam: false, hand: true });
  assert.deepEqual(t.state.members.get(9).state, { mic: true, cam: false, hand: true });
  assert.deepEqual(t.toasts(), ['✋ Cyd raised a hand'], 'a raised hand is announced once');
  t.receive({ type: 'state', id: 99, mic: true, cam: true, hand: true });
  assert.equal(t.toasts().length, 1, 'state of a stranger is ignored');

  t.receive({ type: 'bye', room: 'standup', id: 9, nickname: 'Cyd', count: 2 });
  assert.equal(t.state.members.has(9), false);
  assert.equal(t.state.count, 2);
  assert.equal(t.notices().at(-1), 'Cyd left');
  assert.deepEqual(t.of('chime'), ['join', 'join', 'leave']);
  assert.deepEqual(t.callLog.at(-1), ['bye', 9]);
});

test('someone back after a server restart is welcomed without fanfare', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO], host: 8 });
  t.clear();
  t.carrying.add('Cy');
  t.receive({ type: 'welcome', room: 'standup', id: 19, nickname: 'Cy', count: 3, host: 8, locked: false, listed: false, protected: false });
  assert.deepEqual(t.notices(), []);
  assert.deepEqual(t.of('chime'), []);
  assert.deepEqual(t.callLog, [['welcome', 19, 'Cy']], 'the call still learns the new id');
});

test('our own nickname: remembered, said in a room', () => {
  const t = makeSession();
  connect(t);
  t.receive({ type: 'nickname', nickname: 'Ann' });
  assert.deepEqual(t.notices(), [], 'not in a room: nothing said');
  enter(t, 'standup', { nickname: 'Ann' });
  t.session.setNickname('Annie');
  assert.deepEqual(t.messages('nickname').at(-1), { type: 'nickname', nickname: 'Annie' });
  assert.equal(t.state.wantedNick, 'Annie');
  t.receive({ type: 'nickname', nickname: 'Annie' });
  assert.equal(t.state.nickname, 'Annie');
  assert.equal(t.notices().at(-1), 'You are now Annie');
  assert.deepEqual(t.of('nickname'), ['Ann', 'Annie']);
  assert.deepEqual(t.callLog.filter((c) => c[0] === 'setNickname'), [['setNickname', 'Ann'], ['setNickname', 'Annie']]);
});

test('chat keeps the server order; ours is an echo, others count as unread and notify', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO] });
  t.clear();
  const long = 'x'.repeat(200);
  t.receive(
    { type: 'chat', room: 'standup', from: { id: 8, nickname: 'Bo' }, text: 'first', seq: 1, ts: 1000 },
    { type: 'chat', room: 'standup', from: { id: 7, nickname: 'Ann' }, text: 'mine', seq: 2, ts: 2000 },
    { type: 'chat', room: 'other', from: { id: 8, nickname: 'Bo' }, text: 'elsewhere', seq: 9, ts: 2500 },
    { type: 'chat', room: 'standup', text: 'no sender', seq: 3, ts: 2600 },
    { type: 'chat', room: 'standup', from: { id: 8, nickname: 'Bo' }, text: long, seq: 3, ts: 3000 },
  );
  assert.deepEqual(t.of('chat'), [
    { nickname: 'Bo', own: false, text: 'first', ts: 1000, seq: 1 },
    { nickname: 'Ann', own: true, text: 'mine', ts: 2000, seq: 2 },
    { nickname: 'Bo', own: false, text: long, ts: 3000, seq: 3 },
  ]);
  assert.deepEqual(
    t.calls.map((c) => c[0]),
    ['chat', 'incoming', 'notify', 'chat', 'ownEcho', 'chat', 'incoming', 'notify'],
  );
  assert.deepEqual(t.of('notify'), [['Bo', 'first'], ['Bo', 'x'.repeat(140)]]);
});

test('raising a hand sends our state once; a forced send repeats it', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup');
  t.clear();
  t.session.setHand(true);
  assert.equal(t.state.hand, true);
  assert.deepEqual(t.of('hand'), [true]);
  assert.deepEqual(t.callLog, [['setOwnHand', true]]);
  assert.deepEqual(t.messages(), [{ type: 'state', mic: true, cam: false, hand: true }]);
  t.session.sendState();
  assert.equal(t.messages().length, 1, 'unchanged: not sent again');
  t.call.media.published = { audio: false, video: false };
  t.session.sendState();
  assert.deepEqual(t.messages().at(-1), { type: 'state', mic: false, cam: false, hand: true });
  t.session.sendState(true);
  assert.equal(t.messages().length, 3);
});

test('no state is sent outside a room', () => {
  const t = makeSession();
  connect(t);
  t.clear();
  t.session.setHand(true);
  t.session.sendState(true);
  assert.deepEqual(t.messages(), []);
});

test('reactions name who sent them; signals reach the call only in a room', () => {
  const t = makeSession();
  connect(t);
  t.receive({ type: 'signal', from: 8, data: { sdp: 'x' } });
  assert.deepEqual(t.callLog, [], 'no room: no signal');
  enter(t, 'standup', { members: [BO] });
  t.clear();
  t.receive(
    { type: 'react', id: 7, emoji: '🎉' },
    { type: 'react', id: 8, emoji: '👍' },
    { type: 'react', id: 99, emoji: '👏' },
    { type: 'react', id: 8, emoji: 5 },
  );
  assert.deepEqual(t.of('reaction'), [['🎉', 'You'], ['👍', 'Bo'], ['👏', '']]);
  t.session.react('👍');
  assert.deepEqual(t.messages(), [{ type: 'react', emoji: '👍' }]);
  t.receive({ type: 'signal', from: 8, data: { sdp: 'x' } });
  assert.deepEqual(t.callLog, [['signal', 8, { sdp: 'x' }]]);
});

test('leaving: the "you left" screen with Rejoin, the call ended, the room list asked for', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO] });
  t.session.setHand(true);
  t.clear();
  t.session.leaveRoom();
  assert.deepEqual(t.messages(), [{ type: 'leave' }]);
  t.receive({ type: 'left', room: 'standup' });
  assert.equal(t.state.room, null);
  assert.equal(t.state.lastRoom, 'standup');
  assert.equal(t.state.members.size, 0);
  assert.equal(t.state.hand, false);
  assert.deepEqual(t.of('left'), [['left', 'standup']]);
  assert.deepEqual(t.screens(), ['left']);
  assert.deepEqual(t.of('focus'), ['left']);
  assert.equal(t.of('leftRoom').length, 1);
  assert.deepEqual(t.callLog.filter((c) => c[0] === 'end'), [['end']]);
  assert.deepEqual(t.messages().at(-1), { type: 'list' });
  assert.equal(t.messages('state').length, 0, 'the lowered hand is not sent after leaving');
  t.session.leaveRoom();
  assert.equal(t.messages('leave').length, 1, 'not in a room: nothing to leave');
  t.session.rejoin();
  assert.equal(t.of('openPreJoin').at(-1).room, 'standup');
});

test('leaving while offline leaves at once', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup');
  t.socket.up = false;
  t.session.leaveRoom();
  assert.deepEqual(t.alerts(), ['Not connected to the server; try again in a moment.']);
  assert.equal(t.state.room, null);
  assert.deepEqual(t.screens().at(-1), 'left');
});

test('starting a new meeting: the pre-join summary and the create join', () => {
  const t = makeSession();
  connect(t);
  t.session.createMeeting('quiet-otter', { listed: false, passcode: 'pass-1234', generated: true });
  assert.deepEqual(t.of('openPreJoin'), [{
    room: 'quiet-otter',
    count: null,
    creating: true,
    summary: 'Private: only people with the link can find it. A passcode is needed to join.',
    askPasscode: false,
    passcode: '',
  }]);
  assert.equal(t.session.joinFromPreJoin('Ann', null), true);
  assert.deepEqual(t.messages(), [
    { type: 'nickname', nickname: 'Ann' },
    { type: 'join', room: 'quiet-otter', passcode: 'pass-1234', create: true },
  ]);
  t.receive({ type: 'nickname', nickname: 'Ann' });
  t.receive({ type: 'joined', room: 'quiet-otter', id: 7, members: [], count: 1, host: 7, locked: false, listed: false, protected: true, passcode: 'pass-1234' });
  assert.equal(t.state.create, null);
  assert.equal(t.state.passcode, 'pass-1234');
  assert.equal(t.stored.get('quiet-otter'), 'pass-1234', 'the host keeps the passcode for this tab');
  assert.equal(t.session.linkLacksPasscode(), false);
});

test('"Back" on the pre-join screen forgets the meeting being started and goes home', () => {
  const t = makeSession();
  connect(t);
  t.session.createMeeting('listed-one', { listed: true, passcode: null, generated: false });
  assert.equal(t.of('openPreJoin')[0].summary, 'Listed on the home page, where anyone can find it.');
  t.session.back();
  assert.equal(t.state.create, null);
  assert.equal(t.state.view, 'home');
  assert.deepEqual(t.screens(), ['prejoin', 'home']);
  assert.equal(t.of('clearInvite').length, 1);
  assert.deepEqual(t.callLog, [['end']]);
});

test('joining sends only a usable passcode, and the create and listed flags', () => {
  const t = makeSession({ known: { bad: 'no' } });
  connect(t);
  t.session.joinRoom('bad');
  t.session.joinRoom('new-one', null, { create: true, listed: true, passcode: null });
  assert.equal(t.session.joinRoom('  '), false);
  assert.deepEqual(t.messages(), [
    { type: 'join', room: 'bad' },
    { type: 'join', room: 'new-one', create: true, listed: true },
  ]);
});

test('every server message type has a handler; unknown ones are ignored', () => {
  const t = makeSession();
  const types = ['hello', 'resumed', 'nickname', 'rooms', 'joined', 'welcome', 'bye', 'renamed', 'state', 'react', 'left', 'room', 'removed', 'signal', 'chat', 'error'];
  assert.deepEqual(Object.keys(t.session.handlers).sort(), [...types].sort());
  for (const type of types) assert.equal(typeof t.session.handlers[type], 'function');
  t.receive({ type: 'nope' }, { type: 'toString' }, { type: '__proto__' }, { type: 'constructor' });
  assert.deepEqual(t.calls, []);
});

test('session.js names no browser global: it stays importable and testable without a DOM', () => {
  const source = fs.readFileSync(new URL('../../www/js/session.js', import.meta.url), 'utf8');
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, "''") // texts such as "another window"
    .replace(/\/\/.*$/gm, '');
  const globals = code.match(/\b(document|window|location|history|navigator|localStorage|sessionStorage|Notification|WebSocket|HTMLElement)\b/g);
  assert.equal(globals, null);
});
