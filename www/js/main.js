// SPDX-License-Identifier: MIT
// Entry point: wires the socket to the screens (home, pre-join, call, "you left") and holds the
// session: own id, nickname, resume token, current room and its members with their states.
// The call survives a dropped socket: peer connections and tiles stay, one banner shows, and
// the session is resumed with its token (or joined afresh when the server forgot it).

import { byId, el } from './dom.js';
import { HuddleSocket } from './socket.js';
import { RoomList } from './rooms.js';
import { ChatLog } from './chat.js';
import { readInvite, inviteUrl, clearInvite } from './invite.js';
import { Meeting, serverConfig } from './meeting.js';
import { PreJoin } from './prejoin.js';
import { fillIcons } from './icons.js';
import { friendlyError } from './errors.js';
import { chime, audioContext } from './audio.js';
import { SidePanel, codePoints } from './panel.js';
import { store } from './store.js';

const SEED_TEXT = 'hello from the browser!';
const ALERT_MS = 10000;
const NICK_MAX = 32;
const REACTIONS = ['👍', '❤️', '😂', '😮', '👏', '🎉', '🙏', '✋'];
const SIGNAL_QUEUE_MAX = 500;

fillIcons();

const ui = {
  topbar: byId('topbar'),
  conn: byId('conn-state'),
  connText: byId('conn-text'),
  greeting: byId('greeting'),
  alert: byId('alert'),
  alertText: byId('alert-text'),
  alertClose: byId('alert-close'),
  main: document.querySelector('main'),
  home: byId('home'),
  nickInput: byId('nick-input'),
  roomList: byId('room-list'),
  roomEmpty: byId('room-empty'),
  joinForm: byId('join-form'),
  roomInput: byId('room-input'),
  prejoin: byId('prejoin'),
  prejoinForm: byId('prejoin-form'),
  prejoinBack: byId('prejoin-back'),
  left: byId('left'),
  leftTitle: byId('left-title'),
  leftRoom: byId('left-room'),
  rejoin: byId('rejoin-btn'),
  homeBtn: byId('home-btn'),
  raw: byId('raw'),
  rawForm: byId('raw-form'),
  rawInput: byId('raw-input'),
  room: byId('room'),
  roomTitle: byId('room-title'),
  roomName: byId('room-name'),
  clock: byId('clock'),
  banner: byId('net-banner'),
  bannerText: byId('net-banner-text'),
  inviteBtn: byId('invite-btn'),
  inviteLabel: byId('invite-label'),
  inviteCopied: byId('invite-copied'),
  inviteLink: byId('invite-link'),
  chatLog: byId('chat-log'),
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
};

const params = new URLSearchParams(location.search);
const debug = params.get('debug') === '1';
const socket = new HuddleSocket();
const rooms = new RoomList(ui.roomList, ui.roomEmpty, (name) => openPreJoin(name));
const chat = new ChatLog(ui.chatLog);
const meeting = new Meeting({ send: (message) => sendSignal(message), onProblem: (text) => showAlert(text) });
const prejoin = new PreJoin(meeting);
const panel = new SidePanel({
  chat,
  send: (message, context) => send(message, context),
  showAlert: (text) => showAlert(text),
  people: () => [
    { key: 'self', nickname: state.nickname, self: true, tile: meeting.grid.self() },
    ...[...state.members].map(([id, m]) => ({ key: id, nickname: m.nickname, self: false, tile: meeting.grid.get(id) })),
  ],
  onChange: () => {
    updateTitle();
    meeting.grid.layout();
  },
});
const refreshPeople = () => panel.refreshPeople();

