// SPDX-License-Identifier: MIT
// The screen after a meeting: "You left the meeting" (with Rejoin), or "You were removed from
// the meeting" (the host removed us: no way back in from here, only home).

import { byId } from './dom.js';

export class LeftView {
  #ui;

  /** `session`: the page's session (Rejoin and home). */
  constructor(session) {
    this.#ui = {
      left: byId('left'),
      title: byId('left-title'),
      room: byId('left-room'),
      rejoin: byId('rejoin-btn'),
      home: byId('home-btn'),
    };
    this.#ui.rejoin.addEventListener('click', () => session.rejoin());
    this.#ui.home.addEventListener('click', () => session.goHome());
  }

  /** `mode` 'left' or 'removed'; `room`: the meeting we were in (null when unknown). */
  render(mode, room) {
    const ui = this.#ui;
    const removed = mode === 'removed';
    ui.left.dataset.mode = mode;
    ui.title.textContent = removed ? 'You were removed from the meeting' : 'You left the meeting';
    ui.room.textContent = !room ? '' : removed ? `The host removed you from ${room}.` : `You were in ${room}.`;
    ui.rejoin.hidden = removed;
    ui.home.textContent = removed ? 'Back to home' : 'Return to home screen';
    ui.home.classList.toggle('btn-primary', removed); // the only way on
  }

  focus() {
    this.#ui.title.focus();
  }
}
