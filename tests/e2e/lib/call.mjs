// SPDX-License-Identifier: MIT
// Call-level probes shared by the scenarios: the page's peer connections and captured tracks,
// remote tiles and whether their videos play (frames advancing).

import { eventually } from './wait.mjs';

export const CALL_MS = 45000;

/** Test-only instrumentation: remember every RTCPeerConnection and captured track of the page. */
export function recordPeerConnections() {
  const pcs = [];
  const captured = [];
  const devices = navigator.mediaDevices;
  if (devices && devices.getUserMedia) {
    const getUserMedia = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      const stream = await getUserMedia(constraints);
      captured.push(...stream.getTracks());
      return stream;
    };
  }
  Object.defineProperty(window, '__e2eCaptured', { value: captured });
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      pcs.push(this);
    }
  };
  Object.defineProperty(window, '__e2ePeerConnections', { value: pcs });
}

/** Remote tiles on `page` (`screens`: shared screens too): name, placeholder state, <video>. */
export function remoteTiles(page, screens = false) {
  return page.evaluate((withScreens) =>
    [...document.querySelectorAll(withScreens ? '#grid .tile:not(.tile-self)' : '#grid .tile:not(.tile-self):not(.tile-screen)')].map((tile) => {
      const video = tile.querySelector('video');
      return {
        name: tile.querySelector('.tile-name').textContent,
        video: tile.dataset.video,
        audio: tile.dataset.audio,
        width: video.videoWidth,
        frames: video.getVideoPlaybackQuality().totalVideoFrames,
      };
    }), screens);
}

/** Our senders' tracks on `page`, across all its open peer connections. */
export function senderTracks(page, kind) {
  return page.evaluate(
    (k) =>
      window.__e2ePeerConnections
        .filter((pc) => pc.connectionState !== 'closed')
        .flatMap((pc) => pc.getSenders())
        .map((s) => s.track)
        .filter((t) => t && t.kind === k)
        .map((t) => ({ id: t.id, label: t.label, enabled: t.enabled, state: t.readyState })),
    kind,
  );
}

/** Waits until `page` shows exactly `names` as remote videos with frames arriving. */
export async function seePlaying(page, names) {
  const want = [...names].sort();
  const label = async () => `${page.label}: remote videos of ${want.join(', ')}; now ${JSON.stringify(await remoteTiles(page))}`;
  const before = await eventually(label, async () => {
    const tiles = await remoteTiles(page);
    const playing = tiles.filter((t) => t.width > 0 && t.video === 'on');
    const got = playing.map((t) => t.name).sort();
    return tiles.length === want.length && JSON.stringify(got) === JSON.stringify(want) ? playing : false;
  }, { ms: CALL_MS });
  const seen = async () =>
    `${page.label}: new frames from ${want.join(', ')}; before ${JSON.stringify(before)}, now ${JSON.stringify(await remoteTiles(page))}`;
  await eventually(seen, async () => {
    const now = await remoteTiles(page);
    return before.every((b) => {
      const t = now.find((n) => n.name === b.name);
      return t && t.width > 0 && t.frames > b.frames;
    });
  }, { ms: CALL_MS });
}

/** Waits until `page` shows `name`'s video at `width` pixels wide with new frames arriving. */
export async function seeWidth(page, name, width) {
  const tile = async () => (await remoteTiles(page, true)).find((t) => t.name === name);
  const first = await eventually(async () => `${page.label}: ${name} at width ${width}; now ${JSON.stringify(await tile())}`, async () => {
    const t = await tile();
    return t && t.width === width && t.video === 'on' ? t : false;
  }, { ms: CALL_MS });
  await eventually(`${page.label}: new frames from ${name} at width ${width}`, async () => {
    const t = await tile();
    return t && t.width === width && t.frames > first.frames;
  }, { ms: CALL_MS });
}