const state = {
  id: null,
  nickname: 'Anon',
  token: null, // this session's resume token (hello / resumed)
  resumeToken: null, // the dropped session's token, sent first on the next socket
  resuming: false,
  wantedNick: null, // the nickname the user chose; re-sent after a fresh reconnect
  room: null, // the room we are in
  pendingRoom: null, // a join sent and not yet answered
  lastRoom: null, // for "Rejoin"
  invite: readInvite(),
  members: new Map(), // id -> {nickname, state: {mic, cam, hand}}
  count: 0,
  roomCounts: new Map(), // open rooms' head counts, for the pre-join screen
  hand: false,
  context: '', // what the last request was, for error wording: 'join' | 'chat' | 'nickname'
  signalQueue: [], // signals written while the socket was down (sent after a resume)
  sentState: '', // the last state message sent
  carry: false, // rejoining afresh while the call is live: keep its connections
  pendingHello: null, // the new connection's hello while its resume is pending
  view: 'home',
};

let alertTimer = 0;
let connTimer = 0;

/* ---- connection state, alerts ---- */

function showConnState() {
  clearInterval(connTimer);
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
  if (socket.state === 'closed') connTimer = setInterval(render, 1000);
}

function showAlert(text) {
  ui.alertText.textContent = text;
  ui.alert.hidden = false;
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => {
    ui.alert.hidden = true;
  }, ALERT_MS);
}

function send(message, context = '') {
  if (!socket.send(message)) {
    showAlert('Not connected to the server; try again in a moment.');
    return false;
  }
  if (context) state.context = context;
  return true;
}

/** Signals wait in a queue while the socket is down; a resumed session sends them. */
function sendSignal(message) {
  if (socket.send(message)) return true;
  if (message.type === 'signal' && state.token && state.signalQueue.length < SIGNAL_QUEUE_MAX) state.signalQueue.push(message);
  return false;
}

/** Tells the server our microphone, camera and hand (when they changed, or `force`). */
function sendState(force = false) {
  if (state.room === null || state.resuming) return;
  const media = meeting.media;
  const message = { type: 'state', mic: media.published.audio, cam: media.published.video, hand: state.hand };
  const text = JSON.stringify(message);
  if (!force && text === state.sentState) return;
  if (socket.send(message)) state.sentState = text;
}


/* ---- views ---- */

function showView(view) {
  state.view = view;
  ui.home.hidden = view !== 'home';
  ui.prejoin.hidden = view !== 'prejoin';
  ui.left.hidden = view !== 'left';
  ui.room.hidden = view !== 'room';
  ui.main.hidden = view === 'room';
  ui.topbar.hidden = view === 'room';
  ui.raw.hidden = !debug || view === 'room';
  document.body.classList.toggle('in-call', view === 'room');
  if (view !== 'prejoin') prejoin.close();
  if (view !== 'room') closeMenu();
  updateTitle();
}

function updateTitle() {
  const unread = panel.unread > 0 ? `(${panel.unread}) ` : '';
  if (state.view === 'room' && state.room !== null) document.title = `${unread}${state.room} · huddle`;
  else if (state.view === 'prejoin') document.title = `Join ${prejoinRoom} · huddle`;
  else document.title = 'huddle';
}

function setCount(count) {
  if (Number.isInteger(count)) state.count = count;
  ui.room.dataset.count = String(state.count);
  ui.peopleCount.textContent = String(state.count);
  ui.peopleBtn.setAttribute('aria-label', `Show everyone (${state.count})`);
}

function rememberedName() {
  return ui.nickInput.value.trim() || store.get('name') || state.wantedNick || '';
}

let prejoinRoom = '';

function openPreJoin(name) {
  const room = name.trim();
  if (room === '') return;
  prejoinRoom = room;
  showView('prejoin');
  prejoin.open(room, rememberedName(), state.roomCounts.get(room) ?? 0);
}

