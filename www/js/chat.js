// SPDX-License-Identifier: MIT
// The room's chat log: messages grouped by sender with clickable links (built as text nodes and
// anchors, never markup), notices, and the unread count while the panel is closed.

import { el, clock } from './dom.js';

const MAX_ENTRIES = 500;
const LINK_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** `text` as nodes: plain runs as text nodes, http(s) URLs as anchors opening a new tab. */
export function linkify(text) {
  const nodes = [];
  let at = 0;
  for (const match of text.matchAll(LINK_RE)) {
    let url = match[0];
    const trail = TRAILING.exec(url);
    if (trail) url = url.slice(0, -trail[0].length);
    let href;
    try {
      href = new URL(url).href;
    } catch {
      continue;
    }
    if (match.index > at) nodes.push(document.createTextNode(text.slice(at, match.index)));
    nodes.push(el('a', { href, text: url, target: '_blank', rel: 'noopener noreferrer' }));
    at = match.index + url.length;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

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
    // DOM order who, text, time ("You: hi 14:05" as text); CSS puts the time beside the name.
    const item = el(
      'li',
      { className: own ? 'msg msg-own' : 'msg', dataset: { seq: String(seq ?? '') } },
      el('span', { className: 'msg-who' }, who, el('span', { className: 'visually-hidden', text: ': ' })),
      el('div', { className: 'msg-text' }, ...linkify(text)),
    );
    if (Number.isFinite(ts)) {
      item.append(el('time', { className: 'msg-time', text: clock(ts), dateTime: new Date(ts).toISOString() }));
    }
    this.#append(item);
  }

  /** A grey line about the room (joins, leaves, renames). */
  notice(text) {
    this.#append(el('li', { className: 'notice', text }));
  }

  /** Scrolls to the newest entry (when the panel opens). */
  toEnd() {
    this.#list.scrollTop = this.#list.scrollHeight;
  }

  #append(item) {
    const list = this.#list;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    list.append(item);
    while (list.childElementCount > MAX_ENTRIES) list.firstElementChild.remove();
    if (atBottom) list.scrollTop = list.scrollHeight;
  }
}
