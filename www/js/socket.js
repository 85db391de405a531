// SPDX-License-Identifier: MIT
// The page's one WebSocket to huddle: URL from `location`, reconnect with capped, jittered
// backoff, JSON in and out. Emits 'state', 'open', 'message' (parsed object) and 'text' (non-JSON).

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;
const decoder = new TextDecoder();

/** The WebSocket URL of the server that served this page (never a hard-coded host). */
export function socketUrl(loc = location) {
  const scheme = loc.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${loc.host}/`;
}

export class HuddleSocket extends EventTarget {
  #url;
  #ws = null;
  #attempt = 0;
  #timer = 0;
  #stopped = false;
  #state = 'closed';
  #retryAt = 0;

  constructor(url = socketUrl()) {
    super();
    this.#url = url;
  }

  /** 'connecting', 'open' or 'closed'. */
  get state() {
    return this.#state;
  }

  /** Milliseconds since epoch of the next reconnect attempt while closed, else 0. */
  get retryAt() {
    return this.#retryAt;
  }

  get isOpen() {
    return this.#ws !== null && this.#ws.readyState === WebSocket.OPEN;
  }

  connect() {
    this.#stopped = false;
    clearTimeout(this.#timer);
    this.#open();
  }

  /** Closes for good (no reconnect). */
  close() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#ws) this.#ws.close(1000);
  }

  /** Sends an object as JSON or a string as-is. Returns false when not connected. */
  send(message) {
    if (!this.isOpen) return false;
    this.#ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    return true;
  }

  #setState(state) {
    this.#state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryAt: this.#retryAt } }));
  }

  #open() {
    this.#retryAt = 0;
    this.#setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch (err) {
      this.#scheduleRetry();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    ws.addEventListener('open', () => {
      this.#attempt = 0;
      this.#setState('open');
      this.dispatchEvent(new Event('open'));
    });
    ws.addEventListener('message', (ev) => this.#onMessage(ev.data));
    ws.addEventListener('close', (ev) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.dispatchEvent(new CustomEvent('close', { detail: { code: ev.code, reason: ev.reason } }));
      // 4000: another connection resumed this session (e.g. the same page in another tab).
      if (ev.code === 4000) this.#stopped = true;
      if (this.#stopped) {
        this.#setState('closed');
      } else {
        this.#scheduleRetry();
      }
    });
  }

  #scheduleRetry() {
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.#attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.#attempt += 1;
    this.#retryAt = Date.now() + delay;
    this.#setState('closed');
    this.#timer = setTimeout(() => this.#open(), delay);
  }

  #onMessage(data) {
    const text = typeof data === 'string' ? data : decoder.decode(data);
    let message = null;
    try {
      message = JSON.parse(text);
    } catch {
      message = null;
    }
    if (message !== null && typeof message === 'object' && typeof message.type === 'string') {
      this.dispatchEvent(new CustomEvent('message', { detail: message }));
    } else {
      this.dispatchEvent(new CustomEvent('text', { detail: text }));
    }
  }
}
