// SPDX-License-Identifier: MIT
// The room's chat log: "You: ..." for own messages, "Nick: ..." for others, and notices.

import { el, clock } from './dom.js';

const MAX_ENTRIES = 500;

export class ChatLog {
  #list;

  constructor(listEl) {
    this.#list = listEl;
  }

  clear() {
    this.#list.replaceChildren();
  }

  /** A chat line; `own` shows "You" instead of the sender's nickname. */
  message({ nickname, text, ts, own, seq }) {
    const who = own ? 'You' : nickname;
    const item = el(
      'li',
      { className: own ? 'msg msg-own' : 'msg', dataset: { seq: String(seq ?? '') } },
      el('span', { className: 'msg-who', text: `${who}: ` }),
      el('span', { className: 'msg-text', text }),
    );
    if (Number.isFinite(ts)) {
      item.append(el('time', { className: 'msg-time', text: clock(ts), dateTime: new Date(ts).toISOString() }));
    }
    this.#append(item);
  }

  /** A grey line about the room (joins, leaves, renames, connection). */
  notice(text) {
    this.#append(el('li', { className: 'notice', text }));
  }

  #append(item) {
    const list = this.#list;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(item);
    while (list.childElementCount > MAX_ENTRIES) list.firstElementChild.remove();
    if (atBottom) list.scrollTop = list.scrollHeight;
  }
}
