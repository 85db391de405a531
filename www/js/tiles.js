// SPDX-License-Identifier: MIT
// The call grid: one tile per person with their nickname; a placeholder with their initial
// when no picture arrives (no camera, camera off, not connected yet).

import { el } from './dom.js';

const SELF = 'self';

function initial(nickname) {
  const first = [...(nickname || '?').trim()][0] ?? '?';
  return first.toUpperCase();
}

class Tile {
  constructor(key, nickname, self) {
    this.key = key;
    this.videoTrack = null;
    this.wantsVideo = true; // the sender's published state
    this.video = el('video', { autoplay: true, playsInline: true, muted: true });
    this.video.setAttribute('playsinline', '');
    this.audio = self ? null : el('audio', { autoplay: true });
    this.letter = el('span', { text: initial(nickname) });
    this.name = el('figcaption', { className: 'tile-name', text: self ? `${nickname} (you)` : nickname });
    this.status = el('span', { className: 'tile-badge badge-status' });
    this.root = el(
      'figure',
      { className: self ? 'tile tile-self' : 'tile', dataset: { peer: String(key), video: 'off', audio: 'on' } },
      this.video,
      el('div', { className: 'tile-placeholder' }, this.letter),
      this.name,
      el('div', { className: 'tile-badges' }, el('span', { className: 'tile-badge badge-muted', text: 'muted' }), this.status),
    );
    if (this.audio) this.root.append(this.audio);
    this.nickname = nickname;
    this.self = self;
    this.onTrackMute = () => this.refresh();
  }

  rename(nickname) {
    this.nickname = nickname;
    this.name.textContent = this.self ? `${nickname} (you)` : nickname;
    this.letter.textContent = initial(nickname);
  }

  setVideoTrack(track) {
    if (this.videoTrack === track) return;
    if (this.videoTrack) {
      this.videoTrack.removeEventListener('mute', this.onTrackMute);
      this.videoTrack.removeEventListener('unmute', this.onTrackMute);
      this.videoTrack.removeEventListener('ended', this.onTrackMute);
    }
    this.videoTrack = track;
    if (track) {
      track.addEventListener('mute', this.onTrackMute);
      track.addEventListener('unmute', this.onTrackMute);
      track.addEventListener('ended', this.onTrackMute);
      this.video.srcObject = new MediaStream([track]);
      this.video.play().catch(() => {});
    } else {
      this.video.srcObject = null;
    }
    this.refresh();
  }

  /** Resolves false when the browser blocked playback with sound. */
  async setAudioTrack(track) {
    if (!this.audio) return true;
    this.audio.srcObject = track ? new MediaStream([track]) : null;
    if (!track) return true;
    try {
      await this.audio.play();
      return true;
    } catch {
      return false;
    }
  }

  refresh() {
    const live = this.videoTrack !== null && this.videoTrack.readyState === 'live' && !this.videoTrack.muted;
    const on = live && this.wantsVideo && (!this.self || this.videoTrack.enabled);
    this.root.dataset.video = on ? 'on' : 'off';
  }

  setPublished({ audio, video }) {
    this.root.dataset.audio = audio ? 'on' : 'off';
    this.wantsVideo = Boolean(video);
    this.refresh();
  }

  setStatus(text) {
    if (text) {
      this.root.dataset.status = text;
      this.status.textContent = text;
    } else {
      delete this.root.dataset.status;
      this.status.textContent = '';
    }
  }

  destroy() {
    this.setVideoTrack(null);
    if (this.audio) this.audio.srcObject = null;
    this.root.remove();
  }
}

export class Grid {
  #root;
  #tiles = new Map();

  constructor(root) {
    this.#root = root;
  }

  #count() {
    this.#root.dataset.count = String(this.#tiles.size);
  }

  /** The own preview tile (muted, mirrored for a front camera). */
  setSelf(nickname, track, { mirror = false, published } = {}) {
    let tile = this.#tiles.get(SELF);
    if (!tile) {
      tile = new Tile(SELF, nickname, true);
      this.#tiles.set(SELF, tile);
      this.#root.prepend(tile.root);
      this.#count();
    }
    tile.rename(nickname);
    tile.root.classList.toggle('tile-mirror', mirror);
    tile.setVideoTrack(track);
    if (published) tile.setPublished(published);
    tile.refresh();
  }

  /** Adds a tile for peer `id` if missing; updates its name. */
  upsert(id, nickname) {
    let tile = this.#tiles.get(id);
    if (!tile) {
      tile = new Tile(id, nickname, false);
      this.#tiles.set(id, tile);
      this.#root.append(tile.root);
      this.#count();
    } else {
      tile.rename(nickname);
    }
    return tile;
  }

  has(id) {
    return this.#tiles.has(id);
  }

  get(id) {
    return this.#tiles.get(id) ?? null;
  }

  remove(id) {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    tile.destroy();
    this.#tiles.delete(id);
    this.#count();
  }

  /** Removes every tile but the own one. */
  clearPeers() {
    for (const id of [...this.#tiles.keys()]) if (id !== SELF) this.remove(id);
  }

  clear() {
    for (const id of [...this.#tiles.keys()]) this.remove(id);
  }

  /** Retries playback with sound after a user gesture. */
  resumeAudio() {
    for (const tile of this.#tiles.values()) if (tile.audio && tile.audio.srcObject) tile.audio.play().catch(() => {});
  }
}
