// SPDX-License-Identifier: MIT
// The call side of the room screen: local media, the grid, the mesh call and the media
// controls (microphone, camera, screen, device choice, flip), the self view's speaking ring
// and the "You are presenting" bar. Driven by main.js's room events.

import { byId, el } from './dom.js';
import { LocalMedia } from './media.js';
import { Grid } from './tiles.js';
import { Call } from './call.js';
import { showToggle } from './icons.js';
import { watchLevel } from './audio.js';
import { store } from './store.js';

const NOTE_MS = 12000;
let configPromise = null;

/** The server's /api/config (ICE servers, limits); fetched once, {} when unavailable. */
export function serverConfig() {
  configPromise ??= fetch('/api/config', { cache: 'no-store' })
    .then((res) => (res.ok ? res.json() : {}))
    .catch(() => ({}));
  return configPromise;
}

function iceServersFrom(config) {
  const list = Array.isArray(config.iceServers) ? config.iceServers : [];
  return list.filter((s) => s && (typeof s.urls === 'string' || Array.isArray(s.urls)));
}

/** Fills `select` with `devices` ({deviceId, label}), selecting `current`. */
export function fillDevices(select, devices, current, word) {
  const options = devices.map((d, i) => el('option', { value: d.deviceId, text: d.label || `${word} ${i + 1}` }));
  select.replaceChildren(...options);
  if (devices.some((d) => d.deviceId === current)) select.value = current;
}

export class Meeting {
  #send;
  #onProblem;
  #media = new LocalMedia();
  #grid;
  #call = null;
  #nickname = 'Anon';
  #ui;
  #stopSelfLevel = () => {};
  #noteTimer = 0;
  #selfLevelTrack = null;
  /** Called when our microphone or camera state changes (main sends it to the server). */
  onLocalChange = () => {};
  /** Called with (id, level, detail) when a peer's connection quality is measured. */
  onQuality = () => {};
  /** Called when a tile's speaking state may have changed. */
  onTilesChange = () => {};

