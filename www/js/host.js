// SPDX-License-Identifier: MIT
// The room's lock and passcode on the call screen: the lock marks everyone sees, and for the
// host the controls (lock switch, "Lock meeting" in the menu, the passcode form).

import { byId } from './dom.js';
import { setIcon } from './icons.js';
import { passcodeProblem } from './invite.js';

export class HostControls {
  #ui;
  #session;

  /** `session`: the page's session; `alert(text)` shows a problem; `closeMenu()` closes "More". */
  constructor(session, { alert, closeMenu }) {
    this.#session = session;
    this.#ui = {
      room: byId('room'),
      lockMark: byId('lock-mark'),
      lockPill: byId('lock-pill'),
      lockedNote: byId('locked-note'),
      controls: byId('host-controls'),
      lockBtn: byId('lock-btn'),
      passcodeForm: byId('passcode-form'),
      passcodeInput: byId('passcode-input'),
      passcodeHint: byId('passcode-hint'),
      passcodeClear: byId('passcode-clear'),
      menuLock: byId('menu-lock'),
      menuLockLabel: byId('menu-lock-label'),
    };
    this.#wire(alert, closeMenu);
  }

  /** Shows the room's host, lock and passcode. */
  render() {
    const ui = this.#ui;
    const state = this.#session.state;
    const host = this.#session.isHost();
    ui.room.dataset.locked = String(state.locked);
    ui.room.dataset.host = String(host);
    ui.room.dataset.protected = String(state.protected);
    ui.lockMark.hidden = !state.locked;
    ui.lockPill.hidden = !state.locked;
    ui.lockedNote.hidden = !state.locked || host;
    ui.controls.hidden = !host;
    ui.lockBtn.setAttribute('aria-checked', String(state.locked));
    ui.lockBtn.querySelector('.host-hint').textContent = state.locked ? 'On: nobody new can join' : 'Off: people with the link can join';
    setIcon(ui.lockBtn.querySelector('.ico'), state.locked ? 'lock' : 'unlock');
    ui.menuLock.hidden = !host;
    ui.menuLockLabel.textContent = state.locked ? 'Unlock meeting' : 'Lock meeting';
    setIcon(ui.menuLock.querySelector('.ico'), state.locked ? 'unlock' : 'lock');
    if (document.activeElement !== ui.passcodeInput) ui.passcodeInput.value = host ? state.passcode ?? '' : '';
    ui.passcodeClear.hidden = !state.protected;
    ui.passcodeHint.textContent = state.protected
      ? 'New people need it to join. Your invite link includes it.'
      : 'None: anyone with the link can join.';
  }

  #wire(alert, closeMenu) {
    const ui = this.#ui;
    const session = this.#session;
    ui.lockBtn.addEventListener('click', () => session.toggleLock());
    ui.menuLock.addEventListener('click', () => {
      closeMenu();
      session.toggleLock();
    });
    ui.passcodeForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const passcode = ui.passcodeInput.value;
      if (passcode === '') {
        if (session.state.protected) session.sendPasscode(null);
        return;
      }
      const problem = passcodeProblem(passcode);
      if (problem) {
        alert(problem);
        return;
      }
      if (session.sendPasscode(passcode)) ui.passcodeInput.blur();
    });
    ui.passcodeClear.addEventListener('click', () => {
      if (session.sendPasscode(null)) ui.passcodeInput.value = '';
    });
  }
}
