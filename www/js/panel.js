// SPDX-License-Identifier: MIT
// The call's side panel: chat or people, the chat button's unread badge, and the message box
// (a counter before the 2,000 limit, Enter sends, the text stays until the server echoes it).

import { byId } from './dom.js';
import { PeopleList } from './people.js';

const CHAT_MAX = 2000; // code points, as the server counts
const CHAT_WARN = 1800;
const PEOPLE_REFRESH_MS = 500; // the list shows who is speaking

export const codePoints = (text) => [...text].length;

export class SidePanel {
  #ui;
  #chat;
  #send;
  #showAlert;
  #people;
  #isHost;
  #peopleList;
  #onChange;
  #sentChat = null; // the text sent and not yet echoed
  current = null; // 'chat' | 'people' | null
  unread = 0;

  /**
   * `chat`: the ChatLog; `send(obj, context)` to the server (false when offline);
   * `showAlert(text)`; `people()`: [{key, nickname, self, host, tile}]; `isHost()`: we may
   * remove members; `onRemove(id, nickname)`: the host confirmed a removal; `onChange()`: the
   * panel or the unread count changed (title, layout).
   */
  constructor({ chat, send, showAlert, people, isHost = () => false, onRemove = () => {}, onChange }) {
    this.#chat = chat;
    this.#send = send;
    this.#showAlert = showAlert;
    this.#people = people;
    this.#isHost = isHost;
    this.#onChange = onChange;
    this.#ui = {
      side: byId('side'),
      title: byId('side-title'),
      close: byId('side-close'),
      chatPanel: byId('chat-panel'),
      peoplePanel: byId('people-panel'),
      peopleList: byId('people-list'),
      chatBtn: byId('chat-btn'),
      chatBadge: byId('chat-badge'),
      peopleBtn: byId('people-btn'),
      form: byId('chat-form'),
      input: byId('chat-input'),
      count: byId('chat-count'),
    };
    this.#peopleList = new PeopleList(this.#ui.peopleList, { onRemove });
    this.#wire();
    setInterval(() => this.refreshPeople(), PEOPLE_REFRESH_MS);
  }

  /** Shows `panel` ('chat', 'people') or closes the panel (null). */
  open(panel) {
    const ui = this.#ui;
    this.current = panel;
    ui.side.hidden = panel === null;
    ui.chatPanel.hidden = panel !== 'chat';
    ui.peoplePanel.hidden = panel !== 'people';
    ui.chatBtn.setAttribute('aria-pressed', String(panel === 'chat'));
    ui.peopleBtn.setAttribute('aria-pressed', String(panel === 'people'));
    ui.title.textContent = panel === 'people' ? 'People' : 'In-call messages';
    if (panel === 'chat') {
      this.setUnread(0);
      this.#chat.toEnd();
    }
    this.refreshPeople();
    this.#onChange();
  }

  toggle(panel) {
    this.open(this.current === panel ? null : panel);
    if (this.current === 'chat') this.#ui.input.focus();
  }

  setUnread(n) {
    const ui = this.#ui;
    this.unread = n;
    ui.chatBadge.hidden = n === 0;
    ui.chatBadge.textContent = n > 99 ? '99+' : String(n);
    ui.chatBtn.setAttribute('aria-label', n > 0 ? `Chat with everyone (C), ${n} unread` : 'Chat with everyone (C)');
    this.#onChange();
  }

  /** A message from someone else arrived. */
  incoming() {
    if (this.current !== 'chat' || document.hidden) this.setUnread(this.unread + 1);
  }

  /** Our own message came back from the server: empty the box if it still holds it. */
  ownEcho() {
    if (this.#sentChat !== null && this.#ui.input.value.trim() === this.#sentChat.trim()) {
      this.#ui.input.value = '';
      this.#renderCount();
    }
    this.#sentChat = null;
  }

  /** The server refused our message: the text stays in the box. */
  chatFailed() {
    this.#sentChat = null;
  }

  /** Left the room: closed, nothing unread. */
  reset() {
    this.#sentChat = null;
    this.setUnread(0);
    this.open(null);
    this.#peopleList.clear();
  }

  refreshPeople() {
    if (this.current === 'people') this.#peopleList.render(this.#people(), { canRemove: this.#isHost() });
  }

  #renderCount() {
    const ui = this.#ui;
    const n = codePoints(ui.input.value);
    const over = n > CHAT_MAX;
    ui.count.hidden = n < CHAT_WARN;
    ui.count.textContent = over ? `${n} / ${CHAT_MAX}: ${n - CHAT_MAX} too many` : `${n} / ${CHAT_MAX}`;
    ui.count.classList.toggle('over', over);
    ui.input.setAttribute('aria-invalid', String(over));
    ui.input.style.height = 'auto';
    ui.input.style.height = `${Math.min(ui.input.scrollHeight, 140)}px`;
  }

  #sendChat() {
    const text = this.#ui.input.value;
    if (text.trim() === '') return;
    const n = codePoints(text.trim());
    if (n > CHAT_MAX) {
      this.#showAlert(`That message is too long: ${n} characters, ${CHAT_MAX} at most. Your text is still in the box.`);
      this.#renderCount();
      return;
    }
    if (this.#send({ type: 'chat', text }, 'chat')) this.#sentChat = text;
  }

  #wire() {
    const ui = this.#ui;
    ui.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.#sendChat();
    });
    ui.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.#sendChat();
      }
    });
    ui.input.addEventListener('input', () => this.#renderCount());
    ui.chatBtn.addEventListener('click', () => this.toggle('chat'));
    ui.peopleBtn.addEventListener('click', () => this.toggle('people'));
    ui.close.addEventListener('click', () => this.open(null));
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.current === 'chat') this.setUnread(0);
    });
  }
}
