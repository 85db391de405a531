// SPDX-License-Identifier: MIT
// Private meetings (issue 10): "New meeting" makes an unguessable, unlisted room; a passcode
// travels in the invite link's fragment; the host locks the room, removes a member and changes
// the passcode; only listed rooms show in the home page's list ("n/capacity", full and locked
// ones marked); the host role passes on when the host leaves; a server restart keeps a room's
// passcode and listing. Screenshots of each new screen at desktop and phone sizes.

import {
  openHome, setNickname, joinFromPreJoin, waitInRoom, seeText, seeInLog, openMore, seeRoomInList, createMeeting,
} from './lib/huddle.mjs';
import { eventually, expectEqual } from './lib/wait.mjs';
import { seeContrast } from './lib/contrast.mjs';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const AV = ['camera', 'microphone'];
const NAME_RE = /^[a-z]+-[a-z]+(-[0-9a-hjkmnp-tv-z]{4}){3}$/;
const PROTOCOL_CODE = /\b[a-z]+_[a-z]+\b/;

/** Test-only: the page's first made-up meeting name is "amber-badger-0000-0000-0000" (all-zero random bytes). */
function zeroFirstName() {
  const real = crypto.getRandomValues.bind(crypto);
  let first = true;
  crypto.getRandomValues = (array) => {
    if (first && array instanceof Uint8Array && array.length === 14) {
      first = false;
      return array.fill(0);
    }
    return real(array);
  };
}

/** The server's public list (GET /api/rooms), fetched by `page`. */
function apiRooms(page) {
  return page.evaluate(async () => (await (await fetch('/api/rooms', { cache: 'no-store' })).json()).rooms);
}

/** Throws if `selector`'s text on `page` shows a protocol code. */
async function noCode(page, selector) {
  const text = await page.textContent(selector);
  if (PROTOCOL_CODE.test(text)) throw new Error(`${page.label}: ${selector} shows a protocol code: ${text}`);
  return text;
}

/** Throws unless the create panel's texts reach 4.5:1 and its passcode field's border 3:1. */
function seeCreateContrast(page) {
  const panel = ['#create-form', 'backgroundColor'];
  return seeContrast(page, 'create panel', {
    hint: [['#create-form .hint', 'color'], panel],
    label: [['#create-form .check-label', 'color'], panel],
    optional: [['#create-form .optional', 'color'], panel],
    border: [['#create-passcode', 'borderTopColor'], ['#create-passcode', 'backgroundColor']],
    start: [['#create-start', 'color'], ['#create-start', 'backgroundColor']],
    cancel: [['#create-cancel', 'color'], panel],
  }, (name) => (name === 'border' ? 3 : 4.5));
}

