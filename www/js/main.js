// SPDX-License-Identifier: MIT
// Entry point: wires the socket to the screens (home, pre-join, call, "you left", "you were
// removed") and holds the session: own id, nickname, resume token, current room, its host, lock
// and passcode, and its members with their states.
// The call survives a dropped socket: peer connections and tiles stay, one banner shows, and
// the session is resumed with its token (or joined afresh when the server forgot it).

import { byId, el } from './dom.js';
import { HuddleSocket } from './socket.js';
import { RoomList } from './rooms.js';
import { ChatLog } from './chat.js';
import {
  readInvite, inviteUrl, clearInvite, clearHash, parseJoinInput, passcodeProblem, knownPasscode, rememberPasscode,
} from './invite.js';
import { newMeetingName } from './names.js';
import { Meeting, serverConfig } from './meeting.js';
import { PreJoin } from './prejoin.js';
import { fillIcons, setIcon } from './icons.js';
import { friendlyError } from './errors.js';
import { chime, audioContext } from './audio.js';
import { SidePanel, codePoints } from './panel.js';
import { store } from './store.js';

const SEED_TEXT = 'hello from the browser!';
const ALERT_MS = 10000;
const NICK_MAX = 32;
const REACTIONS = ['👍', '❤️', '😂', '😮', '👏', '🎉', '🙏', '✋'];
const SIGNAL_QUEUE_MAX = 500;
// Join refusals the pre-join screen explains (a passcode, a lock, a taken name).
const JOIN_REFUSALS = new Set(['bad_passcode', 'room_locked', 'room_exists']);
const ROOM_MAX = 64;

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
  newBtn: byId('new-btn'),
  createForm: byId('create-form'),
  createName: byId('create-name'),
  createListed: byId('create-listed'),
  createPasscode: byId('create-passcode'),
  createCancel: byId('create-cancel'),
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
  lockMark: byId('lock-mark'),
  lockPill: byId('lock-pill'),
  lockedNote: byId('locked-note'),
  hostControls: byId('host-controls'),
  lockBtn: byId('lock-btn'),
  passcodeForm: byId('passcode-form'),
  passcodeInput: byId('passcode-input'),
  passcodeHint: byId('passcode-hint'),
  passcodeClear: byId('passcode-clear'),
  menuLock: byId('menu-lock'),
  menuLockLabel: byId('menu-lock-label'),
  clock: byId('clock'),
  banner: byId('net-banner'),
  bannerText: byId('net-banner-text'),
  inviteBtn: byId('invite-btn'),
  inviteLabel: byId('invite-label'),
  inviteCopied: byId('invite-copied'),
  inviteNote: byId('invite-note'),
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
const rooms = new RoomList(ui.roomList, ui.roomEmpty, (name, info) => openPreJoin(name, { protected: info.protected }));
const chat = new ChatLog(ui.chatLog);
const meeting = new Meeting({ send: (message) => sendSignal(message), onProblem: (text) => showAlert(text) });
const prejoin = new PreJoin(meeting);
const panel = new SidePanel({
  chat,
  send: (message, context) => send(message, context),
  showAlert: (text) => showAlert(text),
  people: () => [
    { key: 'self', nickname: state.nickname, self: true, host: isHost(), tile: meeting.grid.self() },
    ...[...state.members].map(([id, m]) => ({ key: id, nickname: m.nickname, self: false, host: id === state.host, tile: meeting.grid.get(id) })),
  ],
  isHost: () => isHost(),
  onRemove: (id) => {
    if (send({ type: 'remove', id }, 'remove')) state.removing = id;
  },
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
  roomInfo: new Map(), // listed rooms: name -> {count, capacity, locked, protected}, for the pre-join screen
  host: null, // the room's host (an id)
  locked: false,
  listed: false,
  protected: false, // the room has a passcode
  passcode: null, // the room's passcode as far as we know: the host's current one, or the one we joined with
  joinPasscode: null, // the passcode sent with the pending join
  create: null, // the meeting being started: {listed, passcode, generated (the name was made up here)}
  generatedName: '', // the name the create form proposed
  removing: null, // the member the host just removed (for the notice)
  passcodeSent: false, // the host just changed the passcode (for the confirmation)
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
  if (view === 'room') openCreate(false);
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

/**
 * The pre-join screen for `name`. `creating`: the meeting of state.create is being started;
 * `protected`: the room list says it needs a passcode (asked for unless this tab knows it).
 */
function openPreJoin(name, { creating = false, protected: guarded = false } = {}) {
  const room = name.trim();
  if (room === '') return;
  if (!creating) state.create = null;
  prejoinRoom = room;
  showView('prejoin');
  const info = state.roomInfo.get(room);
  const known = knownPasscode(room);
  const summary = !state.create
    ? ''
    : `${state.create.listed ? 'Listed on the home page, where anyone can find it.' : 'Private: only people with the link can find it.'}${state.create.passcode ? ' A passcode is needed to join.' : ''}`;
  prejoin.open(room, rememberedName(), info ? info.count : null, {
    creating,
    summary,
    askPasscode: !creating && (guarded || info?.protected === true) && known === null,
    passcode: known ?? '',
  });
}

/** The home screen's "New meeting" options, with a freshly made-up name. */
function openCreate(open = true) {
  ui.createForm.hidden = !open;
  ui.newBtn.hidden = open; // the panel has its own title and Start button
  ui.newBtn.setAttribute('aria-expanded', String(open));
  if (!open) return;
  state.generatedName = newMeetingName();
  ui.createName.value = state.generatedName;
  ui.createListed.checked = false;
  ui.createPasscode.value = '';
  ui.createName.focus();
  ui.createName.select();
}

/** We are the host of the room we are in. */
function isHost() {
  return state.room !== null && state.host !== null && state.host === state.id;
}

/** Shows the room's host, lock and passcode: the lock marks, host controls, people panel. */
function renderRoomState() {
  const host = isHost();
  ui.room.dataset.locked = String(state.locked);
  ui.room.dataset.host = String(host);
  ui.room.dataset.protected = String(state.protected);
  ui.lockMark.hidden = !state.locked;
  ui.lockPill.hidden = !state.locked;
  ui.lockedNote.hidden = !state.locked || host;
  ui.hostControls.hidden = !host;
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
  renderInvite();
  refreshPeople();
}

/** Takes the room fields of a joined, welcome or room message; `announce`: say what changed. */
function applyRoom(msg, announce = false) {
  const before = { host: state.host, locked: state.locked, protected: state.protected };
  if (Number.isInteger(msg.host)) state.host = msg.host;
  if (typeof msg.locked === 'boolean') state.locked = msg.locked;
  if (typeof msg.listed === 'boolean') state.listed = msg.listed;
  if (typeof msg.protected === 'boolean') state.protected = msg.protected;
  if (Object.hasOwn(msg, 'passcode') && (msg.passcode === null || typeof msg.passcode === 'string')) {
    state.passcode = msg.passcode; // the host's copy
  } else if (!state.protected || (announce && (!before.protected || msg.change === 'passcode'))) {
    state.passcode = null; // none, or a new one we were not told (the tab still keeps the old one)
  }
  if (state.room !== null && (isHost() || !state.protected)) rememberPasscode(state.room, state.passcode);
  renderRoomState();
  if (!announce) return;
  if (before.host !== null && state.host !== before.host) {
    if (isHost()) {
      toast('You are now the host');
      chat.notice('You are now the host.');
    } else {
      const name = state.members.get(state.host)?.nickname ?? 'Someone';
      toast(`${name} is now the host`);
      chat.notice(`${name} is now the host.`);
    }
  }
  if (state.locked !== before.locked) {
    const who = isHost() ? 'You' : 'The host';
    chat.notice(state.locked ? `${who} locked the meeting: nobody new can join.` : `${who} unlocked the meeting.`);
    toast(state.locked ? `${who} locked the meeting` : `${who} unlocked the meeting`);
  }
  if (state.protected !== before.protected && !isHost()) {
    chat.notice(state.protected ? 'The host set a passcode for new people.' : 'The host removed the passcode.');
  } else if (msg.change === 'passcode' && state.protected && !isHost()) {
    chat.notice('The host changed the passcode for new people.');
  }
  if (state.passcodeSent && isHost()) {
    state.passcodeSent = false;
    toast(state.protected ? 'Passcode saved' : 'Passcode removed');
    chat.notice(state.protected ? 'You set a passcode: new people need it to join.' : 'You removed the passcode.');
  }
}

function resetRoomState() {
  state.host = null;
  state.locked = false;
  state.listed = false;
  state.protected = false;
  state.passcode = null;
  state.removing = null;
  state.passcodeSent = false;
  renderRoomState();
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

/**
 * Sends the join for `name` (the nickname first when it changed). `passcode`: the one to send
 * (default: the one this tab knows for the room); `create`: the room must be new, `listed`: and
 * shown in the room lists.
 */
function joinRoom(name, nickname = null, { passcode, create = false, listed = false } = {}) {
  const room = name.trim();
  if (room === '') return false;
  if (nickname !== null && nickname !== state.nickname) {
    if (!setNickname(nickname)) return false;
  }
  let pw = passcode !== undefined ? passcode : knownPasscode(room);
  if (pw && passcodeProblem(pw)) pw = null; // e.g. a hand-edited link: the server would refuse the field
  const message = { type: 'join', room };
  if (pw) message.passcode = pw;
  if (create) message.create = true;
  if (listed) message.listed = true;
  if (!send(message, 'join')) return false;
  state.pendingRoom = room;
  state.joinPasscode = pw || null;
  return true;
}

/** The server refused the pending join with `code`: say why where the user can act on it. */
function joinRefused(code) {
  const room = state.pendingRoom;
  const create = state.create;
  if (code === 'room_exists' && create && create.generated) {
    // A made-up name that happens to be taken (or a double click): make up another.
    const next = newMeetingName();
    prejoinRoom = next;
    prejoin.setRoom(next);
    updateTitle();
    joinRoom(next, null, { create: true, listed: create.listed, passcode: create.passcode });
    return;
  }
  const tried = state.joinPasscode !== null;
  state.pendingRoom = null;
  state.joinPasscode = null;
  state.create = null;
  if (state.room !== null) {
    showAlert(friendlyError(code, 'join'));
    return;
  }
  if (code === 'room_exists') {
    meeting.end();
    showView('home');
    openCreate(true);
    ui.createName.value = room;
    ui.createName.select();
    showAlert(friendlyError(code, 'join'));
    return;
  }
  if (state.carry || state.view !== 'prejoin') {
    // An invite link that joins at once, or a rejoin after a server restart: to the pre-join screen.
    state.carry = false;
    meeting.end();
    openPreJoin(room);
  }
  if (code === 'bad_passcode') {
    if (tried) rememberPasscode(room, null);
    prejoin.askPasscode(tried ? 'Wrong passcode. Try again.' : 'This meeting needs a passcode.', tried);
  } else if (code === 'room_locked') {
    prejoin.refuse(friendlyError(code, 'join')); // the passcode (if any) was right
  } else {
    prejoin.refuse(friendlyError(code, tried || prejoin.asksPasscode ? 'passcode' : 'join'));
  }
}

function leaveRoom() {
  if (state.room === null) return;
  if (!send({ type: 'leave' })) onLeft();
}

/** Out of the room: `mode` 'left' (we left) or 'removed' (the host removed us: no way back in from here). */
function onLeft(mode = 'left') {
  const room = state.room ?? state.lastRoom;
  state.room = null;
  state.pendingRoom = null;
  state.create = null;
  state.members.clear();
  setHand(false);
  state.hand = false;
  meeting.end();
  chat.clear();
  panel.reset();
  clearInvite();
  resetRoomState();
  const removed = mode === 'removed';
  ui.left.dataset.mode = mode;
  ui.leftTitle.textContent = removed ? 'You were removed from the meeting' : 'You left the meeting';
  ui.leftRoom.textContent = !room ? '' : removed ? `The host removed you from ${room}.` : `You were in ${room}.`;
  ui.rejoin.hidden = removed;
  ui.homeBtn.textContent = removed ? 'Back to home' : 'Return to home screen';
  ui.homeBtn.classList.toggle('btn-primary', removed); // the only way on
  if (removed) {
    state.lastRoom = null;
    state.resumeToken = null;
    state.carry = false;
  }
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
      // Our session is alive but in no room: the host removed us while we were away.
      onLeft('removed');
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
    if (!again) {
      // A fresh join: the passcode we joined with is the one we know (the host's copy says it).
      state.passcode = msg.protected === true ? state.joinPasscode : null;
      if (state.joinPasscode !== null && msg.protected === true) rememberPasscode(msg.room, state.joinPasscode);
    }
    state.joinPasscode = null;
    state.create = null;
    applyRoom(msg);
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
    applyRoom(msg, true);
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
    const removed = msg.id === state.removing;
    if (removed) state.removing = null;
    chat.notice(removed ? `You removed ${msg.nickname}` : `${msg.nickname} left`);
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

  room(msg) {
    if (msg.room !== state.room) return;
    applyRoom(msg, true);
  },

  removed(msg) {
    if (state.room === null || (typeof msg.room === 'string' && msg.room !== state.room)) return;
    onLeft('removed');
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
    if (state.pendingRoom !== null && (JOIN_REFUSALS.has(code) || (code === 'rate_limited' && state.context === 'join'))) {
      joinRefused(code);
      return;
    }
    if (code === 'bad_field' && state.context === 'passcode') state.passcodeSent = false;
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
  state.roomInfo = new Map((Array.isArray(list) ? list : []).filter((r) => r && typeof r.name === 'string').map((r) => [r.name, r]));
  const info = state.roomInfo.get(prejoinRoom);
  if (state.view === 'prejoin') prejoin.setCount(info ? info.count : null);
}

/** A new session (first connection, or the server forgot the old one). */
function startSession(msg) {
  state.id = msg.id;
  state.nickname = typeof msg.nickname === 'string' ? msg.nickname : 'Anon';
  state.token = typeof msg.token === 'string' ? msg.token : null;
  if (state.wantedNick !== null && state.wantedNick !== state.nickname) setNickname(state.wantedNick);
  const again = state.room ?? state.pendingRoom;
  if (again !== null) {
    // The server forgot the room (a restart): whoever is back first makes it again, with the
    // passcode we know and as listed as it was.
    const inRoom = state.room !== null;
    const passcode = (inRoom ? state.passcode : state.create?.passcode ?? state.joinPasscode) ?? undefined;
    const listed = inRoom ? state.listed : state.create?.listed === true;
    state.carry = meeting.inCall;
    state.room = null;
    joinRoom(again, null, { passcode, listed });
    return;
  }
  const { room, name } = state.invite;
  state.invite = { room: null, name: null, passcode: null };
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

function keepName() {
  const name = ui.nickInput.value.trim();
  if (name !== '') store.set('name', name);
}

// "Join a meeting": a name, or a pasted invite link (its passcode is kept for this tab).
ui.joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  keepName();
  const target = parseJoinInput(ui.roomInput.value);
  if (target.error) {
    showAlert(target.error);
    return;
  }
  if (codePoints(target.room) > ROOM_MAX) {
    showAlert(friendlyError('bad_field', 'join'));
    return;
  }
  if (target.passcode) rememberPasscode(target.room, target.passcode);
  if (target.room !== ui.roomInput.value.trim()) ui.roomInput.value = target.room; // no passcode left on screen
  openPreJoin(target.room);
});

// "New meeting": a made-up name (or the user's own), unlisted unless asked, optional passcode.
ui.newBtn.addEventListener('click', () => openCreate(ui.createForm.hidden));
ui.createCancel.addEventListener('click', () => {
  openCreate(false);
  ui.newBtn.focus();
});
ui.createForm.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape') return;
  openCreate(false);
  ui.newBtn.focus();
});
ui.createForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  keepName();
  const room = ui.createName.value.trim();
  if (room === '' || codePoints(room) > ROOM_MAX) {
    showAlert(friendlyError('bad_field', 'join'));
    return;
  }
  const passcode = ui.createPasscode.value;
  if (passcode !== '') {
    const problem = passcodeProblem(passcode);
    if (problem) {
      showAlert(problem);
      ui.createPasscode.focus();
      return;
    }
  }
  state.create = { listed: ui.createListed.checked, passcode: passcode === '' ? null : passcode, generated: room === state.generatedName };
  openPreJoin(room, { creating: true });
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
  let options;
  if (state.create) {
    options = { create: true, listed: state.create.listed, passcode: state.create.passcode };
  } else if (prejoin.asksPasscode) {
    const typed = prejoin.passcode;
    const problem = typed === null ? 'Enter the passcode to join.' : passcodeProblem(typed);
    if (problem) {
      prejoin.askPasscode(problem, true);
      return;
    }
    options = { passcode: typed };
  } else {
    options = {};
  }
  if (joinRoom(prejoinRoom, name, options)) prejoin.busy(true);
});

