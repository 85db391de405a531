// SPDX-License-Identifier: MIT
// What surrounds the screens: the top bar (connection state and the server's greeting), the
// reconnecting banner, the alert line, which screen shows, the tab title, desktop notifications
// and the debug panel that sends raw text (?debug=1).

import { byId } from './dom.js';

const ALERT_MS = 10000;

export class Shell {
  #ui;
  #session;
  #socket;
  #debug;
  #alertTimer = 0;
  #connTimer = 0;

  /** `session`: the page's session; `socket`: its HuddleSocket; `debug`: show the raw panel. */
  constructor(session, socket, { debug = false } = {}) {
    this.#session = session;
    this.#socket = socket;
    this.#debug = debug;
    this.#ui = {
      topbar: byId('topbar'),
      conn: byId('conn-state'),
      connText: byId('conn-text'),
      greeting: byId('greeting'),
      alert: byId('alert'),
      alertText: byId('alert-text'),
      alertClose: byId('alert-close'),
      main: document.querySelector('main'),
      home: byId('home'),
      prejoin: byId('prejoin'),
      left: byId('left'),
      room: byId('room'),
      banner: byId('net-banner'),
      bannerText: byId('net-banner-text'),
      raw: byId('raw'),
      rawForm: byId('raw-form'),
      rawInput: byId('raw-input'),
    };
    this.#wire();
  }

  /** The connection state in the top bar (a countdown while offline) and the banner in a call. */
  conn() {
    const ui = this.#ui;
    const socket = this.#socket;
    const state = this.#session.state;
    clearInterval(this.#connTimer);
    const render = () => {
      const s = socket.state;
      ui.conn.dataset.state = s;
      if (s === 'open') ui.connText.textContent = 'Connected';
      else if (s === 'connecting') ui.connText.textContent = 'Connecting…';
      else {
        const secs = Math.max(0, Math.ceil((socket.retryAt - Date.now()) / 1000));
        ui.connText.textContent = socket.retryAt ? `Offline, retrying in ${secs} s` : 'Offline';
      }
      const down = s !== 'open' && state.room !== null;
      ui.banner.hidden = !down && !state.resuming;
      ui.bannerText.textContent = s === 'open' ? 'Reconnected, resuming…' : 'Connection to the server lost. Reconnecting… your call continues.';
    };
    render();
    if (socket.state === 'closed') this.#connTimer = setInterval(render, 1000);
  }

  greeting(text) {
    this.#ui.greeting.textContent = text;
  }

  /** Shows `text` in the alert line for a while. */
  alert(text) {
    const ui = this.#ui;
    ui.alertText.textContent = text;
    ui.alert.hidden = false;
    clearTimeout(this.#alertTimer);
    this.#alertTimer = setTimeout(() => {
      ui.alert.hidden = true;
    }, ALERT_MS);
  }

  /** Shows screen `view` ('home', 'prejoin', 'left' or 'room') and hides the others. */
  screen(view) {
    const ui = this.#ui;
    ui.home.hidden = view !== 'home';
    ui.prejoin.hidden = view !== 'prejoin';
    ui.left.hidden = view !== 'left';
    ui.room.hidden = view !== 'room';
    ui.main.hidden = view === 'room';
    ui.topbar.hidden = view === 'room';
    ui.raw.hidden = !this.#debug || view === 'room';
    document.body.classList.toggle('in-call', view === 'room');
  }

  /** The tab title: the meeting (with `unread` chat messages) or the pre-join screen's room. */
  title(unread) {
    const state = this.#session.state;
    const prefix = unread > 0 ? `(${unread}) ` : '';
    if (state.view === 'room' && state.room !== null) document.title = `${prefix}${state.room} · huddle`;
    else if (state.view === 'prejoin') document.title = `Join ${state.prejoinRoom} · huddle`;
    else document.title = 'huddle';
  }

  /** A desktop notification while the tab is hidden (when the user allowed them). */
  notify(title, body) {
    if (!document.hidden || typeof Notification !== 'function' || Notification.permission !== 'granted') return;
    try {
      const n = new Notification(title, { body, tag: 'huddle', silent: false });
      n.onclick = () => {
        window.focus();
        n.close();
      };
    } catch {
      /* some browsers only notify from a service worker */
    }
  }

  #wire() {
    const ui = this.#ui;
    ui.alertClose.addEventListener('click', () => {
      ui.alert.hidden = true;
    });
    ui.rawForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (this.#session.send(ui.rawInput.value)) ui.rawInput.value = '';
    });
  }
}
