// SPDX-License-Identifier: MIT
// A session with fakes around it for the unit tests: a socket that records what is sent (and
// can be "down"), a call that records what it is told, a view that records every call, and
// passcodes kept in a Map.

import { load } from './www.mjs';

const { createSession, SEED_TEXT } = await load('session.js');
export { SEED_TEXT };

/**
 * A new session. `invite`: the page URL's {room, name, passcode}; `known`: passcodes this tab
 * knows ({room: passcode}). Returns the session and its fakes with helpers to read them.
 */
export function makeSession({ invite, known = {} } = {}) {
  const sent = [];
  const socket = {
    up: true,
    send(message) {
      if (!this.up) return false;
      sent.push(message);
      return true;
    },
  };
  const calls = []; // [method, ...args] of the view, in order
  const ui = { asksPasscode: false };
  const view = new Proxy({}, {
    get(_, method) {
      if (method === 'asksPasscode') return () => ui.asksPasscode;
      return (...args) => {
        calls.push([method, ...args]);
      };
    },
  });
  const callLog = []; // [method, ...args] of the call
  const carrying = new Set();
  const record = (method) => (...args) => {
    callLog.push([method, ...args]);
  };
  const call = {
    inCall: false,
    media: { published: { audio: true, video: false } },
    start(options) {
      callLog.push(['start', options]);
      this.inCall = true;
    },
    carry: record('carry'),
    carrying: (nickname) => carrying.has(nickname),
    welcome: record('welcome'),
    bye: record('bye'),
    rename: record('rename'),
    peerState: record('peerState'),
    signal: record('signal'),
    setNickname: record('setNickname'),
    setOwnHand: record('setOwnHand'),
    end() {
      callLog.push(['end']);
      this.inCall = false;
    },
  };
  const stored = new Map(Object.entries(known));
  const passcodes = {
    known: (room) => stored.get(room) ?? null,
    remember(room, passcode) {
      if (passcode) stored.set(room, passcode);
      else stored.delete(room);
    },
  };
  let names = 0;
  const session = createSession({ socket, call, view, invite, passcodes, newName: () => `made-up-${(names += 1)}` });
  const of = (method) => calls.filter((c) => c[0] === method).map((c) => (c.length === 2 ? c[1] : c.slice(1)));
  return {
    session,
    state: session.state,
    socket,
    sent,
    calls,
    ui,
    call,
    callLog,
    carrying,
    stored,
    /** Feeds server messages to the session. */
    receive(...messages) {
      for (const message of messages) session.handle(message);
    },
    /** The arguments of every call of view `method` (one argument: the argument itself). */
    of,
    notices: () => of('notice'),
    toasts: () => of('toast'),
    alerts: () => of('alert'),
    screens: () => of('screen'),
    /** The JSON messages sent (not the plain seed text), optionally of one type. */
    messages: (type) => sent.filter((m) => typeof m === 'object' && (type === undefined || m.type === type)),
    /** Forgets what was recorded so far. */
    clear() {
      sent.length = 0;
      calls.length = 0;
      callLog.length = 0;
    },
  };
}

/** Connects: the socket opens and the server says hello (id 7 "Anon" by default). */
export function connect(t, hello = {}) {
  t.session.opened();
  t.receive({ type: 'hello', text: 'hello!', id: 7, nickname: 'Anon', token: 'tok-1', rooms: [], ...hello });
}

/**
 * Joins `room` as `nickname` (the nickname reply and `joined` from the server): `members` are
 * the others; `room` fields (host, locked, protected, passcode) go into `joined` as given.
 */
export function enter(t, room, { nickname = 'Ann', members = [], count, host = 7, joinOptions, ...fields } = {}) {
  t.session.joinRoom(room, nickname, joinOptions);
  if (nickname !== t.state.nickname) t.receive({ type: 'nickname', nickname });
  t.receive({
    type: 'joined',
    room,
    id: t.state.id,
    members,
    count: count ?? members.length + 1,
    host,
    locked: false,
    listed: false,
    protected: false,
    ...fields,
  });
}
