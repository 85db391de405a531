// SPDX-License-Identifier: MIT
// The room's host, lock and passcode in the session (www/js/session.js): the host hand-over,
// locking, passcode changes as the host and as a member, removing and being removed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSession, connect, enter } from './fake.mjs';

const BO = { id: 8, nickname: 'Bo' };
const CY = { id: 9, nickname: 'Cy' };
const ROOM = { room: 'standup', listed: false };

test('the host role passes to us: said once, in a toast and in the chat', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO], host: 8 });
  t.clear();
  t.receive({ type: 'room', ...ROOM, change: 'host', host: 7, locked: false, protected: false });
  assert.equal(t.session.isHost(), true);
  assert.deepEqual(t.toasts(), ['You are now the host']);
  assert.deepEqual(t.notices(), ['You are now the host.']);
  assert.equal(t.of('roomState').length, 1, 'the host controls are rendered');
  t.receive({ type: 'room', ...ROOM, change: 'lock', host: 7, locked: false, protected: false });
  assert.equal(t.toasts().length, 1, 'nothing changed: nothing said');
});

test('the host role passes to someone else: named, or "Someone" when unknown', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO, CY], host: 8 });
  t.clear();
  t.receive({ type: 'room', ...ROOM, change: 'host', host: 9, locked: false, protected: false });
  assert.equal(t.session.isHost(), false);
  assert.deepEqual(t.toasts(), ['Cy is now the host']);
  assert.deepEqual(t.notices(), ['Cy is now the host.']);
  t.receive({ type: 'room', ...ROOM, change: 'host', host: 42, locked: false, protected: false });
  assert.deepEqual(t.notices(), ['Cy is now the host.', 'Someone is now the host.']);
  t.receive({ type: 'room', room: 'elsewhere', change: 'host', host: 7, locked: true, protected: false });
  assert.equal(t.state.host, 42, 'another room is ignored');
});

test('the host locks and unlocks; a member only sees it', () => {
  const host = makeSession();
  connect(host);
  enter(host, 'standup', { host: 7 });
  host.clear();
  host.session.toggleLock();
  assert.deepEqual(host.messages(), [{ type: 'lock', locked: true }]);
  host.receive({ type: 'room', ...ROOM, change: 'lock', host: 7, locked: true, protected: false });
  assert.equal(host.state.locked, true);
  assert.deepEqual(host.notices(), ['You locked the meeting: nobody new can join.']);
  assert.deepEqual(host.toasts(), ['You locked the meeting']);
  host.session.toggleLock();
  assert.deepEqual(host.messages().at(-1), { type: 'lock', locked: false });
  host.receive({ type: 'room', ...ROOM, change: 'lock', host: 7, locked: false, protected: false });
  assert.deepEqual(host.notices().at(-1), 'You unlocked the meeting.');
  assert.deepEqual(host.toasts().at(-1), 'You unlocked the meeting');

  const member = makeSession();
  connect(member);
  enter(member, 'standup', { members: [BO], host: 8 });
  member.clear();
  member.session.toggleLock();
  assert.deepEqual(member.messages(), [], 'only the host may lock');
  member.receive({ type: 'room', ...ROOM, change: 'lock', host: 8, locked: true, protected: false });
  member.receive({ type: 'room', ...ROOM, change: 'lock', host: 8, locked: false, protected: false });
  assert.deepEqual(member.notices(), ['The host locked the meeting: nobody new can join.', 'The host unlocked the meeting.']);
  assert.deepEqual(member.toasts(), ['The host locked the meeting', 'The host unlocked the meeting']);
});

test('the host sets and removes the passcode: confirmed, kept for the tab and the invite link', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { host: 7 });
  t.clear();
  assert.equal(t.session.sendPasscode('open-sesame'), true);
  assert.deepEqual(t.messages(), [{ type: 'passcode', passcode: 'open-sesame' }]);
  t.receive({ type: 'room', ...ROOM, change: 'passcode', host: 7, locked: false, protected: true, passcode: 'open-sesame' });
  assert.equal(t.state.protected, true);
  assert.equal(t.state.passcode, 'open-sesame');
  assert.equal(t.stored.get('standup'), 'open-sesame');
  assert.equal(t.session.linkLacksPasscode(), false);
  assert.deepEqual(t.toasts(), ['Passcode saved']);
  assert.deepEqual(t.notices(), ['You set a passcode: new people need it to join.']);

  t.session.sendPasscode(null);
  t.receive({ type: 'room', ...ROOM, change: 'passcode', host: 7, locked: false, protected: false, passcode: null });
  assert.equal(t.state.passcode, null);
  assert.equal(t.stored.has('standup'), false);
  assert.deepEqual(t.toasts(), ['Passcode saved', 'Passcode removed']);
  assert.deepEqual(t.notices().at(-1), 'You removed the passcode.');
  assert.equal(t.state.passcodeSent, false);
});