function notify(title, body) {
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

function toast(text) {
  const item = el('div', { className: 'toast', text });
  ui.reactions.append(item);
  setTimeout(() => item.remove(), 4000);
}

function closeMenu() {
  ui.moreMenu.hidden = true;
  ui.moreBtn.setAttribute('aria-expanded', 'false');
}

function setHand(up) {
  state.hand = up;
  ui.handBtn.setAttribute('aria-pressed', String(up));
  const label = up ? 'Lower hand (H)' : 'Raise hand (H)';
  ui.handBtn.setAttribute('aria-label', label);
  ui.handBtn.title = label;
  ui.menuHandLabel.textContent = up ? 'Lower hand' : 'Raise hand';
  meeting.setOwnHand(up);
  sendState();
  refreshPeople();
}

/* ---- actions ---- */

function setNickname(nickname) {
  state.wantedNick = nickname;
  return send({ type: 'nickname', nickname }, 'nickname');
}

/** Sends the join for `name` (the nickname first when it changed). */
function joinRoom(name, nickname = null) {
  const room = name.trim();
  if (room === '') return false;
  if (nickname !== null && nickname !== state.nickname) {
    if (!setNickname(nickname)) return false;
  }
  if (!send({ type: 'join', room }, 'join')) return false;
  state.pendingRoom = room;
  return true;
}

function leaveRoom() {
  if (state.room === null) return;
  if (!send({ type: 'leave' })) onLeft();
}

function onLeft() {
  const room = state.room ?? state.lastRoom;
  state.room = null;
  state.pendingRoom = null;
  state.members.clear();
  setHand(false);
  state.hand = false;
  meeting.end();
  chat.clear();
  panel.reset();
  clearInvite();
  ui.leftRoom.textContent = room ? `You were in ${room}.` : '';
  showView('left');
  ui.leftTitle.focus();
  socket.send({ type: 'list' });
}

function goHome() {
  meeting.end();
  showView('home');
}

/** The session is in `msg.room` again after a resume: reconcile members, keep the call. */
function reconcile(msg) {
  const members = Array.isArray(msg.members) ? msg.members : [];
  const now = new Set(members.map((m) => m.id));
  for (const id of [...state.members.keys()]) {
    if (!now.has(id)) {
      state.members.delete(id);
      meeting.bye(id);
    }
  }
  for (const m of members) {
    if (!state.members.has(m.id)) meeting.welcome(m.id, m.nickname);
    else if (state.members.get(m.id).nickname !== m.nickname) meeting.rename(m.id, m.nickname);
    state.members.set(m.id, { nickname: m.nickname, state: m.state ?? null });
    if (m.state) meeting.peerState(m.id, m.state);
  }
}

/* ---- server messages ---- */

const handlers = {
  hello(msg) {
    ui.greeting.textContent = typeof msg.text === 'string' ? msg.text : '';
    rooms.render(msg.rooms);
    countRooms(msg.rooms);
    if (state.resuming) {
      state.pendingHello = msg; // resumed or bad_token decides
      return;
    }
    startSession(msg);
  },

  resumed(msg) {
    state.resuming = false;
    state.pendingHello = null;
    state.resumeToken = null;
    state.id = msg.id;
    state.nickname = typeof msg.nickname === 'string' ? msg.nickname : state.nickname;
    if (typeof msg.token === 'string') state.token = msg.token;
    for (const message of state.signalQueue.splice(0)) socket.send(message);
    if (msg.room === null && state.room !== null) {
      // The server lost our room: join afresh.
      const again = state.room;
      state.room = null;
      joinRoom(again);
    }
    showConnState();
    sendState(true);
  },

  nickname(msg) {
    state.nickname = msg.nickname;
    meeting.setNickname(msg.nickname);
    store.set('name', msg.nickname);
    if (state.room !== null) chat.notice(`You are now ${msg.nickname}`);
    refreshPeople();
  },

  rooms(msg) {
    rooms.render(msg.rooms);
    countRooms(msg.rooms);
  },

  joined(msg) {
    const again = state.room === msg.room && msg.id === state.id && meeting.inCall;
    state.room = msg.room;
    state.lastRoom = msg.room;
    state.pendingRoom = null;
    state.id = msg.id ?? state.id;
    ui.room.dataset.room = msg.room;
    ui.roomName.textContent = msg.room;
    ui.roomTitle.textContent = `Meeting ${msg.room}`;
    setCount(msg.count);
    showConnState();
    if (again) {
      reconcile(msg);
      sendState(true);
      refreshPeople();
      return;
    }
    const members = Array.isArray(msg.members) ? msg.members : [];
    state.members = new Map(members.map((m) => [m.id, { nickname: m.nickname, state: m.state ?? null }]));
    if (state.carry && meeting.inCall && state.view === 'room') {
      // Joined afresh after the server forgot the session: the call goes on.
      state.carry = false;
      meeting.carry({ selfId: state.id, nickname: state.nickname, members });
      for (const m of members) if (m.state) meeting.peerState(m.id, m.state);
      sendState(true);
      refreshPeople();
      return;
    }
    state.carry = false;
    chat.clear();
    panel.setUnread(0);
    const names = members.map((m) => m.nickname);
    chat.notice(
      names.length === 0
        ? `You joined ${msg.room}. Nobody else is here yet.`
        : `You joined ${msg.room}. Here: ${names.join(', ')}.`,
    );
    const wasInRoom = state.view === 'room';
    showView('room');
    meeting.start({ selfId: state.id, nickname: state.nickname, members });
    sendState(true);
    setHand(state.hand);
    if (!wasInRoom) ui.roomTitle.focus();
    clearInvite();
    refreshPeople();
  },

  welcome(msg) {
    if (msg.room !== state.room) return;
    state.members.set(msg.id, { nickname: msg.nickname, state: null });
    setCount(msg.count);
    const back = meeting.carrying(msg.nickname); // back after a server restart: no fanfare
    meeting.welcome(msg.id, msg.nickname);
    if (!back) {
      chat.notice(`${msg.nickname} joined`);
      chime('join');
      notify(`${msg.nickname} joined`, `in ${state.room}`);
    }
    refreshPeople();
  },

  bye(msg) {
    if (msg.room !== state.room) return;
    state.members.delete(msg.id);
    setCount(msg.count);
    chat.notice(`${msg.nickname} left`);
    meeting.bye(msg.id);
    chime('leave');
    refreshPeople();
  },

  renamed(msg) {
    const member = state.members.get(msg.id);
    if (member) member.nickname = msg.nickname;
    chat.notice(`${msg.old} is now ${msg.nickname}`);
    meeting.rename(msg.id, msg.nickname);
    refreshPeople();
  },

  state(msg) {
    const member = state.members.get(msg.id);
    if (!member) return;
    const before = member.state;
    member.state = { mic: Boolean(msg.mic), cam: Boolean(msg.cam), hand: Boolean(msg.hand) };
    meeting.peerState(msg.id, member.state);
    if (member.state.hand && !(before && before.hand)) {
      toast(`✋ ${member.nickname} raised a hand`);
      chime('join');
    }
    refreshPeople();
  },

  react(msg) {
    if (typeof msg.emoji !== 'string') return;
    const who = msg.id === state.id ? 'You' : state.members.get(msg.id)?.nickname ?? '';
    const item = el('div', { className: 'reaction' }, el('span', { className: 'reaction-emoji', text: msg.emoji }), el('span', { className: 'reaction-who', text: who }));
    item.style.left = `${10 + Math.random() * 30}%`;
    ui.reactions.append(item);
    setTimeout(() => item.remove(), 4000);
  },

  left() {
    onLeft();
  },

  signal(msg) {
    if (state.room !== null) meeting.signal(msg.from, msg.data);
  },

  chat(msg) {
    if (msg.room !== state.room || !msg.from) return;
    const own = msg.from.id === state.id;
    chat.message({ nickname: msg.from.nickname, own, text: msg.text, ts: msg.ts, seq: msg.seq });
    if (own) {
      panel.ownEcho();
      return;
    }
    panel.incoming();
    notify(msg.from.nickname, msg.text.slice(0, 140));
  },

  error(msg) {
    const code = typeof msg.code === 'string' ? msg.code : 'error';
    if (state.resuming && code === 'bad_token') {
      // The server forgot the session (restart, or too long away): start afresh.
      state.resuming = false;
      state.resumeToken = null;
      state.signalQueue = [];
      socket.send(SEED_TEXT);
      if (state.pendingHello) startSession(state.pendingHello);
      state.pendingHello = null;
      showConnState();
      return;
    }
    // A signal racing a peer's departure, a page/server version mismatch, a state sent at
    // the edge of leaving: nothing for the user to do.
    if (code === 'no_such_peer' || code === 'unknown_type' || code === 'bad_json') {
      console.warn('huddle server:', code, msg.message);
      return;
    }
    if (code === 'not_in_room' && state.context !== 'chat') return;
    const context = state.pendingRoom !== null && (code === 'room_full' || code === 'bad_field') ? 'join' : state.context;
    if (context === 'join') {
      state.pendingRoom = null;
      if (state.room === null) {
        meeting.end(); // a refused join releases camera and microphone
        showView('home');
      }
    }
    if (context === 'chat') panel.chatFailed(); // the text stays in the box
    showAlert(friendlyError(code, context));
  },
};

function countRooms(list) {
  state.roomCounts = new Map((Array.isArray(list) ? list : []).map((r) => [r.name, r.count]));
  if (state.view === 'prejoin') prejoin.setCount(state.roomCounts.get(prejoinRoom) ?? 0);
}

/** A new session (first connection, or the server forgot the old one). */
function startSession(msg) {
  state.id = msg.id;
  state.nickname = typeof msg.nickname === 'string' ? msg.nickname : 'Anon';
  state.token = typeof msg.token === 'string' ? msg.token : null;
  if (state.wantedNick !== null && state.wantedNick !== state.nickname) setNickname(state.wantedNick);
  const again = state.room ?? state.pendingRoom;
  if (again !== null) {
    state.carry = meeting.inCall;
    state.room = null;
    joinRoom(again);
    return;
  }
  const { room, name } = state.invite;
  state.invite = { room: null, name: null };
  if (room !== null && name !== null) {
    // The invite contract: /?room=NAME&name=NICK joins at once with the default devices.
    setNickname(name);
    joinRoom(room);
  } else if (room !== null && state.view === 'home') {
    openPreJoin(room);
  }
}

socket.addEventListener('state', showConnState);
socket.addEventListener('open', () => {
  if (state.resumeToken !== null) {
    // Resume must be the first message on the new socket.
    state.resuming = true;
    socket.send({ type: 'resume', token: state.resumeToken });
  } else {
    // The course's lesson: a plain text message on every connection.
    socket.send(SEED_TEXT);
  }
});
socket.addEventListener('close', (ev) => {
  state.resuming = false;
  if (ev.detail.code === 4000) {
    showAlert('This meeting continued in another window, so this one stopped.');
    state.resumeToken = null;
    if (state.room !== null) onLeft();
    return;
  }
  // Keep the call (peer connections and tiles) while the socket is down.
  if (state.token !== null && (state.room !== null || state.pendingRoom !== null)) state.resumeToken = state.token;
  showConnState();
});
socket.addEventListener('message', (ev) => {
  const msg = ev.detail;
  const handler = Object.hasOwn(handlers, msg.type) ? handlers[msg.type] : null;
  if (handler) handler(msg);
});

// Closing the tab or navigating away leaves at once (no resume window for the others to wait).
window.addEventListener('pagehide', () => {
  if (state.room !== null) socket.send({ type: 'leave' });
  socket.close();
});

window.addEventListener('pageshow', (ev) => {
  if (ev.persisted) location.reload(); // back from the page cache with a closed socket
});

/* ---- forms and buttons ---- */

ui.nickInput.value = store.get('name');

ui.joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = ui.nickInput.value.trim();
  if (name !== '') store.set('name', name);
  openPreJoin(ui.roomInput.value);
});

