// SPDX-License-Identifier: MIT
// The pre-join screen: camera preview, microphone level, camera/microphone/speaker pickers,
// "join with microphone off / camera off" toggles and the name. The media it opens is the
// call's own LocalMedia, so joining keeps the preview's devices and toggles. For a meeting with
// a passcode it asks for the passcode (after the server said it is needed or wrong), and it
// says why a join was refused (locked, too many wrong passcodes) without leaving the screen.
// "Join now" checks the name, unlocks sound and asks for notifications with the click.

import { byId } from './dom.js';
import { showToggle } from './icons.js';
import { watchLevel, audioContext } from './audio.js';
import { fillDevices } from './meeting.js';
import { avatarColor } from './tiles.js';
import { codePoints } from './panel.js';
import { store } from './store.js';

const NICK_MAX = 32;

export class PreJoin {
  #meeting;
  #ui;
  #stopMeter = () => {};
  #meterTrack = null;
  #active = false;
  #onChange;
  #creating = false;

  /**
   * `meeting`: the Meeting whose media is previewed. `onJoin(name, passcode)`: "Join now" with a
   * valid name (passcode: the one typed, or null), true when the join was sent; `onBack()`;
   * `alert(text)` shows a problem.
   */
  constructor(meeting, { onJoin = () => false, onBack = () => {}, alert = () => {} } = {}) {
    this.#meeting = meeting;
    this.#ui = {
      form: byId('prejoin-form'),
      back: byId('prejoin-back'),
      preview: byId('preview'),
      video: byId('preview-video'),
      avatar: byId('preview-avatar'),
      offText: byId('preview-off-text'),
      meter: byId('preview-meter'),
      mic: byId('pj-mic'),
      cam: byId('pj-cam'),
      note: byId('prejoin-note'),
      room: byId('prejoin-room'),
      verb: byId('prejoin-verb'),
      refused: byId('prejoin-refused'),
      passField: byId('prejoin-pass-field'),
      passInput: byId('prejoin-passcode'),
      passHint: byId('prejoin-pass-hint'),
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
    this.#ui.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = this.name;
      if (name === '' || codePoints(name) > NICK_MAX) {
        alert('Please enter your name (up to 32 characters).');
        return;
      }
      store.set('name', name);
      audioContext(); // unlock sound with this click
      if (typeof Notification === 'function' && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
      if (onJoin(name, this.passcode)) this.busy(true);
    });
    this.#ui.back.addEventListener('click', () => onBack());
  }

  /**
   * Shows the screen for `room` with `name`; opens camera and microphone for the preview.
   * `count`: the people in it when the room is listed, else null (unknown). `creating`: a new
   * meeting (`summary` says how it is set up); `askPasscode`: the room is known to need one
   * (prefilled with `passcode`).
   */
  async open(room, name, count, { creating = false, summary = '', askPasscode = false, passcode = '' } = {}) {
    const ui = this.#ui;
    this.#active = true;
    this.#creating = creating;
    ui.room.textContent = room;
    ui.verb.textContent = creating ? 'Ready to start' : 'Ready to join';
    if (creating) {
      ui.count.textContent = summary;
      ui.count.hidden = summary === '';
    } else {
      this.setCount(count);
    }
    ui.name.value = name;
    ui.refused.hidden = true;
    ui.refused.textContent = '';
    ui.passField.hidden = true;
    ui.passInput.value = passcode ?? '';
    ui.passInput.removeAttribute('aria-invalid');
    if (askPasscode) this.askPasscode('This meeting needs a passcode.', false, false);
    this.busy(false);
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

  /** The people in a listed room; null (an unlisted room, or not listed yet): nothing said. */
  setCount(count) {
    if (this.#creating) return;
    const ui = this.#ui;
    ui.count.hidden = !Number.isInteger(count);
    if (!Number.isInteger(count)) return;
    ui.count.textContent =
      count === 0 ? 'No one else is here yet.' : count === 1 ? '1 person is in this meeting.' : `${count} people are in this meeting.`;
  }

  /** A new name for the meeting being created (the first one was taken). */
  setRoom(room) {
    this.#ui.room.textContent = room;
  }

  /** Joining: the button says so until the server answers. */
  busy(on) {
    this.#ui.join.disabled = on;
    this.#ui.join.textContent = on ? (this.#creating ? 'Starting…' : 'Joining…') : this.#creating ? 'Start meeting' : 'Join now';
    if (on) this.#ui.refused.hidden = true;
  }

  /** Shows the passcode field with `message`; `wrong`: the last one was refused. */
  askPasscode(message, wrong, focus = true) {
    const ui = this.#ui;
    this.#creating = false;
    this.busy(false);
    ui.passField.hidden = false;
    ui.passHint.textContent = message;
    ui.passHint.classList.toggle('field-error', wrong);
    if (wrong) ui.passInput.setAttribute('aria-invalid', 'true');
    else ui.passInput.removeAttribute('aria-invalid');
    if (focus) {
      ui.passInput.focus();
      ui.passInput.select();
    }
  }

  /** The join was refused for a reason the user cannot fix here (`text` says which). */
  refuse(text) {
    const ui = this.#ui;
    this.#creating = false;
    this.busy(false);
    ui.join.textContent = 'Try again';
    ui.passHint.textContent = '';
    ui.passHint.classList.remove('field-error');
    ui.passInput.removeAttribute('aria-invalid');
    ui.refused.textContent = text;
    ui.refused.hidden = false;
  }

  get name() {
    return this.#ui.name.value.trim();
  }

  /** The passcode typed (not trimmed), or null when the field is not shown or empty. */
  get passcode() {
    const ui = this.#ui;
    return ui.passField.hidden || ui.passInput.value === '' ? null : ui.passInput.value;
  }

  /** True while the passcode field is shown. */
  get asksPasscode() {
    return !this.#ui.passField.hidden;
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
