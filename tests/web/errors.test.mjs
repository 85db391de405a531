// SPDX-License-Identifier: MIT
// Server errors in the session (www/js/session.js): join refusals explained on the pre-join
// screen, a taken name, a full room, chat refusals, and the errors the user never sees.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSession, connect, enter } from './fake.mjs';

/** Connected as "Ann", on the pre-join screen of `room`. */
function onPreJoin(room, options) {
  const t = makeSession(options);
  connect(t);
  t.session.setNickname('Ann');
  t.receive({ type: 'nickname', nickname: 'Ann' });
  t.session.openPreJoin(room);
  t.clear();
  return t;
}

test('a passcode is needed: asked for; a wrong one is forgotten and asked again', () => {
  const t = onPreJoin('vault', { known: { vault: 'old-pass' } });
  assert.equal(t.session.joinFromPreJoin('Ann', null), true);
  assert.deepEqual(t.messages(), [{ type: 'join', room: 'vault', passcode: 'old-pass' }], 'the known passcode is tried');
  t.receive({ type: 'error', code: 'bad_passcode' });
  assert.deepEqual(t.of('askPasscode'), [['Wrong passcode. Try again.', true]]);
  assert.equal(t.stored.has('vault'), false, 'a wrong passcode is forgotten');
  assert.equal(t.state.pendingRoom, null);
  assert.deepEqual(t.screens(), [], 'the pre-join screen stays');

  t.clear();
  assert.equal(t.session.joinFromPreJoin('Ann', null), true);
  assert.deepEqual(t.messages(), [{ type: 'join', room: 'vault' }]);
  t.receive({ type: 'error', code: 'bad_passcode' });
  assert.deepEqual(t.of('askPasscode'), [['This meeting needs a passcode.', false]]);

  // The field is now shown: what is typed is checked before it is sent.
  t.ui.asksPasscode = true;
  t.clear();
  assert.equal(t.session.joinFromPreJoin('Ann', null), false);
  assert.equal(t.session.joinFromPreJoin('Ann', 'abc'), false);
  assert.deepEqual(t.of('askPasscode'), [['Enter the passcode to join.', true], ['A passcode has 4 to 64 characters.', true]]);
  assert.deepEqual(t.messages(), []);
  assert.equal(t.session.joinFromPreJoin('Ann', 'right-one'), true);
  assert.deepEqual(t.messages(), [{ type: 'join', room: 'vault', passcode: 'right-one' }]);
  t.receive({ type: 'joined', room: 'vault', id: 7, members: [], count: 1, host: 3, locked: false, listed: false, protected: true });
  assert.equal(t.stored.get('vault'), 'right-one', 'the passcode that opened the room is kept');
  assert.equal(t.state.passcode, 'right-one');
});

test('locked, and too many wrong passcodes: refused on the pre-join screen', () => {
  const t = onPreJoin('vault');
  t.session.joinFromPreJoin('Ann', null);
  t.receive({ type: 'error', code: 'room_locked' });
  t.ui.asksPasscode = true;
  t.session.joinFromPreJoin('Ann', 'guess-1');
  t.receive({ type: 'error', code: 'rate_limited' });
  assert.deepEqual(t.of('refuse'), [
    'The host has locked this meeting. You can join when they unlock it.',
    'Too many wrong passcodes. Try again in a minute.',
  ]);
  assert.deepEqual(t.alerts(), []);
});

test('a made-up name that is taken: another one is made up and tried', () => {
  const t = makeSession();
  connect(t);
  t.session.createMeeting('quiet-otter-aaaa-bbbb-cccc', { listed: true, passcode: null, generated: true });
  t.session.joinFromPreJoin('Anon', null);
  t.clear();
  t.receive({ type: 'error', code: 'room_exists' });
  assert.equal(t.state.prejoinRoom, 'made-up-1');
  assert.deepEqual(t.of('prejoinRoom'), ['made-up-1']);
  assert.deepEqual(t.messages(), [{ type: 'join', room: 'made-up-1', create: true, listed: true }]);
  assert.deepEqual(t.alerts(), []);
});