  /** `send(obj)` writes to the server; `onProblem(text)` shows a failure to the user. */
  constructor({ send, onProblem }) {
    this.#send = send;
    this.#onProblem = onProblem;
    this.#ui = {
      note: byId('media-note'),
      sound: byId('sound-btn'),
      mic: byId('mic-btn'),
      cam: byId('cam-btn'),
      flip: byId('flip-btn'),
      pick: byId('camera-pick'),
      select: byId('camera-select'),
      micPick: byId('micsel-pick'),
      micSelect: byId('micsel-select'),
      speakerPick: byId('speaker-pick'),
      speakerSelect: byId('speaker-select'),
      screen: byId('screen-btn'),
      presenting: byId('presenting'),
      stopShare: byId('stop-share'),
    };
    this.#grid = new Grid(byId('grid'), () => this.onTilesChange());
    this.#grid.speakerId = store.get('speaker');
    this.#media.speakerId = this.#grid.speakerId;
    this.#media.addEventListener('change', () => this.#render());
    this.#wireControls();
  }

  get media() {
    return this.#media;
  }

  get grid() {
    return this.#grid;
  }

  get inCall() {
    return this.#call !== null;
  }

  /** Opens camera and microphone with the remembered devices (pre-join preview or a join). */
  prepare() {
    if (!this.#media.started) this.#media.start({ cameraId: store.get('camera'), micId: store.get('mic') });
    return this.#media.ready;
  }

  /** We are in the room as `selfId`; `members` are the others ({id, nickname, state?}). */
  async start({ selfId, nickname, members }) {
    this.#stopCall();
    this.#nickname = nickname;
    this.prepare();
    this.#render();
    const call = new Call({
      selfId,
      media: this.#media,
      grid: this.#grid,
      send: this.#send,
      iceServers: serverConfig().then(iceServersFrom),
      onProblem: this.#onProblem,
      onSoundBlocked: () => {
        this.#ui.sound.hidden = false;
      },
    });
    call.onQuality = (id, level, detail) => this.onQuality(id, level, detail);
    this.#call = call;
    const started = call.start(members);
    for (const m of members) if (m.state) this.peerState(m.id, m.state);
    await started;
    await this.#media.ready;
    this.#render();
    this.#listDevices();
  }

  /** We joined the same room afresh after the server forgot us: keep the live connections. */
  carry({ selfId, nickname, members }) {
    if (!this.#call) {
      this.start({ selfId, nickname, members });
      return;
    }
    this.#nickname = nickname;
    this.#call.carry(selfId, members);
    this.#render();
  }

  /** True while a kept connection to `nickname` waits for its new id. */
  carrying(nickname) {
    return this.#call ? this.#call.carrying(nickname) : false;
  }

  welcome(id, nickname) {
    if (this.#call) this.#call.welcome(id, nickname);
  }

  bye(id) {
    if (this.#call) this.#call.bye(id);
  }

  rename(id, nickname) {
    if (this.#call) this.#call.rename(id, nickname);
    const screen = this.#grid.get(`${id}:screen`);
    if (screen) screen.rename(nickname);
  }

  signal(from, data) {
    if (this.#call) this.#call.signal(from, data);
  }

  /** The server's state of member `id`: {mic, cam, hand}. */
  peerState(id, state) {
    const tile = this.#grid.get(id);
    if (!tile) return;
    tile.setPublished({ audio: Boolean(state.mic), video: Boolean(state.cam) });
    tile.setHand(Boolean(state.hand));
  }

  /** Our own raised hand on the self view. */
  setOwnHand(up) {
    const tile = this.#grid.self();
    if (tile) tile.setHand(up);
  }

  /** The members we show (ids), for reconciling after a resume. */
  ids() {
    return this.#call ? this.#call.ids() : [];
  }

  setNickname(nickname) {
    this.#nickname = nickname;
    this.#render();
  }

  /** Left the room (or refused): end everything, release camera and microphone. */
  end() {
    this.#stopCall();
    this.#media.stopScreen();
    this.#media.stop();
    this.#stopSelfLevel();
    this.#selfLevelTrack = null;
    this.#grid.clear();
    this.#ui.note.hidden = true;
    this.#ui.note.textContent = '';
    this.#ui.sound.hidden = true;
    this.#ui.presenting.hidden = true;
  }

  #stopCall() {
    if (this.#call) this.#call.stop();
    this.#call = null;
  }

  toggleMic() {
    if (this.#media.audioTrack) this.#media.setMic(!this.#media.micOn);
  }

  toggleCam() {
    if (this.#media.cameraTrack) this.#media.setCam(!this.#media.camOn);
  }

  #render() {
    const media = this.#media;
    const ui = this.#ui;
    if (ui.note.textContent !== media.note) {
      // Shown for a while; the disabled buttons keep saying it afterwards.
      ui.note.textContent = media.note;
      clearTimeout(this.#noteTimer);
      this.#noteTimer = setTimeout(() => {
        ui.note.hidden = true;
      }, NOTE_MS);
      ui.note.hidden = media.note === '' || !this.#call;
    } else if (!this.#call) {
      ui.note.hidden = true;
    }
    showToggle(ui.mic, { available: media.audioTrack !== null, on: media.micOn, what: 'microphone', icon: 'mic', key: 'M' });
    showToggle(ui.cam, { available: media.cameraTrack !== null, on: media.camOn, what: 'camera', icon: 'cam', key: 'V' });
    const phone = window.matchMedia('(pointer: coarse)').matches;
    ui.screen.hidden = !media.canShareScreen || !media.started || phone;
    ui.screen.setAttribute('aria-pressed', String(media.sharing));
    const shareLabel = media.sharing ? 'Stop presenting' : 'Present your screen';
    ui.screen.setAttribute('aria-label', shareLabel);
    ui.screen.title = shareLabel;
    ui.presenting.hidden = !media.sharing || !this.#call;
    if (!ui.select.matches(':focus')) ui.select.value = media.cameraId;
    if (media.started && this.#call) {
      const tile = this.#grid.setSelf(this.#nickname, media.outgoingVideo, {
        mirror: media.facing === 'user',
        published: media.published,
      });
      if (this.#selfLevelTrack !== media.audioTrack) {
        this.#stopSelfLevel();
        this.#selfLevelTrack = media.audioTrack;
        this.#stopSelfLevel = watchLevel(media.audioTrack, (level, speaking) => tile.setSpeaking(speaking && media.micOn));
      }
    }
    this.onLocalChange();
  }

  async #listDevices() {
    const media = this.#media;
    const ui = this.#ui;
    const cameras = await media.devices('videoinput');
    const mics = await media.devices('audioinput');
    fillDevices(ui.select, cameras, media.cameraId, 'Camera');
    fillDevices(ui.micSelect, mics, media.micId, 'Microphone');
    const phone = window.matchMedia('(pointer: coarse)').matches;
    const several = cameras.length > 1 && media.cameraTrack !== null;
    ui.pick.hidden = !several || phone;
    ui.flip.hidden = !several || !phone;
    ui.micPick.hidden = mics.length < 2 || media.audioTrack === null;
    if (media.canPickSpeaker) {
      const speakers = await media.devices('audiooutput');
      fillDevices(ui.speakerSelect, speakers, this.#grid.speakerId, 'Speaker');
      ui.speakerPick.hidden = speakers.length < 2;
    }
  }

  async #guard(action) {
    try {
      await action();
    } catch (err) {
      this.#onProblem(err.message);
    }
    this.#render();
  }

  toggleScreen() {
    const media = this.#media;
    return this.#guard(() => (media.sharing ? media.stopScreen() : media.startScreen()));
  }

  #wireControls() {
    const ui = this.#ui;
    const media = this.#media;
    ui.mic.addEventListener('click', () => this.toggleMic());
    ui.cam.addEventListener('click', () => this.toggleCam());
    ui.select.addEventListener('change', () =>
      this.#guard(async () => {
        await media.useCamera(ui.select.value);
        store.set('camera', ui.select.value);
      }),
    );
    ui.micSelect.addEventListener('change', () =>
      this.#guard(async () => {
        await media.useMic(ui.micSelect.value);
        store.set('mic', ui.micSelect.value);
      }),
    );
    ui.speakerSelect.addEventListener('change', () => {
      this.#grid.setSpeaker(ui.speakerSelect.value);
      store.set('speaker', ui.speakerSelect.value);
    });
    ui.flip.addEventListener('click', () => this.#guard(() => media.flip()));
    ui.screen.addEventListener('click', () => this.toggleScreen());
    ui.stopShare.addEventListener('click', () => this.toggleScreen());
    ui.sound.addEventListener('click', () => {
      ui.sound.hidden = true;
      this.#grid.resumeAudio();
    });
  }
}
