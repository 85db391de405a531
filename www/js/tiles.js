// SPDX-License-Identifier: MIT
// The call grid: one tile per person (and one per shared screen) with name, mic-off icon,
// camera-off avatar, speaking ring, raised hand, connection quality, pin and fullscreen
// buttons. The stage is laid out by layout.js: a grid that fills it, a small self view, or a
// spotlight for a pinned tile or a shared screen (letterboxed, never cropped).

import { el } from './dom.js';
import { icon } from './icons.js';
import { placeTiles } from './layout.js';
import { watchLevel } from './audio.js';

const SELF = 'self';
const COLORS = ['#8e3b9e', '#1e6f5c', '#b0452a', '#2f5fb3', '#8a5a00', '#a12d5a', '#3b6e22', '#5b4bb7'];

function initial(nickname) {
  const first = [...(nickname || '?').trim()][0] ?? '?';
  return first.toUpperCase();
}

/** A stable avatar colour for a name (white text on each passes AA). */
export function avatarColor(nickname) {
  let h = 0;
  for (const ch of nickname || '') h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return COLORS[h % COLORS.length];
}

function iconButton(name, label, className) {
  const button = el('button', { type: 'button', className: `tile-btn ${className}`, title: label, attrs: { 'aria-label': label } });
  button.append(icon(name));
  return button;
}

class Tile {
  constructor(grid, key, nickname, { self = false, screen = false } = {}) {
    this.grid = grid;
    this.key = key;
    this.self = self;
    this.screen = screen;
    this.videoTrack = null;
    this.audioTrack = null;
    this.wantsVideo = true; // the sender's published state
    this.video = el('video', { autoplay: true, playsInline: true, muted: true });
    this.video.setAttribute('playsinline', '');
    this.audio = self || screen ? null : el('audio', { autoplay: true });
    this.letter = el('span', { className: 'avatar', text: initial(nickname) });
    this.name = el('span', { className: 'tile-name' });
    this.micOff = el('span', { className: 'tile-micoff', title: 'Microphone off' }, icon('mic-off'));
    this.hand = el('span', { className: 'tile-hand', title: 'Hand raised', text: '✋' });
    this.quality = el('span', { className: 'tile-quality', title: 'Connection' }, icon('bars'));
    this.status = el('span', { className: 'tile-badge badge-status' });
    this.pin = iconButton('pin', 'Pin', 'tile-pin');
    this.full = iconButton('full', 'Full screen', 'tile-full');
    this.pin.addEventListener('click', () => grid.togglePin(this.key));
    this.full.addEventListener('click', () => this.fullscreen());
    this.video.addEventListener('dblclick', () => this.fullscreen());
    this.actionsTimer = 0;
    this.root = el(
      'figure',
      {
        className: `tile${self ? ' tile-self' : ''}${screen ? ' tile-screen' : ''}`,
        dataset: { peer: String(key), video: 'off', audio: 'on', speaking: 'false', hand: 'false' },
      },
      this.video,
      el('div', { className: 'tile-placeholder' }, this.letter),
      el('figcaption', { className: 'tile-label' }, this.micOff, this.hand, this.name),
      el('div', { className: 'tile-badges' }, this.quality, this.status),
      el('div', { className: 'tile-actions' }, this.pin, this.full),
    );
    if (this.audio) this.root.append(this.audio);
    this.root.addEventListener('click', (ev) => this.#onClick(ev));
    this.rename(nickname);
    this.onTrackMute = () => this.refresh();
  }

  /** A tap on a strip tile puts it in the spotlight; on a big one it shows the buttons. */
  #onClick(ev) {
    if (ev.target.closest('.tile-actions')) return;
    if (this.root.dataset.size === 'small' && this.grid.mode === 'spotlight') {
      this.grid.togglePin(this.key);
      return;
    }
    this.root.dataset.actions = 'shown';
    clearTimeout(this.actionsTimer);
    this.actionsTimer = setTimeout(() => delete this.root.dataset.actions, 4000);
  }

  rename(nickname) {
    this.nickname = nickname;
    let text = nickname;
    if (this.screen) text = this.self ? 'Your screen' : `${nickname} (presenting)`;
    else if (this.self) text = `${nickname} (you)`;
    this.name.textContent = text;
    this.letter.textContent = initial(nickname);
    this.letter.style.background = avatarColor(nickname);
    this.pin.setAttribute('aria-label', `Pin ${text}`);
  }

