// SPDX-License-Identifier: MIT
// The page's other DOM-free modules: made-up meeting names (names.js), invite links and
// passcodes (invite.js), error wording (errors.js), the socket URL (socket.js) and the tile
// layout (layout.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './www.mjs';

const { newMeetingName, NAME_RE, NAME_BITS, ADJECTIVES, ANIMALS, BASE32 } = await load('names.js');
const { passcodeFromHash, readInvite, inviteUrl, parseJoinInput, passcodeProblem } = await load('invite.js');
const { friendlyError } = await load('errors.js');
const { socketUrl } = await load('socket.js');
const { bestGrid } = await load('layout.js');

const PAGE = new URL('https://meet.example:8443/?room=x');

test('meeting names: 72 random bits in the documented shape, no repeats', () => {
  assert.equal(NAME_BITS, 72);
  assert.equal(ADJECTIVES.length, 64);
  assert.equal(ANIMALS.length, 64);
  assert.equal(new Set(ADJECTIVES).size, 64);
  assert.equal(new Set(ANIMALS).size, 64);
  assert.equal(BASE32.length, 32);
  assert.doesNotMatch(BASE32, /[ilou]/);
  const names = new Set();
  for (let i = 0; i < 500; i += 1) {
    const name = newMeetingName();
    assert.match(name, NAME_RE);
    names.add(name);
  }
  assert.equal(names.size, 500);
  assert.doesNotMatch('quiet-otter-7kq2-m9xd-4hpu', NAME_RE, 'u is not in the alphabet');
});

test('invite links carry the passcode in the fragment only', () => {
  assert.equal(inviteUrl('team room', null, PAGE), 'https://meet.example:8443/?room=team+room');
  const link = inviteUrl('team', 'p&ss=wörd', PAGE);
  assert.equal(link, 'https://meet.example:8443/?room=team#pw=p%26ss%3Dw%C3%B6rd');
  assert.equal(passcodeFromHash(new URL(link).hash), 'p&ss=wörd');
  assert.equal(passcodeFromHash('#pw='), null);
  assert.equal(passcodeFromHash('#pw=%E0%A4%A'), null, 'bad percent-encoding');
  assert.equal(passcodeFromHash(''), null);
  assert.deepEqual(readInvite({ search: '?room=%20team%20&name=Zed', hash: '#pw=abcd' }), { room: 'team', name: 'Zed', passcode: 'abcd' });
  assert.deepEqual(readInvite({ search: '?room=&name=', hash: '' }), { room: null, name: null, passcode: null });
});

test('the join field takes a name or a pasted invite link', () => {
  assert.deepEqual(parseJoinInput('  standup ', PAGE), { room: 'standup', passcode: null });
  assert.deepEqual(parseJoinInput('https://meet.example/?room=team#pw=open-sesame', PAGE), { room: 'team', passcode: 'open-sesame' });
  assert.deepEqual(parseJoinInput('meet.example/?room=team', PAGE), { room: 'team', passcode: null });
  assert.deepEqual(parseJoinInput('?room=team', PAGE), { room: 'team', passcode: null });
  assert.match(parseJoinInput('   ', PAGE).error, /Type a meeting name/);
  assert.match(parseJoinInput('https://meet.example/?x=1', PAGE).error, /does not look like a meeting invite/);
});

test('passcodes: 4 to 64 code points, no control characters', () => {
  assert.equal(passcodeProblem('abcd'), '');
  assert.equal(passcodeProblem('🔑🔑🔑🔑'), '', 'code points, not UTF-16 units');
  assert.equal(passcodeProblem('abc'), 'A passcode has 4 to 64 characters.');
  assert.equal(passcodeProblem('x'.repeat(65)), 'A passcode has 4 to 64 characters.');
  assert.equal(passcodeProblem('ab\ncd'), 'A passcode cannot contain line breaks or other control characters.');
});

test('error codes become sentences that depend on what was being done', () => {
  assert.match(friendlyError('bad_field', 'join'), /meeting name cannot be used/);
  assert.match(friendlyError('bad_field', 'chat'), /2,000 characters/);
  assert.match(friendlyError('rate_limited', 'passcode'), /Too many wrong passcodes/);
  assert.match(friendlyError('rate_limited', ''), /Slow down/);
  assert.equal(friendlyError('no_such_code'), 'Something went wrong on the server. Please try again.');
  for (const code of ['room_full', 'room_exists', 'bad_passcode', 'room_locked', 'not_host', 'not_in_room', 'bad_token', 'bad_json', 'unknown_type', 'no_such_peer']) {
    assert.doesNotMatch(friendlyError(code), /_/, `${code}: no protocol code shown`);
  }
});

test('the socket URL follows the page (ws: or wss:, same host and port)', () => {
  assert.equal(socketUrl({ protocol: 'http:', host: 'localhost:3003' }), 'ws://localhost:3003/');
  assert.equal(socketUrl({ protocol: 'https:', host: 'meet.example:8443' }), 'wss://meet.example:8443/');
});

test('the grid gives n tiles the largest area that fits', () => {
  assert.deepEqual({ ...bestGrid(1, 800, 450, 0) }, { cols: 1, rows: 1, tw: 800, th: 450 });
  const four = bestGrid(4, 1600, 900, 0);
  assert.deepEqual([four.cols, four.rows], [2, 2]);
  const phone = bestGrid(3, 400, 800, 0);
  assert.equal(phone.cols, 1, 'a portrait stage stacks the tiles');
});