test('a refused passcode change is not confirmed later', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { host: 7 });
  t.session.sendPasscode('x\ny!');
  assert.equal(t.state.passcodeSent, true);
  t.receive({ type: 'error', code: 'bad_field', message: 'passcode' });
  assert.equal(t.state.passcodeSent, false);
  assert.deepEqual(t.alerts(), ['A passcode has 4 to 64 characters, without line breaks.']);
  t.receive({ type: 'room', ...ROOM, change: 'lock', host: 7, locked: true, protected: false });
  assert.deepEqual(t.toasts(), ['You locked the meeting'], 'no "Passcode saved"');
});

test('a member told of a new passcode forgets the old one for the invite link, not for the tab', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO], host: 8, protected: true, joinOptions: { passcode: 'first-pass' } });
  assert.deepEqual(t.messages('join'), [{ type: 'join', room: 'standup', passcode: 'first-pass' }]);
  assert.equal(t.state.passcode, 'first-pass', 'joined with it: we know it');
  assert.equal(t.stored.get('standup'), 'first-pass');
  assert.equal(t.session.linkLacksPasscode(), false);
  t.clear();
  t.receive({ type: 'room', ...ROOM, change: 'passcode', host: 8, locked: false, protected: true });
  assert.deepEqual(t.notices(), ['The host changed the passcode for new people.']);
  assert.equal(t.state.passcode, null);
  assert.equal(t.session.linkLacksPasscode(), true);
  assert.equal(t.stored.get('standup'), 'first-pass', 'the tab keeps the one it joined with');

  t.receive({ type: 'room', ...ROOM, change: 'passcode', host: 8, locked: false, protected: false });
  assert.deepEqual(t.notices().at(-1), 'The host removed the passcode.');
  assert.equal(t.stored.has('standup'), false);
  assert.equal(t.session.linkLacksPasscode(), false);
  t.receive({ type: 'room', ...ROOM, change: 'passcode', host: 8, locked: false, protected: true });
  assert.deepEqual(t.notices().at(-1), 'The host set a passcode for new people.');
  assert.deepEqual(t.toasts(), [], 'passcode changes are not toasted to members');
});

test('a welcome carries room changes too', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO], host: 8 });
  t.clear();
  t.receive({ type: 'welcome', room: 'standup', id: 9, nickname: 'Cy', count: 3, host: 8, locked: true, listed: false, protected: false });
  assert.equal(t.state.locked, true);
  assert.deepEqual(t.notices(), ['The host locked the meeting: nobody new can join.', 'Cy joined']);
});

test('the host removes a member: the bye says so', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO, CY], host: 7 });
  t.clear();
  t.session.remove(9);
  assert.deepEqual(t.messages(), [{ type: 'remove', id: 9 }]);
  assert.equal(t.state.removing, 9);
  t.receive({ type: 'bye', room: 'standup', id: 8, nickname: 'Bo', count: 2 });
  t.receive({ type: 'bye', room: 'standup', id: 9, nickname: 'Cy', count: 1 });
  assert.deepEqual(t.notices(), ['Bo left', 'You removed Cy']);
  assert.equal(t.state.removing, null);
});

test('being removed: the "removed" screen, no Rejoin, no resume', () => {
  const t = makeSession();
  connect(t);
  enter(t, 'standup', { members: [BO], host: 8 });
  t.clear();
  t.receive({ type: 'removed', room: 'elsewhere' });
  assert.equal(t.state.room, 'standup', 'another room is ignored');
  t.receive({ type: 'removed', room: 'standup' });
  assert.equal(t.state.room, null);
  assert.equal(t.state.lastRoom, null, 'no Rejoin');
  assert.equal(t.state.resumeToken, null);
  assert.deepEqual(t.of('left'), [['removed', 'standup']]);
  assert.deepEqual(t.screens(), ['left']);
  assert.deepEqual(t.messages(), [{ type: 'list' }]);
  assert.equal(t.state.host, null);
  assert.equal(t.state.locked, false);
  t.receive({ type: 'removed', room: 'standup' });
  assert.equal(t.of('left').length, 1, 'not in a room: ignored');
  t.session.rejoin();
  assert.deepEqual(t.of('openPreJoin'), []);
});