ui.prejoinBack.addEventListener('click', () => {
  clearInvite();
  state.create = null;
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

/* ---- host controls ---- */

function toggleLock() {
  if (isHost()) send({ type: 'lock', locked: !state.locked }, 'lock');
}
ui.lockBtn.addEventListener('click', toggleLock);
ui.menuLock.addEventListener('click', () => {
  closeMenu();
  toggleLock();
});
ui.passcodeForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const passcode = ui.passcodeInput.value;
  if (passcode === '') {
    if (state.protected && send({ type: 'passcode', passcode: null }, 'passcode')) state.passcodeSent = true;
    return;
  }
  const problem = passcodeProblem(passcode);
  if (problem) {
    showAlert(problem);
    return;
  }
  if (send({ type: 'passcode', passcode }, 'passcode')) {
    state.passcodeSent = true;
    ui.passcodeInput.blur();
  }
});
ui.passcodeClear.addEventListener('click', () => {
  if (send({ type: 'passcode', passcode: null }, 'passcode')) {
    state.passcodeSent = true;
    ui.passcodeInput.value = '';
  }
});
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

/** In a room with a passcode this page does not know (set or changed after it joined). */
function linkLacksPasscode() {
  return state.protected && !state.passcode;
}

/**
 * The invite link on show after "Copy invite link", with the note when it lacks the passcode:
 * it follows a passcode change, and goes out of the room.
 */
function renderInvite() {
  if (state.room === null) ui.inviteCopied.hidden = true;
  if (!ui.inviteCopied.hidden) ui.inviteLink.value = inviteUrl(state.room, state.protected ? state.passcode : null);
  ui.inviteNote.hidden = ui.inviteCopied.hidden || !linkLacksPasscode();
}

async function copyInvite() {
  ui.inviteCopied.hidden = false;
  renderInvite();
  const link = ui.inviteLink.value;
  try {
    await navigator.clipboard.writeText(link);
    ui.inviteLabel.textContent = 'Link copied';
    toast(linkLacksPasscode() ? 'Invite link copied, without the passcode' : 'Invite link copied');
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

// A passcode in the fragment is kept for this tab and taken out of the address bar at once.
if (state.invite.room !== null && state.invite.passcode !== null) rememberPasscode(state.invite.room, state.invite.passcode);
clearHash();

ui.greeting.textContent = '';
panel.open(null);
resetRoomState();
showView('home');
serverConfig();
socket.connect();
