// SPDX-License-Identifier: MIT
// The call side of the room screen: local media, the grid, the mesh call and the control
// buttons (mute, camera, camera choice, flip, screen share), driven by main.js's room events.

import { byId, el } from './dom.js';
import { LocalMedia } from './media.js';
import { Grid } from './tiles.js';
import { Call } from './call.js';

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

export class Meeting {
  #send;
  #onProblem;
  #media = new LocalMedia();
  #grid;
  #call = null;
  #nickname = 'Anon';
  #ui;

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
      screen: byId('screen-btn'),
    };
    this.#grid = new Grid(byId('grid'));
    this.#media.addEventListener('change', () => this.#render());
    this.#wireControls();
  }

  /** Asks for camera and microphone (call it from the user's click when possible). */
  prepare() {
    if (!this.#media.started) this.#media.start();
  }

  /** We are in the room as `selfId`; `members` are the others. */
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
    this.#call = call;
    await call.start(members);
    await this.#media.ready;
    this.#render();
    this.#listCameras();
  }

  welcome(id, nickname) {
    if (this.#call) this.#call.welcome(id, nickname);
  }

  bye(id) {
    if (this.#call) this.#call.bye(id);
  }

  rename(id, nickname) {
    if (this.#call) this.#call.rename(id, nickname);
  }

  signal(from, data) {
    if (this.#call) this.#call.signal(from, data);
  }

  setNickname(nickname) {
    this.#nickname = nickname;
    this.#render();
  }

  /** The connection to the server dropped: end the peer connections, keep camera and preview. */
  suspend() {
    this.#stopCall();
  }

  /** Left the room: end everything, release camera and microphone. */
  end() {
    this.#stopCall();
    this.#media.stop();
    this.#grid.clear();
    this.#ui.note.hidden = true;
    this.#ui.sound.hidden = true;
  }

  #stopCall() {
    if (this.#call) this.#call.stop();
    this.#call = null;
  }

  #render() {
    const media = this.#media;
    const ui = this.#ui;
    ui.note.textContent = media.note;
    ui.note.hidden = media.note === '';
    ui.mic.disabled = media.audioTrack === null;
    ui.mic.setAttribute('aria-pressed', String(!media.micOn));
    ui.mic.textContent = media.micOn ? 'Mute' : 'Unmute';
    ui.cam.disabled = media.cameraTrack === null;
    ui.cam.setAttribute('aria-pressed', String(!media.camOn));
    ui.cam.textContent = media.camOn ? 'Camera off' : 'Camera on';
    ui.screen.hidden = !media.canShareScreen || !media.started;
    ui.screen.setAttribute('aria-pressed', String(media.sharing));
    ui.screen.textContent = media.sharing ? 'Stop sharing' : 'Share screen';
    if (!ui.select.matches(':focus')) ui.select.value = media.cameraId;
    if (media.started) {
      this.#grid.setSelf(this.#nickname, media.outgoingVideo, {
        mirror: !media.sharing && media.facing === 'user',
        published: media.published,
      });
    }
  }

  async #listCameras() {
    const cameras = await this.#media.cameras();
    const ui = this.#ui;
    const options = cameras.map((cam, i) => el('option', { value: cam.deviceId, text: cam.label || `Camera ${i + 1}` }));
    ui.select.replaceChildren(...options);
    ui.select.value = this.#media.cameraId;
    const several = cameras.length > 1 && this.#media.cameraTrack !== null;
    const phone = window.matchMedia('(pointer: coarse)').matches;
    ui.pick.hidden = !several || phone;
    ui.flip.hidden = !several || !phone;
  }

  async #guard(action) {
    try {
      await action();
    } catch (err) {
      this.#onProblem(err.message);
    }
    this.#render();
  }

  #wireControls() {
    const ui = this.#ui;
    const media = this.#media;
    ui.mic.addEventListener('click', () => media.setMic(!media.micOn));
    ui.cam.addEventListener('click', () => media.setCam(!media.camOn));
    ui.select.addEventListener('change', () => this.#guard(() => media.useCamera(ui.select.value)));
    ui.flip.addEventListener('click', () => this.#guard(() => media.flip()));
    ui.screen.addEventListener('click', () =>
      this.#guard(() => (media.sharing ? media.stopScreen() : media.startScreen())),
    );
    ui.sound.addEventListener('click', () => {
      ui.sound.hidden = true;
      this.#grid.resumeAudio();
    });
  }
}