export const scenarios = [
  {
    name: 'private meeting: passcode in the invite link, refused without it, lock, remove',
    timeoutMs: 240000,
    async run(t) {
      const browser = await t.browser({ media: 'fake' });
      const ada = await t.page(browser, { label: 'ada', permissions: [...AV, 'clipboard-read', 'clipboard-write'] });
      const ben = await t.page(browser, { label: 'ben', permissions: AV, viewport: PHONE, phone: true });
      const cy = await t.page(browser, { label: 'cy', permissions: AV, viewport: PHONE, phone: true });
      const dee = await t.page(browser, { label: 'dee', permissions: AV });
      const sent = [];
      for (const page of [ben, cy, dee]) page.on('request', (req) => sent.push(req.url()));

      await openHome(ada);
      await setNickname(ada, 'Ada');
      // The name generator: 72 random bits, the documented pattern, no repeats.
      const gen = await ada.evaluate(async () => {
        const m = await import('/js/names.js');
        const names = Array.from({ length: 2000 }, () => m.newMeetingName());
        return { bits: m.NAME_BITS, words: [m.ADJECTIVES.length, m.ANIMALS.length], unique: new Set(names).size, sample: names.slice(0, 3), names };
      });
      if (gen.bits < 64) throw new Error(`meeting names carry ${gen.bits} bits`);
      expectEqual(gen.unique, 2000, 'distinct names out of 2000');
      const bad = gen.names.filter((n) => !NAME_RE.test(n));
      if (bad.length) throw new Error(`names off the pattern: ${bad.slice(0, 5).join(', ')}`);

      // New meeting: a made-up name, unlisted by default, with a passcode.
      await ada.click('#new-btn');
      const room = await ada.inputValue('#create-name');
      if (!NAME_RE.test(room)) throw new Error(`new meeting name ${room}`);
      expectEqual(await ada.isChecked('#create-listed'), false, 'listed is off by default');
      await ada.fill('#create-passcode', 'otter 42+');
      await seeCreateContrast(ada);
      await t.screenshot(ada, 'home-create-desktop');
      await ada.click('#create-start');
      await seeText(ada, '#prejoin-title', 'Ready to start');
      await seeText(ada, '#prejoin-count', 'Private: only people with the link can find it. A passcode is needed to join.');
      await ada.locator('#preview[data-video="on"]').waitFor({ timeout: 20000 });
      await t.screenshot(ada, 'prejoin-start-desktop');
      await joinFromPreJoin(ada);
      await waitInRoom(ada, room, 1);
      if ((await apiRooms(ada)).some((r) => r.name === room)) throw new Error('an unlisted room is in /api/rooms');

      // Copy invite link: the passcode rides in the fragment.
      await ada.click('#people-btn');
      await ada.locator('#host-controls:not([hidden])').waitFor({ timeout: 20000 });
      await ada.locator('#people-list li[data-host="true"]', { hasText: 'Ada (you)' }).waitFor({ timeout: 20000 });
      await ada.click('#invite-btn');
      const link = await ada.inputValue('#invite-link');
      expectEqual(link, `${t.baseUrl}?room=${room}#pw=otter%2042%2B`, 'invite link');
      const copied = await ada.evaluate(() => navigator.clipboard.readText().catch(() => null));
      if (copied !== null) expectEqual(copied, link, 'the clipboard holds the invite link');

      // Ben opens the link: the fragment leaves the address bar, the join carries the passcode.
      await ben.goto(link);
      await seeText(ben, '#prejoin-room', room);
      expectEqual(await ben.evaluate(() => location.hash), '', 'ben: the fragment is gone from the address bar');
      await ben.fill('#prejoin-name', 'Ben');
      await ben.tap('#prejoin-join');
      await waitInRoom(ben, room, 2);
      await waitInRoom(ada, room, 2);
      await seeInLog(ada, 'Ben joined');
      // A member's invite link carries the passcode they joined with.
      await ben.tap('#people-btn');
      await ben.tap('#invite-btn');
      expectEqual(await ben.inputValue('#invite-link'), link, 'ben: invite link');
      expectEqual(await ben.isVisible('#invite-note'), false, 'ben: a "no passcode in the link" note');
      expectEqual(await ben.isVisible('#host-controls'), false, 'ben: host controls for a member');
      await ben.tap('#side-close');

      // Cy without the passcode: asked for it, a wrong one is refused.
      await cy.goto(`/?room=${room}`);
      await cy.fill('#prejoin-name', 'Cy');
      await cy.tap('#prejoin-join');
      await seeText(cy, '#prejoin-pass-hint', 'This meeting needs a passcode');
      await cy.fill('#prejoin-passcode', 'otter 43+');
      await cy.tap('#prejoin-join');
      await seeText(cy, '#prejoin-pass-hint', 'Wrong passcode');
      await noCode(cy, '#prejoin-form');
      await t.screenshot(cy, 'passcode-phone');
      // Dee without it, on a desktop.
      await dee.goto(`/?room=${room}`);
      await dee.fill('#prejoin-name', 'Dee');
      await dee.locator('#preview[data-video="on"]').waitFor({ timeout: 20000 });
      await dee.click('#prejoin-join');
      await seeText(dee, '#prejoin-pass-hint', 'This meeting needs a passcode');
      await t.screenshot(dee, 'passcode-desktop');
      await waitInRoom(ada, room, 2);

      // The host locks: everyone sees the lock; the right passcode no longer gets in.
      await ada.click('#lock-btn');
      await ada.locator('#room[data-locked="true"] #lock-btn[aria-checked="true"]').waitFor({ timeout: 20000 });
      await ben.locator('#room[data-locked="true"] #lock-pill:not([hidden])').waitFor({ timeout: 20000 });
      await seeInLog(ben, 'The host locked the meeting');
      await ada.locator('#lock-mark:not([hidden])').waitFor({ timeout: 20000 });
      await ada.waitForTimeout(600);
      await t.screenshot(ada, 'host-controls-desktop');
      await t.screenshot(ben, 'locked-call-phone');
      await dee.fill('#prejoin-passcode', 'otter 42+');
      await dee.click('#prejoin-join');
      await seeText(dee, '#prejoin-refused', 'The host has locked this meeting');
      await noCode(dee, '#prejoin-refused');
      await t.screenshot(dee, 'locked-desktop');
      await cy.fill('#prejoin-passcode', 'otter 42+');
      await cy.tap('#prejoin-join');
      await seeText(cy, '#prejoin-refused', 'The host has locked this meeting');
      await t.screenshot(cy, 'locked-phone');
      await waitInRoom(ada, room, 2);

      // The host removes Ben (with a confirm): Ben lands on "You were removed" and stays there.
      const benRow = ada.locator('#people-list li', { hasText: 'Ben' });
      await benRow.locator('.pl-remove').click();
      await benRow.locator('.pl-confirm-remove').waitFor({ timeout: 20000 });
      await t.screenshot(ada, 'remove-confirm-desktop');
      await benRow.locator('.pl-confirm-remove').click();
      await seeText(ben, '#left-title', 'You were removed');
      await waitInRoom(ada, room, 1);
      await seeInLog(ada, 'You removed Ben');
      if (await ben.isVisible('#rejoin-btn')) throw new Error('ben: a Rejoin button after being removed');
      await t.screenshot(ben, 'removed-phone');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      if (!(await ben.isVisible('#left'))) throw new Error('ben: left the removed screen by itself');
      await waitInRoom(ada, room, 1);
      await ben.tap('#home-btn');
      await ben.locator('#home').waitFor({ timeout: 20000 });

      // Unlock: Dee gets in with "Try again"; removing her shows the desktop removed screen.
      await ada.click('#lock-btn');
      await ada.locator('#room[data-locked="false"]').waitFor({ timeout: 20000 });
      await dee.click('#prejoin-join');
      await waitInRoom(dee, room, 2);
      // Ada changes the passcode: the invite link follows, Dee (not host) has no host controls.
      await ada.fill('#passcode-input', 'badger-7');
      await ada.click('#passcode-save');
      await seeInLog(ada, 'You set a passcode');
      // The link on show follows the change; copying again gives the same.
      await eventually('ada: the shown invite link has the new passcode', async () => (await ada.inputValue('#invite-link')) === `${t.baseUrl}?room=${room}#pw=badger-7`);
      await ada.click('#invite-btn');
      expectEqual(await ada.inputValue('#invite-link'), `${t.baseUrl}?room=${room}#pw=badger-7`, 'ada: invite link after the change');
      expectEqual(await dee.isVisible('#host-controls'), false, 'dee: host controls for a member');
      // Dee joined with the old passcode: she is told it changed, and her invite link leaves the
      // stale one out and says so (the server never tells a member the new one).
      await seeInLog(dee, 'The host changed the passcode');
      await dee.click('#people-btn');
      await dee.click('#invite-btn');
      expectEqual(await dee.inputValue('#invite-link'), `${t.baseUrl}?room=${room}`, 'dee: invite link after the change');
      await dee.locator('#invite-note:not([hidden])').waitFor({ timeout: 20000 });
      await noCode(dee, '#invite-note');
      await t.screenshot(dee, 'invite-no-passcode-desktop');
      await dee.setViewportSize(PHONE);
      await dee.locator('#invite-note:not([hidden])').waitFor({ timeout: 20000 });
      await t.screenshot(dee, 'invite-no-passcode-phone');
      await dee.setViewportSize(DESKTOP);
      await ada.setViewportSize(PHONE);
      await t.screenshot(ada, 'host-controls-phone');
      await ada.setViewportSize(DESKTOP);
      const deeRow = ada.locator('#people-list li', { hasText: 'Dee' });
      await deeRow.locator('.pl-remove').click();
      await deeRow.locator('.pl-confirm-remove').click();
      await seeText(dee, '#left-title', 'You were removed');
      await t.screenshot(dee, 'removed-desktop');

      // The passcode never went out in an HTTP request.
      const leaked = sent.filter((u) => /otter|badger/.test(decodeURIComponent(u)));
      if (leaked.length) throw new Error(`passcode in HTTP requests: ${leaked.join(', ')}`);
    },
  },
  {
    name: 'lists: listed rooms with n/capacity, full and locked marked, unlisted never; the host role passes on',
    config: 'max_room_members = 3\n',
    timeoutMs: 180000,
    async run(t) {
      const browser = await t.browser({ media: 'none' });
      const ann = await t.page(browser, { label: 'ann' });
      const zed = await t.page(browser, { label: 'zed' });
      const erin = await t.page(browser, { label: 'erin' });
      const dave = await t.page(browser, { label: 'dave' });
      const bob = await t.page(browser, { label: 'bob' });
      const carol = await t.page(browser, { label: 'carol', viewport: PHONE, phone: true });

      await openHome(dave);
      await openHome(ann);
      await setNickname(ann, 'Ann');
      await createMeeting(ann, { room: 'book-club', listed: true });
      await openHome(zed);
      await setNickname(zed, 'Zed');
      const hidden = await createMeeting(zed, { room: 'amber-badger-0000-0000-0000' });
      // A made-up name that is taken: the page makes up another and starts that one.
      const yan = await t.page(browser, { label: 'yan', init: zeroFirstName });
      await openHome(yan);
      await setNickname(yan, 'Yan');
      await yan.click('#new-btn');
      expectEqual(await yan.inputValue('#create-name'), hidden, 'yan: the first made-up name');
      await yan.click('#create-start');
      await joinFromPreJoin(yan);
      await yan.locator('#room:not([hidden])').waitFor({ timeout: 20000 });
      const yanRoom = await yan.getAttribute('#room', 'data-room');
      if (yanRoom === hidden || !NAME_RE.test(yanRoom)) throw new Error(`yan: started ${yanRoom}`);
      await waitInRoom(yan, yanRoom, 1);
      await waitInRoom(zed, hidden, 1);
      await openHome(erin);
      await setNickname(erin, 'Erin');
      await createMeeting(erin, { room: 'quiz', listed: true, passcode: 'quiz-time' });

      const listed = await seeRoomInList(dave, 'book-club', 1);
      expectEqual(await listed.locator('.room-count').textContent(), '1/3', 'dave: count/capacity');
      await seeRoomInList(dave, 'quiz', 1);
      const api = await apiRooms(dave);
      expectEqual(api.map((r) => r.name), ['book-club', 'quiz'], '/api/rooms lists the listed rooms only');
      expectEqual(api[0], { name: 'book-club', count: 1, capacity: 3, locked: false, protected: false }, '/api/rooms entry');
      expectEqual(api[1].protected, true, '/api/rooms: quiz has a passcode');
      if ((await dave.locator(`#room-list [data-room="${hidden}"]`).count()) !== 0) throw new Error('an unlisted room in the list');

      // A listed room with a passcode asks for it before the first try.
      await dave.click('#room-list button[data-room="quiz"]');
      await dave.locator('#prejoin-pass-field:not([hidden])').waitFor({ timeout: 20000 });
      await seeText(dave, '#prejoin-pass-hint', 'needs a passcode');
      await dave.click('#prejoin-back');

      // Bob and Carol join from the list: full at 3/3, marked and not clickable.
      await openHome(bob);
      await setNickname(bob, 'Bob');
      await (await seeRoomInList(bob, 'book-club', 1)).click();
      await joinFromPreJoin(bob);
      await waitInRoom(bob, 'book-club', 2);
      await openHome(carol);
      await setNickname(carol, 'Carol');
      await (await seeRoomInList(carol, 'book-club', 2)).tap();
      await carol.locator('#prejoin').waitFor({ timeout: 20000 });
      await carol.tap('#prejoin-join');
      await waitInRoom(carol, 'book-club', 3);
      const full = await seeRoomInList(dave, 'book-club', 3);
      expectEqual(await full.getAttribute('data-full'), 'true', 'dave: book-club marked full');
      expectEqual(await full.isDisabled(), true, 'dave: a full room is not clickable');
      expectEqual(await full.locator('.room-count').textContent(), '3/3', 'dave: full count');
      await t.screenshot(dave, 'home-list-desktop');
      if ((await dave.locator(`#room-list [data-room="${hidden}"]`).count()) !== 0) throw new Error('an unlisted room in the list');

      // Ann (the host) leaves: Bob, there longest, is the host and everyone is told.
      await ann.click('#leave-btn');
      await seeText(bob, '#reactions .toast', 'You are now the host');
      await seeText(carol, '#reactions .toast', 'Bob is now the host');
      await seeInLog(carol, 'Bob is now the host');
      await bob.click('#people-btn');
      await bob.locator('#people-list li[data-host="true"]', { hasText: 'Bob (you)' }).waitFor({ timeout: 20000 });
      await bob.locator('#host-controls:not([hidden])').waitFor({ timeout: 20000 });
      expectEqual(await carol.isVisible('#host-controls'), false, 'carol: no host controls');
      await bob.waitForTimeout(600); // the grid's move beside the panel is animated
      await t.screenshot(bob, 'host-handover-desktop');

      // Bob locks from the menu: the list marks book-club locked, not clickable.
      await openMore(bob);
      await bob.click('#menu-lock');
      await carol.locator('#room[data-locked="true"]').waitFor({ timeout: 20000 });
      const locked = dave.locator('#room-list button[data-room="book-club"][data-locked="true"]');
      await locked.waitFor({ timeout: 20000 });
      expectEqual(await locked.isDisabled(), true, 'dave: a locked room is not clickable');
      const phone = await t.page(browser, { label: 'phone', viewport: PHONE, phone: true, colorScheme: 'dark' });
      await openHome(phone);
      await phone.locator('#room-list button[data-room="book-club"][data-locked="true"]').waitFor({ timeout: 20000 });
      await t.screenshot(phone, 'home-list-phone');
      await phone.tap('#new-btn');
      await phone.fill('#create-passcode', 'secret-1');
      await seeCreateContrast(phone);
      await t.screenshot(phone, 'home-create-dark-phone');
      await phone.tap('#create-listed');
      await phone.tap('#create-start');
      await seeText(phone, '#prejoin-count', 'Listed on the home page, where anyone can find it. A passcode is needed to join.');
      await seeText(phone, '#prejoin-join', 'Start meeting');
      await t.screenshot(phone, 'prejoin-start-dark-phone');
      await phone.tap('#prejoin-back');
      await phone.locator('#home').waitFor({ timeout: 20000 });
    },
  },
  {
    name: 'a server restart keeps the room listed and its passcode (the page rejoins with them)',
    timeoutMs: 120000,
    async run(t) {
      const browser = await t.browser({ media: 'none' });
      const rex = await t.page(browser, { label: 'rex' });
      await openHome(rex);
      await setNickname(rex, 'Rex');
      await createMeeting(rex, { room: 'phoenix', listed: true, passcode: 'fire-bird' });
      await t.restartServer();
      await seeText(rex, '#net-banner', 'Reconnecting');
      await rex.locator('#net-banner').waitFor({ state: 'hidden', timeout: 30000 });
      await waitInRoom(rex, 'phoenix', 1);
      await eventually('phoenix listed again, with its passcode', async () => {
        const rooms = await apiRooms(rex);
        return rooms.length === 1 && rooms[0].name === 'phoenix' && rooms[0].protected === true;
      });
      await rex.click('#people-btn');
      await rex.locator('#host-controls:not([hidden])').waitFor({ timeout: 20000 });
      expectEqual(await rex.inputValue('#passcode-input'), 'fire-bird', 'rex: the passcode after the restart');
      const sam = await t.page(browser, { label: 'sam' });
      await sam.goto('/?room=phoenix&name=Sam');
      await seeText(sam, '#prejoin-pass-hint', 'needs a passcode');
      await sam.fill('#prejoin-passcode', 'fire-bird');
      await sam.click('#prejoin-join');
      await waitInRoom(sam, 'phoenix', 2);
      // "Join a meeting" takes a pasted invite link: the room from it, the passcode from its fragment.
      const tia = await t.page(browser, { label: 'tia' });
      await openHome(tia);
      await setNickname(tia, 'Tia');
      await tia.fill('#room-input', `${t.baseUrl}?room=phoenix#pw=fire-bird`);
      await tia.click('#join-btn');
      await seeText(tia, '#prejoin-room', 'phoenix');
      expectEqual(await tia.isVisible('#prejoin-pass-field'), false, 'tia: asked for a passcode the link carried');
      await tia.click('#prejoin-join');
      await waitInRoom(tia, 'phoenix', 3);

      // Guessing: after 5 wrong passcodes the server stops answering them, and the page says so.
      const uma = await t.page(browser, { label: 'uma', viewport: PHONE, phone: true });
      await uma.goto('/?room=phoenix&name=Uma');
      await seeText(uma, '#prejoin-pass-hint', 'needs a passcode');
      for (let i = 0; i < 8 && !(await uma.isVisible('#prejoin-refused')); i += 1) {
        await uma.fill('#prejoin-passcode', `guess-${i}`);
        await uma.tap('#prejoin-join');
        await uma.locator('#prejoin-join:not([disabled])').waitFor({ timeout: 20000 });
      }
      await seeText(uma, '#prejoin-refused', 'Too many wrong passcodes. Try again in a minute.');
      await noCode(uma, '#prejoin-form');
      await t.screenshot(uma, 'passcode-limit-phone');
      await waitInRoom(rex, 'phoenix', 3);
    },
  },
];