ui.prejoinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = prejoin.name;
  if (name === '' || codePoints(name) > NICK_MAX) {
    showAlert('Please enter your name (up to 32 characters).');
    return;
  }
  store.set('name', name);
  ui.nickInput.value = name;
  audioContext(); // unlock sound with this click
  if (typeof Notification === 'function' && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
  if (joinRoom(prejoinRoom, name)) prejoin.busy(true);
});

ui.prejoinBack.addEventListener('click', () => {
  clearInvite();
  goHome();
});

ui.rejoin.addEventListener('click', () => {
  if (state.lastRoom !== null) openPreJoin(state.lastRoom);
});
ui.homeBtn.addEventListener('click', goHome);

ui.renameForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const nickname = ui.renameInput.value.trim();
  if (nickname === '' || !setNickname(nickname)) return;
  ui.renameInput.value = '';
  ui.renameForm.closest('details').open = false;
  closeMenu();
});

ui.rawForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (send(ui.rawInput.value)) ui.rawInput.value = '';
});

ui.leaveBtn.addEventListener('click', leaveRoom);
ui.alertClose.addEventListener('click', () => {
  ui.alert.hidden = true;
});
ui.handBtn.addEventListener('click', () => setHand(!state.hand));
ui.menuHand.addEventListener('click', () => {
  setHand(!state.hand);
  closeMenu();
});
ui.moreBtn.addEventListener('click', (ev) => {
  ev.stopPropagation();
  const open = ui.moreMenu.hidden;
  ui.moreMenu.hidden = !open;
  ui.moreBtn.setAttribute('aria-expanded', String(open));
});
document.addEventListener('click', (ev) => {
  if (!ui.moreMenu.hidden && !ui.moreMenu.contains(ev.target)) closeMenu();
});