test('a chosen name that is taken: back to the create form with it, and why', () => {
  const t = makeSession();
  connect(t);
  t.session.createMeeting('team', { listed: false, passcode: null, generated: false });
  t.session.joinFromPreJoin('Anon', null);
  t.clear();
  t.receive({ type: 'error', code: 'room_exists' });
  assert.deepEqual(t.callLog, [['end']]);
  assert.deepEqual(t.screens(), ['home']);
  assert.deepEqual(t.of('openCreate'), ['team']);
  assert.deepEqual(t.alerts(), ['A meeting with that name is already happening. Choose another name, or join it with “Join a meeting”.']);
  assert.equal(t.state.create, null);
});

test('a full room: home, the camera released, and why', () => {
  const t = onPreJoin('busy');
  t.session.joinFromPreJoin('Ann', null);
  t.receive({ type: 'error', code: 'room_full', message: 'the room is full' });
  assert.equal(t.state.pendingRoom, null);
  assert.deepEqual(t.callLog, [['end']]);
  assert.deepEqual(t.screens(), ['home']);
  assert.deepEqual(t.alerts(), ['That meeting is full. Try again later, or start a meeting with another name.']);
});

test('a join refused while in a room only says why', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup');
  t.clear();
  t.session.joinRoom('vault');
  t.receive({ type: 'error', code: 'room_locked' });
  assert.equal(t.state.room, 'standup');
  assert.deepEqual(t.alerts(), ['The host has locked this meeting. You can join when they unlock it.']);
  assert.deepEqual(t.screens(), []);
});

test('chat refusals keep the text; not_in_room only matters for chat', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup');
  t.clear();
  t.session.send({ type: 'chat', text: 'hi' }, 'chat');
  t.receive({ type: 'error', code: 'rate_limited' });
  assert.equal(t.of('chatFailed').length, 1);
  assert.deepEqual(t.alerts(), ['You are sending messages too quickly. Your message is still in the box; send it again in a moment.']);
  t.session.send({ type: 'react', emoji: '👍' }, 'react');
  t.receive({ type: 'error', code: 'not_in_room' });
  assert.equal(t.alerts().length, 1, 'not_in_room after a reaction: silent');
  t.session.send({ type: 'chat', text: 'hi' }, 'chat');
  t.receive({ type: 'error', code: 'not_in_room' });
  assert.deepEqual(t.alerts().at(-1), 'You are not in a meeting any more. Join again to keep talking.');
  assert.equal(t.of('chatFailed').length, 2);
});

test('errors the user can do nothing about are only logged', (ctx) => {
  const warned = [];
  ctx.mock.method(console, 'warn', (...args) => warned.push(args));
  const t = makeSession();
  connect(t);
  enter(t, 'standup');
  t.clear();
  t.receive({ type: 'error', code: 'no_such_peer', message: 'gone' }, { type: 'error', code: 'unknown_type' }, { type: 'error', code: 'bad_json' });
  assert.deepEqual(t.calls, []);
  assert.deepEqual(warned.map((w) => w[1]), ['no_such_peer', 'unknown_type', 'bad_json']);
  t.receive({ type: 'error' });
  assert.deepEqual(t.alerts(), ['Something went wrong on the server. Please try again.']);
});

test('the host-only errors and a nickname refusal are worded for what was done', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [{ id: 8, nickname: 'Bo' }], host: 8 });
  t.clear();
  t.session.send({ type: 'lock', locked: true }, 'lock');
  t.receive({ type: 'error', code: 'not_host' });
  t.session.setNickname('x'.repeat(40));
  t.receive({ type: 'error', code: 'bad_field' });
  assert.deepEqual(t.alerts(), ['Only the host can do that.', 'That name cannot be used. Use 1 to 32 characters.']);
});

test('offline: nothing is sent, the user is told, no join is pending', () => {
  const t = makeSession();
  connect(t);
  t.socket.up = false;
  t.clear();
  assert.equal(t.session.joinRoom('standup', 'Ann'), false);
  assert.equal(t.state.pendingRoom, null);
  assert.deepEqual(t.alerts(), ['Not connected to the server; try again in a moment.']);
  assert.equal(t.session.send({ type: 'list' }), false);
  assert.equal(t.session.sendPasscode('pass-1234'), false);
  assert.equal(t.state.passcodeSent, false);
});
