// SPDX-License-Identifier: MIT
// The home screen: your name (remembered), "New meeting" with a made-up name (unlisted unless
// asked, optional passcode), "Join a meeting" by name or pasted invite link, and the live list
// of listed meetings.

import { byId } from './dom.js';
import { RoomList } from './rooms.js';
import { parseJoinInput, passcodeProblem, rememberPasscode } from './invite.js';
import { newMeetingName } from './names.js';
import { friendlyError } from './errors.js';
import { codePoints } from './panel.js';
import { store } from './store.js';

const ROOM_MAX = 64;

export class HomeView {
  #ui;
  #session;
  #alert;
  #rooms;
  #generatedName = ''; // the name the create form proposed

  /** `session`: the page's session; `alert(text)` shows a problem. */
  constructor(session, { alert }) {
    this.#session = session;
    this.#alert = alert;
    this.#ui = {
      nickInput: byId('nick-input'),
      joinForm: byId('join-form'),
      roomInput: byId('room-input'),
      newBtn: byId('new-btn'),
      createForm: byId('create-form'),
      createName: byId('create-name'),
      createListed: byId('create-listed'),
      createPasscode: byId('create-passcode'),
      createCancel: byId('create-cancel'),
    };
    this.#rooms = new RoomList(byId('room-list'), byId('room-empty'), (name, info) => session.openPreJoin(name, { protected: info.protected }));
    this.#ui.nickInput.value = store.get('name');
    this.#wire();
  }

  /** The listed meetings ([{name, count, capacity, locked, protected}]). */
  rooms(list) {
    this.#rooms.render(list);
  }

  /** The name to offer on the pre-join screen. */
  rememberedName() {
    return this.#ui.nickInput.value.trim() || store.get('name') || this.#session.state.wantedNick || '';
  }

  /** The name chosen on the pre-join screen, for next time. */
  setName(name) {
    this.#ui.nickInput.value = name;
  }

  /** Opens (with a freshly made-up name, or `room` when given) or closes the "New meeting" options. */
  openCreate(open = true, room = null) {
    const ui = this.#ui;
    ui.createForm.hidden = !open;
    ui.newBtn.hidden = open; // the panel has its own title and Start button
    ui.newBtn.setAttribute('aria-expanded', String(open));
    if (!open) return;
    this.#generatedName = newMeetingName();
    ui.createName.value = this.#generatedName;
    ui.createListed.checked = false;
    ui.createPasscode.value = '';
    ui.createName.focus();
    ui.createName.select();
    if (room === null) return;
    ui.createName.value = room;
    ui.createName.select();
  }

  #keepName() {
    const name = this.#ui.nickInput.value.trim();
    if (name !== '') store.set('name', name);
  }

  #wire() {
    const ui = this.#ui;
    const session = this.#session;
    // "Join a meeting": a name, or a pasted invite link (its passcode is kept for this tab).
    ui.joinForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.#keepName();
      const target = parseJoinInput(ui.roomInput.value);
      if (target.error) {
        this.#alert(target.error);
        return;
      }
      if (codePoints(target.room) > ROOM_MAX) {
        this.#alert(friendlyError('bad_field', 'join'));
        return;
      }
      if (target.passcode) rememberPasscode(target.room, target.passcode);
      if (target.room !== ui.roomInput.value.trim()) ui.roomInput.value = target.room; // no passcode left on screen
      session.openPreJoin(target.room);
    });

    // "New meeting": a made-up name (or the user's own), unlisted unless asked, optional passcode.
    ui.newBtn.addEventListener('click', () => this.openCreate(ui.createForm.hidden));
    ui.createCancel.addEventListener('click', () => {
      this.openCreate(false);
      ui.newBtn.focus();
    });
    ui.createForm.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape') return;
      this.openCreate(false);
      ui.newBtn.focus();
    });
    ui.createForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.#keepName();
      const room = ui.createName.value.trim();
      if (room === '' || codePoints(room) > ROOM_MAX) {
        this.#alert(friendlyError('bad_field', 'join'));
        return;
      }
      const passcode = ui.createPasscode.value;
      if (passcode !== '') {
        const problem = passcodeProblem(passcode);
        if (problem) {
          this.#alert(problem);
          ui.createPasscode.focus();
          return;
        }
      }
      session.createMeeting(room, { listed: ui.createListed.checked, passcode: passcode === '' ? null : passcode, generated: room === this.#generatedName });
    });
  }
}