for (const emoji of REACTIONS) {
  const button = el('button', { type: 'button', className: 'react-btn', text: emoji, title: `React ${emoji}`, attrs: { 'aria-label': `React ${emoji}` } });
  button.addEventListener('click', () => send({ type: 'react', emoji }, 'react'));
  ui.reactRow.append(button);
}

async function copyInvite() {
  const link = inviteUrl(state.room);
  ui.inviteLink.value = link;
  ui.inviteCopied.hidden = false;
  try {
    await navigator.clipboard.writeText(link);
    ui.inviteLabel.textContent = 'Link copied';
    toast('Invite link copied');
  } catch {
    ui.inviteLink.select();
    ui.inviteLabel.textContent = 'Copy the link below';
  }
  setTimeout(() => {
    ui.inviteLabel.textContent = 'Copy invite link';
  }, 3000);
}
ui.inviteBtn.addEventListener('click', copyInvite);
ui.menuInvite.addEventListener('click', () => {
  closeMenu();
  panel.open('people');
  copyInvite();
});

// Keyboard shortcuts in the call: M microphone, V camera, C chat, H hand; Escape closes.
document.addEventListener('keydown', (ev) => {
  if (state.view !== 'room') return;
  if (ev.key === 'Escape') {
    if (!ui.moreMenu.hidden) closeMenu();
    else if (panel.current !== null) panel.open(null);
    return;
  }
  const target = ev.target;
  if (ev.ctrlKey || ev.metaKey || ev.altKey || target.closest('input, textarea, select, [contenteditable="true"]')) return;
  const key = ev.key.toLowerCase();
  if (key === 'm') meeting.toggleMic();
  else if (key === 'v') meeting.toggleCam();
  else if (key === 'c') panel.toggle('chat');
  else if (key === 'h') setHand(!state.hand);
  else return;
  ev.preventDefault();
});


meeting.onLocalChange = () => sendState();
meeting.onTilesChange = () => refreshPeople();

function tick() {
  ui.clock.textContent = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
tick();
setInterval(tick, 15000);

ui.greeting.textContent = '';
panel.open(null);
showView('home');
serverConfig();
socket.connect();
