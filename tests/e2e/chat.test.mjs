// SPDX-License-Identifier: MIT
// Chat rooms: nicknames, joining from the form and from the live room list, welcome, bye and
// rename notices, own vs others' messages, counts on the home screen, errors, invite links,
// reconnecting.

import { openHome, setNickname, joinRoom, waitInRoom, sendChat, seeInLog, seeRoomInList, seeText } from './lib/huddle.mjs';

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
      await joinRoom(alice, 'lobby');
      await seeInLog(alice, 'Nobody else is here yet');

      await openHome(bob);
      await setNickname(bob, 'Bob');
      const listed = await seeRoomInList(bob, 'lobby', 1);
      await listed.click();
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

      await bob.click('.rename summary');
      await bob.fill('#rename-input', 'Robert');
      await bob.click('#rename-form button[type="submit"]');
      await seeText(bob, '#room-nick', 'Robert');
      await seeInLog(alice, 'Bob is now Robert');
      await sendChat(bob, 'new name');
      await seeInLog(alice, 'Robert: new name');

      await openHome(carol);
      await seeRoomInList(carol, 'lobby', 2);
      await t.screenshot(alice, 'chat-alice');
      await t.screenshot(bob, 'chat-bob-phone');
      await t.screenshot(carol, 'chat-home');

      await bob.click('#leave-btn');
      await bob.locator('#home').waitFor({ timeout: 20000 });
      await seeInLog(alice, 'Robert left');
      await waitInRoom(alice, 'lobby', 1);
      await seeRoomInList(carol, 'lobby', 1);
    },
  },
  {
    name: 'server errors are shown to the user',
    async run(t) {
      const browser = await t.browser({ media: 'none' });
      const page = await t.page(browser, { label: 'errors' });
      await openHome(page);
      await page.fill('#room-input', 'x'.repeat(65));
      await page.click('#join-form button[type="submit"]');
      await seeText(page, '#alert', 'bad_field');
      if (!(await page.isVisible('#home'))) throw new Error('a refused join left the home screen');
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
      await seeText(dora, '#room-nick', 'Dora');

      await eve.goto('/?room=party');
      await seeText(eve, '#invite-note', 'party');
      await eve.fill('#nick-input', 'Eve');
      await eve.click('#nick-submit');
      await waitInRoom(eve, 'party', 2);
      await seeInLog(dora, 'Eve joined');
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
      await seeInLog(page, 'Connection lost');
      await page.locator('#conn-state[data-state="open"]').waitFor({ timeout: 30000 });
      await waitInRoom(page, 'phoenix', 1);
      await seeText(page, '#room-nick', 'Rex');
      await server.waitForLog(/recv text \d+ B: hello from the browser!$/m);
      await server.waitForLog(/"type":"join","room":"phoenix"/);
      await sendChat(page, 'back again');
      await seeInLog(page, 'You: back again');
    },
  },
];