  setVideoTrack(track) {
    if (this.videoTrack === track) return;
    if (this.videoTrack) {
      for (const type of ['mute', 'unmute', 'ended']) this.videoTrack.removeEventListener(type, this.onTrackMute);
    }
    this.videoTrack = track;
    if (track) {
      for (const type of ['mute', 'unmute', 'ended']) track.addEventListener(type, this.onTrackMute);
      this.video.srcObject = new MediaStream([track]);
      this.video.play().catch(() => {});
    } else {
      this.video.srcObject = null;
    }
    this.refresh();
  }

  /** Resolves false when the browser blocked playback with sound. */
  async setAudioTrack(track) {
    this.audioTrack = track;
    if (this.stopLevel) this.stopLevel();
    this.stopLevel = track ? watchLevel(track, (level, speaking) => this.setSpeaking(speaking)) : null;
    if (!this.audio) return true;
    this.audio.srcObject = track ? new MediaStream([track]) : null;
    if (!track) return true;
    this.applySpeaker();
    try {
      await this.audio.play();
      return true;
    } catch {
      return false;
    }
  }

  applySpeaker() {
    const id = this.grid.speakerId;
    if (this.audio && this.audio.setSinkId && this.audio.sinkId !== id) this.audio.setSinkId(id).catch(() => {});
  }

  refresh() {
    const live = this.videoTrack !== null && this.videoTrack.readyState === 'live' && !this.videoTrack.muted;
    const on = live && (this.screen || this.wantsVideo) && (!this.self || this.videoTrack.enabled);
    this.root.dataset.video = on ? 'on' : 'off';
  }

  setPublished({ audio, video }) {
    this.root.dataset.audio = audio ? 'on' : 'off';
    this.wantsVideo = Boolean(video);
    if (!audio) this.setSpeaking(false);
    this.refresh();
  }

  setHand(up) {
    this.root.dataset.hand = up ? 'true' : 'false';
  }

  setSpeaking(on) {
    const value = on && this.root.dataset.audio !== 'off' ? 'true' : 'false';
    if (this.root.dataset.speaking !== value) this.root.dataset.speaking = value;
  }

  /** 'good', 'fair', 'poor' or null (unknown); `detail` is the tooltip. */
  setQuality(level, detail) {
    if (level) this.root.dataset.quality = level;
    else delete this.root.dataset.quality;
    this.quality.title = detail || 'Connection';
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

  setPinned(on) {
    if (this.root.dataset.pinned === (on ? 'true' : 'false')) return;
    this.root.dataset.pinned = on ? 'true' : 'false';
    this.pin.replaceChildren(icon(on ? 'unpin' : 'pin'));
    const label = `${on ? 'Unpin' : 'Pin'} ${this.name.textContent}`;
    this.pin.setAttribute('aria-label', label);
    this.pin.title = on ? 'Unpin' : 'Pin';
  }

  fullscreen() {
    if (document.fullscreenElement === this.root) {
      document.exitFullscreen().catch(() => {});
    } else if (this.root.requestFullscreen) {
      this.root.requestFullscreen().catch(() => {});
    }
  }

  destroy() {
    if (this.stopLevel) this.stopLevel();
    this.setVideoTrack(null);
    if (this.audio) this.audio.srcObject = null;
    this.root.remove();
  }
}

export class Grid {
  #root;
  #tiles = new Map();
  #pinned = null;
  #observer;
  #frame = 0;
  speakerId = '';
  mode = 'grid';

  /** `root`: the #grid element (fills the stage); `onChange()`: tiles were added or removed. */
  constructor(root, onChange = () => {}) {
    this.#root = root;
    this.onChange = onChange;
    this.#observer = new ResizeObserver(() => this.layout());
    this.#observer.observe(root);
  }

  #changed() {
    this.#root.dataset.count = String(this.#tiles.size);
    this.layout();
    this.onChange();
  }

  /** The own camera tile (muted, mirrored for a front camera). */
  setSelf(nickname, track, { mirror = false, published } = {}) {
    let tile = this.#tiles.get(SELF);
    if (!tile) {
      tile = new Tile(this, SELF, nickname, { self: true });
      this.#tiles.set(SELF, tile);
      this.#root.prepend(tile.root);
      this.#changed();
    }
    tile.rename(nickname);
    tile.root.classList.toggle('tile-mirror', mirror);
    tile.setVideoTrack(track);
    if (published) tile.setPublished(published);
    tile.refresh();
    return tile;
  }

