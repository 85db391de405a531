// SPDX-License-Identifier: MIT
// Chat rooms: nicknames, joining from the form and from the live room list, welcome, bye and
// rename notices, own vs others' messages, counts on the home screen, errors, invite links,
// reconnecting.

import {
  openHome, setNickname, joinRoom, joinFromPreJoin, waitInRoom, sendChat, seeInLog, seeRoomInList, seeText, openMore, seeOwnName,
  createMeeting,
} from './lib/huddle.mjs';
import { eventually } from './lib/wait.mjs';
import { recordPeerConnections } from './lib/call.mjs';

const PHONE = { width: 390, height: 844 };

export const scenarios = [
  {
    name: 'two people chat in a room, a third sees it listed with count 2',
    async run(t) {
      const browser = await t.browser({ media: 'none' });
      const alice = await t.page(browser, { label: 'alice' });
      const bob = await t.page(browser, { label: 'bob', viewport: PHONE });
      const carol = await t.page(browser, { label: 'carol' });

      await openHome(alice);
      await setNickname(alice, 'Alice');
      await createMeeting(alice, { room: 'lobby', listed: true }); // only listed rooms are in the list
      await seeInLog(alice, 'Nobody else is here yet');

      await openHome(bob);
      await setNickname(bob, 'Bob');
      const listed = await seeRoomInList(bob, 'lobby', 1);
      await listed.click();
      await joinFromPreJoin(bob);
      await waitInRoom(bob, 'lobby', 2);
      await seeInLog(bob, 'Here: Alice.');
      await seeInLog(alice, 'Bob joined');
      await waitInRoom(alice, 'lobby', 2);

      await sendChat(alice, 'hi Bob, <b>not bold</b>');
      await seeInLog(alice, 'You: hi Bob, <b>not bold</b>');
      await seeInLog(bob, 'Alice: hi Bob, <b>not bold</b>');
      await sendChat(bob, 'hello Alice');
      await seeInLog(bob, 'You: hello Alice');
      await seeInLog(alice, 'Bob: hello Alice');
      if ((await bob.locator('#chat-log b').count()) !== 0) throw new Error('chat text was parsed as HTML');

      await openMore(bob);
      await bob.click('.rename summary');
      await bob.fill('#rename-input', 'Robert');
      await bob.click('#rename-form button[type="submit"]');
      await seeOwnName(bob, 'Robert');
      await seeInLog(alice, 'Bob is now Robert');
      await sendChat(bob, 'new name');
      await seeInLog(alice, 'Robert: new name');

      await openHome(carol);
      await seeRoomInList(carol, 'lobby', 2);
      await t.screenshot(alice, 'chat-alice');
      await t.screenshot(bob, 'chat-bob-phone');
      await t.screenshot(carol, 'chat-home');

      await bob.click('#leave-btn');
      await seeText(bob, '#left', 'You left the meeting');
      await seeInLog(alice, 'Robert left');
      await waitInRoom(alice, 'lobby', 1);
      await seeRoomInList(carol, 'lobby', 1);
    },
  },
  {
    name: 'errors: friendly words, never protocol codes; a refused join releases the camera; maxlength',
    config: 'max_room_members = 1\n',
    async run(t) {
      const bare = await t.browser({ media: 'none' });
      const first = await t.page(bare, { label: 'first' });
      await first.goto('/?room=tiny&name=First');
      await waitInRoom(first, 'tiny', 1);

      const browser = await t.browser({ media: 'fake' });
      const page = await t.page(browser, { label: 'ninth', permissions: ['camera', 'microphone'], init: recordPeerConnections });
      await openHome(page);
      // Inputs stop at the server's limits (the Join field also takes invite links: a message instead).
      await page.click('#new-btn');
      await page.fill('#create-name', 'x'.repeat(70));
      if ((await page.inputValue('#create-name')).length !== 64) throw new Error('meeting name input is not capped at 64');
      await page.click('#create-cancel');
      await page.fill('#room-input', 'x'.repeat(70));
      await page.click('#join-btn');
      await seeText(page, '#alert', '1 to 64 characters');
      await page.fill('#nick-input', 'n'.repeat(40));
      if ((await page.inputValue('#nick-input')).length !== 32) throw new Error('name input is not capped at 32');
      await page.fill('#nick-input', 'Ninth');
      await page.fill('#room-input', 'tiny');
      await page.click('#join-btn');
      await page.locator('#preview[data-video="on"]').waitFor({ timeout: 20000 });
      await page.click('#prejoin-join');
      await seeText(page, '#alert', 'That meeting is full');
      const text = await page.textContent('#alert');
      if (/room_full|\([a-z_]+\)|[a-z]+_[a-z]+/.test(text)) throw new Error(`alert shows a protocol code: ${text}`);
      await page.locator('#home').waitFor({ timeout: 20000 });
      await eventually('the refused join released camera and microphone', () =>
        page.evaluate(() => window.__e2eCaptured.length >= 2 && window.__e2eCaptured.every((tr) => tr.readyState === 'ended')),
      );
      if (await page.isVisible('#raw')) throw new Error('the raw-text debug panel is shown without ?debug=1');
      await t.screenshot(page, 'room-full');
    },
  },
  {
    name: 'invite links: ?room=R&name=N joins at once, ?room=R asks for a nickname',
    async run(t) {
      const browser = await t.browser({ media: 'none' });
      const dora = await t.page(browser, { label: 'dora' });
      const eve = await t.page(browser, { label: 'eve', viewport: PHONE });

      await dora.goto('/?room=party&name=Dora');
      await waitInRoom(dora, 'party', 1);
      await seeOwnName(dora, 'Dora');

      await eve.goto('/?room=party');
      await seeText(eve, '#prejoin-room', 'party');
      await eve.fill('#prejoin-name', 'Eve');
      await eve.click('#prejoin-join');
      await waitInRoom(eve, 'party', 2);
      await seeInLog(dora, 'Eve joined');
      await dora.click('#people-btn');
      await dora.click('#invite-btn');
      const link = await dora.inputValue('#invite-link');
      if (link !== `${t.baseUrl}?room=party`) throw new Error(`invite link is ${link}`);
      await sendChat(eve, 'thanks for the invite');
      await seeInLog(dora, 'Eve: thanks for the invite');
    },
  },
  {
    name: 'the page reconnects after a server restart and rejoins its room',
    async run(t) {
      const browser = await t.browser({ media: 'none' });
      const page = await t.page(browser, { label: 'rex' });
      await openHome(page);
      await setNickname(page, 'Rex');
      await joinRoom(page, 'phoenix');
      const server = await t.restartServer();
      await seeText(page, '#net-banner', 'Reconnecting');
      await page.locator('#conn-state[data-state="open"]').waitFor({ state: 'attached', timeout: 30000 });
      await page.locator('#net-banner').waitFor({ state: 'hidden', timeout: 30000 });
      await waitInRoom(page, 'phoenix', 1);
      await seeOwnName(page, 'Rex');
      if ((await page.locator('#chat-log li', { hasText: 'Connection lost' }).count()) !== 0) throw new Error('connection notices in the chat');
      await server.waitForLog(/recv text \d+ B: hello from the browser!$/m);
      await server.waitForLog(/"type":"join","room":"<7 B>"/); // room names are not logged
      await sendChat(page, 'back again');
      await seeInLog(page, 'You: back again');
    },
  },
];
