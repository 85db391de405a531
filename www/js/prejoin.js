// SPDX-License-Identifier: MIT
// The pre-join screen: camera preview, microphone level, camera/microphone/speaker pickers,
// "join with microphone off / camera off" toggles and the name. The media it opens is the
// call's own LocalMedia, so joining keeps the preview's devices and toggles.

import { byId } from './dom.js';
import { showToggle } from './icons.js';
import { watchLevel } from './audio.js';
import { fillDevices } from './meeting.js';
import { avatarColor } from './tiles.js';
import { store } from './store.js';

export class PreJoin {
  #meeting;
  #ui;
  #stopMeter = () => {};
  #meterTrack = null;
  #active = false;
  #onChange;

  /** `meeting`: the Meeting whose media is previewed. */
  constructor(meeting) {
    this.#meeting = meeting;
    this.#ui = {
      preview: byId('preview'),
      video: byId('preview-video'),
      avatar: byId('preview-avatar'),
      offText: byId('preview-off-text'),
      meter: byId('preview-meter'),
      mic: byId('pj-mic'),
      cam: byId('pj-cam'),
      note: byId('prejoin-note'),
      room: byId('prejoin-room'),
      count: byId('prejoin-count'),
      name: byId('prejoin-name'),
      camera: byId('pj-camera'),
      cameraField: byId('pj-camera-field'),
      micSel: byId('pj-micsel'),
      micField: byId('pj-mic-field'),
      speaker: byId('pj-speaker'),
      speakerField: byId('pj-speaker-field'),
      join: byId('prejoin-join'),
    };
    this.#onChange = () => this.#render();
    this.#wire();
  }

  /** Shows the screen for `room` with `name`; opens camera and microphone for the preview. */
  async open(room, name, count) {
    const ui = this.#ui;
    this.#active = true;
    ui.room.textContent = room;
    this.setCount(count);
    ui.name.value = name;
    ui.join.disabled = false;
    ui.join.textContent = 'Join now';
    const media = this.#meeting.media;
    media.addEventListener('change', this.#onChange);
    this.#render();
    await this.#meeting.prepare();
    if (!this.#active) return;
    this.#render();
    await this.#listDevices();
  }

  /** Leaves the screen (the media stays open for the call, or main ends it). */
  close() {
    this.#active = false;
    this.#meeting.media.removeEventListener('change', this.#onChange);
    this.#stopMeter();
    this.#stopMeter = () => {};
    this.#meterTrack = null;
    this.#ui.video.srcObject = null;
  }

  setCount(count) {
    const others = Number.isInteger(count) ? count : 0;
    this.#ui.count.textContent =
      others === 0 ? 'No one else is here yet.' : others === 1 ? '1 person is in this meeting.' : `${others} people are in this meeting.`;
  }

  /** Joining: the button says so until the server answers. */
  busy(on) {
    this.#ui.join.disabled = on;
    this.#ui.join.textContent = on ? 'Joining…' : 'Join now';
  }

  get name() {
    return this.#ui.name.value.trim();
  }

  #render() {
    const media = this.#meeting.media;
    const ui = this.#ui;
    const name = ui.name.value.trim() || '?';
    ui.avatar.textContent = ([...name][0] ?? '?').toUpperCase();
    ui.avatar.style.background = avatarColor(name);
    const camera = media.cameraTrack;
    if (ui.video.srcObject?.getVideoTracks()[0] !== camera) {
      ui.video.srcObject = camera ? new MediaStream([camera]) : null;
      if (camera) ui.video.play().catch(() => {});
    }
    const videoOn = camera !== null && media.camOn;
    ui.preview.dataset.video = videoOn ? 'on' : 'off';
    ui.preview.classList.toggle('mirror', media.facing === 'user');
    ui.offText.textContent = !media.started
      ? ''
      : camera === null
        ? 'No camera'
        : media.camOn
          ? 'Starting camera…'
          : 'Camera is off';
    ui.note.textContent = media.note.replace(/: you (joined|are in|the others).*$/, '.');
    ui.note.hidden = media.note === '';
    showToggle(ui.mic, { available: media.audioTrack !== null, on: media.micOn, what: 'microphone', icon: 'mic' });
    showToggle(ui.cam, { available: camera !== null, on: media.camOn, what: 'camera', icon: 'cam' });
    if (this.#meterTrack !== media.audioTrack) {
      this.#stopMeter();
      this.#meterTrack = media.audioTrack;
      this.#stopMeter = watchLevel(media.audioTrack, (level) => {
        ui.meter.style.transform = `scaleX(${media.micOn ? level : 0})`;
      });
    }
  }

  async #listDevices() {
    const media = this.#meeting.media;
    const ui = this.#ui;
    const cameras = await media.devices('videoinput');
    const mics = await media.devices('audioinput');
    fillDevices(ui.camera, cameras, media.cameraId, 'Camera');
    fillDevices(ui.micSel, mics, media.micId, 'Microphone');
    ui.cameraField.hidden = cameras.length === 0 || media.cameraTrack === null;
    ui.micField.hidden = mics.length === 0 || media.audioTrack === null;
    if (media.canPickSpeaker) {
      const speakers = await media.devices('audiooutput');
      fillDevices(ui.speaker, speakers, this.#meeting.grid.speakerId, 'Speaker');
      ui.speakerField.hidden = speakers.length === 0;
    }
  }

  #wire() {
    const ui = this.#ui;
    const media = this.#meeting.media;
    ui.mic.addEventListener('click', () => media.setMic(!media.micOn));
    ui.cam.addEventListener('click', () => media.setCam(!media.camOn));
    ui.name.addEventListener('input', () => this.#render());
    const pickers = [
      [ui.camera, 'camera', (id) => media.useCamera(id)],
      [ui.micSel, 'mic', (id) => media.useMic(id)],
    ];
    for (const [select, key, use] of pickers) {
      select.addEventListener('change', async () => {
        try {
          await use(select.value);
          store.set(key, select.value);
        } catch (err) {
          ui.note.textContent = err.message;
          ui.note.hidden = false;
        }
      });
    }
    ui.speaker.addEventListener('change', () => {
      this.#meeting.grid.setSpeaker(ui.speaker.value);
      store.set('speaker', ui.speaker.value);
    });
  }
}