  self() {
    return this.#tiles.get(SELF) ?? null;
  }

  /** Adds a tile for peer `id` (or its screen with `screen`) if missing; updates its name. */
  upsert(id, nickname, { screen = false } = {}) {
    const key = screen ? `${id}:screen` : id;
    let tile = this.#tiles.get(key);
    if (!tile) {
      tile = new Tile(this, key, nickname, { screen });
      this.#tiles.set(key, tile);
      this.#root.append(tile.root);
      if (screen && this.#pinned === null) this.#spotScreen = key;
      this.#changed();
    } else {
      tile.rename(nickname);
    }
    return tile;
  }

  #spotScreen = null;

  /** Moves tile `oldKey` to `newKey` (a member's new id after a fresh rejoin). */
  rekey(oldKey, newKey) {
    const tile = this.#tiles.get(oldKey);
    if (!tile || this.#tiles.has(newKey)) return;
    this.#tiles.delete(oldKey);
    tile.key = newKey;
    tile.root.dataset.peer = String(newKey);
    this.#tiles.set(newKey, tile);
    if (this.#pinned === oldKey) this.#pinned = newKey;
    if (this.#spotScreen === oldKey) this.#spotScreen = newKey;
  }

  has(key) {
    return this.#tiles.has(key);
  }

  get(key) {
    return this.#tiles.get(key) ?? null;
  }

  tiles() {
    return [...this.#tiles.values()];
  }

  remove(key) {
    const tile = this.#tiles.get(key);
    if (!tile) return;
    if (document.fullscreenElement === tile.root) document.exitFullscreen().catch(() => {});
    tile.destroy();
    this.#tiles.delete(key);
    if (this.#pinned === key) this.#pinned = null;
    if (this.#spotScreen === key) this.#spotScreen = null;
    this.#changed();
  }

  /** Removes every tile but the own one. */
  clearPeers() {
    for (const key of [...this.#tiles.keys()]) if (key !== SELF) this.remove(key);
  }

  clear() {
    for (const key of [...this.#tiles.keys()]) this.remove(key);
  }

  togglePin(key) {
    this.#pinned = this.#pinned === key ? null : key;
    if (this.#pinned === null && this.#spotScreen === key) this.#spotScreen = null;
    this.layout();
  }

  setSpeaker(deviceId) {
    this.speakerId = deviceId;
    for (const tile of this.#tiles.values()) tile.applySpeaker();
  }

  /** The key in the spotlight: the pinned tile, else the newest shared screen, else null. */
  #spot() {
    if (this.#pinned !== null && this.#tiles.has(this.#pinned)) return this.#pinned;
    if (this.#spotScreen !== null && this.#tiles.has(this.#spotScreen)) return this.#spotScreen;
    const screen = [...this.#tiles.values()].reverse().find((t) => t.screen);
    return screen ? screen.key : null;
  }

  /** Positions every tile for the current stage size (coalesced to one per frame). */
  layout() {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#place();
    });
  }

  #place() {
    const w = this.#root.clientWidth;
    const h = this.#root.clientHeight;
    if (w === 0 || h === 0) return;
    const list = [...this.#tiles.values()].map((t) => ({ key: t.key, self: t.self && !t.screen, screen: t.screen }));
    const spot = this.#spot();
    const { mode, rects, small } = placeTiles(list, spot, w, h);
    this.#root.dataset.layout = mode;
    this.mode = mode;
    for (const tile of this.#tiles.values()) {
      const r = rects.get(tile.key);
      const style = tile.root.style;
      if (!r) {
        style.display = 'none';
        continue;
      }
      style.display = '';
      style.transform = `translate(${Math.round(r.x)}px, ${Math.round(r.y)}px)`;
      style.width = `${Math.floor(r.w)}px`;
      style.height = `${Math.floor(r.h)}px`;
      tile.root.dataset.size = small.has(tile.key) ? 'small' : tile.key === spot ? 'spot' : 'normal';
      tile.setPinned(this.#pinned === tile.key);
    }
  }

  /** Retries playback with sound after a user gesture. */
  resumeAudio() {
    for (const tile of this.#tiles.values()) if (tile.audio && tile.audio.srcObject) tile.audio.play().catch(() => {});
  }
}
