// SPDX-License-Identifier: MIT
// Video calls: three pages in one room hold a mesh call with fake cameras; mute, camera off,
// camera switch, screen share, leaving, a page without any camera that joins chat-only, and
// one that denied the camera and then shares its screen (renegotiation).

import { openHome, setNickname, joinRoom, waitInRoom, seeText, sendChat, seeInLog, openMore } from './lib/huddle.mjs';
import { eventually, expectEqual } from './lib/wait.mjs';
import { recordPeerConnections, remoteTiles, senderTracks, seePlaying, seeWidth, CALL_MS } from './lib/call.mjs';

const PHONE = { width: 390, height: 844 };
const AV = ['camera', 'microphone'];

/** Rejects getUserMedia as if the user had denied camera and microphone. */
function denyCamera() {
  navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
}

async function tileNames(page) {
  return (await remoteTiles(page)).map((t) => t.name).sort();
}

export const scenarios = [
  {
    name: 'three-way call, mute, camera off, camera switch, screen share, leave, chat-only joiners',
    timeoutMs: 300000,
    async run(t) {
      const browser = await t.browser({ media: 'fake' });
      const ann = await t.page(browser, { label: 'ann', permissions: AV, init: recordPeerConnections });
      const ben = await t.page(browser, { label: 'ben', permissions: AV, init: recordPeerConnections });
      const cy = await t.page(browser, { label: 'cy', permissions: AV, init: recordPeerConnections, viewport: PHONE, phone: true });

      await openHome(ann);
      await setNickname(ann, 'Ann');
      await joinRoom(ann, 'standup');
      await openHome(ben);
      await setNickname(ben, 'Ben');
      await joinRoom(ben, 'standup');
      await cy.goto('/?room=standup&name=Cy'); // the invite link contract
      await waitInRoom(cy, 'standup', 3);

      await seePlaying(ann, ['Ben', 'Cy']);
      await seePlaying(ben, ['Ann', 'Cy']);
      await seePlaying(cy, ['Ann', 'Ben']);
      await sendChat(cy, 'chat works beside the call');
      await seeInLog(ann, 'Cy: chat works beside the call');
      await t.screenshot(ann, 'call-desktop');
      await t.screenshot(cy, 'call-phone');

      // Mute: every audio sender of Ann's is disabled; the others see her as muted.
      await ann.click('#mic-btn');
      await eventually('ann: audio senders disabled', async () => {
        const tracks = await senderTracks(ann, 'audio');
        return tracks.length === 2 && tracks.every((tr) => !tr.enabled);
      });
      await ben.locator('#grid .tile[data-audio="off"]', { hasText: 'Ann' }).waitFor({ timeout: 20000 });
      await ann.click('#mic-btn');
      await eventually('ann: audio senders enabled again', async () => {
        const tracks = await senderTracks(ann, 'audio');
        return tracks.length === 2 && tracks.every((tr) => tr.enabled);
      });

      // Camera off: the others show Ann's placeholder; on again: her picture is back.
      await ann.click('#cam-btn');
      await cy.locator('#grid .tile[data-video="off"]', { hasText: 'Ann' }).waitFor({ timeout: 20000 });
      await ann.click('#cam-btn');
      await seePlaying(cy, ['Ann', 'Ben']);

      // Switch Ben's camera: a new track on every sender, the old one stopped, call still up.
      await openMore(ben);
      await ben.locator('#camera-pick:not([hidden])').waitFor({ timeout: 20000 });
      const oldVideo = await senderTracks(ben, 'video');
      expectEqual(oldVideo.length, 2, 'ben: video senders before the switch');
      // Chromium's fake cameras: 0 is I420, 1 is Y16 (a depth format WebRTC cannot send, the
      // picture freezes at the far end), 2 is MJPEG: switch from 0 to 2.
      const other = await ben.evaluate(() => {
        const select = document.getElementById('camera-select');
        return [...select.options].map((o) => o.value).filter((v) => v !== select.value).at(-1);
      });
      await ben.selectOption('#camera-select', other);
      const seenBen = async () =>
        `ben: every video sender has the new camera; before ${JSON.stringify(oldVideo)}, now ${JSON.stringify(await senderTracks(ben, 'video'))}`;
      await eventually(seenBen, async () => {
        const tracks = await senderTracks(ben, 'video');
        return tracks.length === 2 && tracks.every((tr) => tr.id !== oldVideo[0].id && tr.state === 'live');
      });
      const oldState = await ben.evaluate(
        (id) => window.__e2eCaptured.find((tr) => tr.id === id)?.readyState,
        oldVideo[0].id,
      );
      expectEqual(oldState, 'ended', 'ben: the old camera track after the switch');
      await seePlaying(ann, ['Ben', 'Cy']);
      await seePlaying(cy, ['Ann', 'Ben']);
      const micAfter = await senderTracks(ben, 'audio');
      if (!micAfter.every((tr) => tr.enabled)) throw new Error('ben: microphone state changed by a camera switch');

      // On the phone: the front/back button (fake cameras have no facingMode: the next camera).
      await openMore(cy);
      await cy.locator('#flip-btn:not([hidden])').waitFor({ timeout: 20000 });
      if (await cy.isVisible('#camera-pick')) throw new Error('cy: desktop camera list shown on a phone');
      const cyBefore = await senderTracks(cy, 'video');
      await cy.tap('#flip-btn');
      await eventually('cy: every video sender has the flipped camera', async () => {
        const tracks = await senderTracks(cy, 'video');
        return tracks.length === 2 && tracks.every((tr) => tr.id !== cyBefore[0].id && tr.state === 'live');
      });
      await eventually('cy: connections stay up after the flip', () =>
        cy.evaluate(() => window.__e2ePeerConnections.filter((pc) => pc.connectionState === 'connected').length === 2),
      );
      await openMore(cy);
      await cy.tap('#flip-btn'); // to the MJPEG camera, which the others can decode
      await seePlaying(ann, ['Ben', 'Cy']);

      // Screen share goes beside Ann's camera on every connection (the fake screen is 1280
      // wide, the fake camera 640), and stopping removes the screen tile; the camera stays.
      await ann.click('#screen-btn');
      await ann.locator('#screen-btn[aria-pressed="true"]').waitFor({ timeout: 20000 });
      await ann.locator('#presenting').waitFor({ timeout: 20000 });
      await seeWidth(ben, 'Ann (presenting)', 1280);
      await seeWidth(cy, 'Ann (presenting)', 1280);
      await seeWidth(ben, 'Ann', 640);
      await ann.click('#stop-share');
      await ann.locator('#screen-btn[aria-pressed="false"]').waitFor({ timeout: 20000 });
      await ben.locator('#grid .tile-screen').waitFor({ state: 'detached', timeout: 20000 });
      await seeWidth(ben, 'Ann', 640);

      // Cy leaves: the others drop Cy's tile.
      await cy.click('#leave-btn');
      await seeText(cy, '#left', 'You left the meeting');
      await eventually('ann drops Cy', async () => expectNames(await tileNames(ann), ['Ben']));
      await eventually('ben drops Cy', async () => expectNames(await tileNames(ben), ['Ann']));
      await seePlaying(ann, ['Ben']);

      // A fourth person without any camera or microphone joins chat-only: a placeholder for the others.
      const bare = await t.browser({ media: 'none' });
      const dee = await t.page(bare, { label: 'dee', init: recordPeerConnections });
      await dee.goto('/?room=standup&name=Dee');
      await waitInRoom(dee, 'standup', 3);
      await seeText(dee, '#media-note', 'chat only');
      for (const page of [ann, ben]) {
        await page.locator('#grid .tile[data-video="off"]', { hasText: 'Dee' }).waitFor({ timeout: 20000 });
      }
      await seePlaying(dee, ['Ann', 'Ben']);
      await sendChat(dee, 'no camera here');
      await seeInLog(ben, 'Dee: no camera here');
      await t.screenshot(ann, 'call-with-placeholder');

      // Eve denies the camera: chat-only, then shares her screen, which renegotiates her
      // receive-only connections into sending ones (perfect negotiation, no page reload).
      const eve = await t.page(browser, { label: 'eve', init: denyCamera });
      await eve.goto('/?room=standup&name=Eve');
      await waitInRoom(eve, 'standup', 4);
      await seeText(eve, '#media-note', 'permission was denied');
      await ann.locator('#grid .tile[data-video="off"]', { hasText: 'Eve' }).waitFor({ timeout: 20000 });
      await eve.click('#screen-btn');
      await seeWidth(ann, 'Eve (presenting)', 1280);
      await seeWidth(ben, 'Eve (presenting)', 1280);
      await eve.click('#screen-btn');
      await ann.locator('#grid .tile-screen').waitFor({ state: 'detached', timeout: 20000 });
      await ann.locator('#grid .tile[data-video="off"]', { hasText: 'Eve' }).waitFor({ timeout: 20000 });
    },
  },
];

function expectNames(got, want) {
  return JSON.stringify(got) === JSON.stringify([...want].sort());
}
