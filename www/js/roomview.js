// SPDX-License-Identifier: MIT
// The call screen around the grid: the meeting's name and clock, the head count, the raised
// hand, the "More" menu (reactions, rename, invite link, lock), toasts and floating reactions,
// the invite link with its no-passcode note, Leave, and the keyboard shortcuts. The grid and
// the media controls are meeting.js's; the chat and people panel is panel.js's.

import { byId, el } from './dom.js';
import { inviteUrl } from './invite.js';
import { HostControls } from './host.js';

const REACTIONS = ['👍', '❤️', '😂', '😮', '👏', '🎉', '🙏', '✋'];
const FLOAT_MS = 4000;

export class RoomView {
  #ui;
  #session;
  #meeting;
  #panel;
  #host;

  /** `session`: the page's session; `meeting`: the call; `panel`: the SidePanel; `alert(text)`. */
  constructor(session, { meeting, panel, alert }) {
    this.#session = session;
    this.#meeting = meeting;
    this.#panel = panel;
    this.#ui = {
      room: byId('room'),
      title: byId('room-title'),
      name: byId('room-name'),
      clock: byId('clock'),
      peopleBtn: byId('people-btn'),
      peopleCount: byId('people-count'),
      handBtn: byId('hand-btn'),
      moreBtn: byId('more-btn'),
      moreMenu: byId('more-menu'),
      menuHand: byId('menu-hand'),
      menuHandLabel: byId('menu-hand-label'),
      menuInvite: byId('menu-invite'),
      reactRow: byId('react-row'),
      reactions: byId('reactions'),
      renameForm: byId('rename-form'),
      renameInput: byId('rename-input'),
      leaveBtn: byId('leave-btn'),
      inviteBtn: byId('invite-btn'),
      inviteLabel: byId('invite-label'),
      inviteCopied: byId('invite-copied'),
      inviteNote: byId('invite-note'),
      inviteLink: byId('invite-link'),
    };
    this.#host = new HostControls(session, { alert, closeMenu: () => this.closeMenu() });
    this.#wire();
    const tick = () => {
      this.#ui.clock.textContent = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    };
    tick();
    setInterval(tick, 15000);
  }

  /** We are in `room`. */
  entered(room) {
    const ui = this.#ui;
    ui.room.dataset.room = room;
    ui.name.textContent = room;
    ui.title.textContent = `Meeting ${room}`;
  }

  count(count) {
    const ui = this.#ui;
    ui.room.dataset.count = String(count);
    ui.peopleCount.textContent = String(count);
    ui.peopleBtn.setAttribute('aria-label', `Show everyone (${count})`);
  }

  focus() {
    this.#ui.title.focus();
  }

  /** Our own hand, up or down. */
  hand(up) {
    const ui = this.#ui;
    ui.handBtn.setAttribute('aria-pressed', String(up));
    const label = up ? 'Lower hand (H)' : 'Raise hand (H)';
    ui.handBtn.setAttribute('aria-label', label);
    ui.handBtn.title = label;
    ui.menuHandLabel.textContent = up ? 'Lower hand' : 'Raise hand';
  }

  closeMenu() {
    this.#ui.moreMenu.hidden = true;
    this.#ui.moreBtn.setAttribute('aria-expanded', 'false');
  }

  /** A short line floating over the grid. */
  toast(text) {
    this.#float(el('div', { className: 'toast', text }));
  }

  /** `who` ('You', a nickname or '') sent `emoji`. */
  reaction(emoji, who) {
    const item = el('div', { className: 'reaction' }, el('span', { className: 'reaction-emoji', text: emoji }), el('span', { className: 'reaction-who', text: who }));
    item.style.left = `${10 + Math.random() * 30}%`;
    this.#float(item);
  }

  /** Shows the room's host, lock and passcode: the lock marks, host controls, invite, people panel. */
  render() {
    this.#host.render();
    this.renderInvite();
    this.#panel.refreshPeople();
  }

  /**
   * The invite link on show after "Copy invite link", with the note when it lacks the passcode:
   * it follows a passcode change, and goes out of the room.
   */
  renderInvite() {
    const ui = this.#ui;
    const state = this.#session.state;
    if (state.room === null) ui.inviteCopied.hidden = true;
    if (!ui.inviteCopied.hidden) ui.inviteLink.value = inviteUrl(state.room, state.protected ? state.passcode : null);
    ui.inviteNote.hidden = ui.inviteCopied.hidden || !this.#session.linkLacksPasscode();
  }

  async copyInvite() {
    const ui = this.#ui;
    ui.inviteCopied.hidden = false;
    this.renderInvite();
    const link = ui.inviteLink.value;
    try {
      await navigator.clipboard.writeText(link);
      ui.inviteLabel.textContent = 'Link copied';
      this.toast(this.#session.linkLacksPasscode() ? 'Invite link copied, without the passcode' : 'Invite link copied');
    } catch {
      ui.inviteLink.select();
      ui.inviteLabel.textContent = 'Copy the link below';
    }
    setTimeout(() => {
      ui.inviteLabel.textContent = 'Copy invite link';
    }, 3000);
  }

  #float(item) {
    this.#ui.reactions.append(item);
    setTimeout(() => item.remove(), FLOAT_MS);
  }

  #wire() {
    const ui = this.#ui;
    const session = this.#session;
    const panel = this.#panel;
    ui.renameForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const nickname = ui.renameInput.value.trim();
      if (nickname === '' || !session.setNickname(nickname)) return;
      ui.renameInput.value = '';
      ui.renameForm.closest('details').open = false;
      this.closeMenu();
    });
    ui.leaveBtn.addEventListener('click', () => session.leaveRoom());
    ui.handBtn.addEventListener('click', () => session.setHand(!session.state.hand));
    ui.menuHand.addEventListener('click', () => {
      session.setHand(!session.state.hand);
      this.closeMenu();
    });
    ui.moreBtn.addEventListener('click', (ev) => {
      ev.stopPropagation();
      const open = ui.moreMenu.hidden;
      ui.moreMenu.hidden = !open;
      ui.moreBtn.setAttribute('aria-expanded', String(open));
    });
    document.addEventListener('click', (ev) => {
      if (!ui.moreMenu.hidden && !ui.moreMenu.contains(ev.target)) this.closeMenu();
    });
    for (const emoji of REACTIONS) {
      const button = el('button', { type: 'button', className: 'react-btn', text: emoji, title: `React ${emoji}`, attrs: { 'aria-label': `React ${emoji}` } });
      button.addEventListener('click', () => session.react(emoji));
      ui.reactRow.append(button);
    }
    ui.inviteBtn.addEventListener('click', () => this.copyInvite());
    ui.menuInvite.addEventListener('click', () => {
      this.closeMenu();
      panel.open('people');
      this.copyInvite();
    });

    // Keyboard shortcuts in the call: M microphone, V camera, C chat, H hand; Escape closes.
    document.addEventListener('keydown', (ev) => {
      if (session.state.view !== 'room') return;
      if (ev.key === 'Escape') {
        if (!ui.moreMenu.hidden) this.closeMenu();
        else if (panel.current !== null) panel.open(null);
        return;
      }
      const target = ev.target;
      if (ev.ctrlKey || ev.metaKey || ev.altKey || target.closest('input, textarea, select, [contenteditable="true"]')) return;
      const key = ev.key.toLowerCase();
      if (key === 'm') this.#meeting.toggleMic();
      else if (key === 'v') this.#meeting.toggleCam();
      else if (key === 'c') panel.toggle('chat');
      else if (key === 'h') session.setHand(!session.state.hand);
      else return;
      ev.preventDefault();
    });
  }
}
