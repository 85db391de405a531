// SPDX-License-Identifier: MIT
// Entry point: wires the socket to the home screen (nickname, rooms) and the room screen
// (chat, call). Holds the session state: own id, nickname, current room and its members.

import { byId } from './dom.js';
import { HuddleSocket } from './socket.js';
import { RoomList } from './rooms.js';
import { ChatLog } from './chat.js';
import { readInvite, inviteUrl, clearInvite } from './invite.js';
import { Meeting, serverConfig } from './meeting.js';

const SEED_TEXT = 'hello from the browser!';
const ALERT_MS = 10000;

const ui = {
  conn: byId('conn-state'),
  greeting: byId('greeting'),
  alert: byId('alert'),
  alertText: byId('alert-text'),
  alertClose: byId('alert-close'),
  home: byId('home'),
  inviteNote: byId('invite-note'),
  inviteRoom: byId('invite-room'),
  nickForm: byId('nick-form'),
  nickInput: byId('nick-input'),
  nickSubmit: byId('nick-submit'),
  nickCurrent: byId('nick-current'),
  roomNick: byId('room-nick'),
  renameForm: byId('rename-form'),
  renameInput: byId('rename-input'),
  roomList: byId('room-list'),
  roomEmpty: byId('room-empty'),
  joinForm: byId('join-form'),
  roomInput: byId('room-input'),
  room: byId('room'),
  roomTitle: byId('room-title'),
  inviteBtn: byId('invite-btn'),
  inviteCopied: byId('invite-copied'),
  inviteLink: byId('invite-link'),
  leaveBtn: byId('leave-btn'),
  chatLog: byId('chat-log'),
  chatForm: byId('chat-form'),
  chatInput: byId('chat-input'),
  rawForm: byId('raw-form'),
  rawInput: byId('raw-input'),
};

const socket = new HuddleSocket();
const rooms = new RoomList(ui.roomList, ui.roomEmpty, (name) => joinRoom(name));
const chat = new ChatLog(ui.chatLog);
const meeting = new Meeting({ send: (message) => socket.send(message), onProblem: (text) => showAlert(text) });

const state = {
  id: null,
  nickname: 'Anon',
  wantedNick: null, // the nickname the user chose; re-sent after a reconnect
  room: null, // the room we are in
  pendingRoom: null, // a join sent and not yet answered
  joinAfterNick: null, // invite without name: join once the nickname is confirmed
  invite: readInvite(),
  members: new Map(), // id -> nickname, the others in the room
  count: 0,
};

let alertTimer = 0;
let connTimer = 0;

/* ---- connection state and seed ---- */

function showConnState() {
  clearInterval(connTimer);
  const render = () => {
    const s = socket.state;
    ui.conn.dataset.state = s;
    if (s === 'open') ui.conn.textContent = 'connected';
    else if (s === 'connecting') ui.conn.textContent = 'connecting…';
    else {
      const secs = Math.max(0, Math.ceil((socket.retryAt - Date.now()) / 1000));
      ui.conn.textContent = socket.retryAt ? `offline, retrying in ${secs} s` : 'offline';
    }
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

function send(message) {
  if (!socket.send(message)) {
    showAlert('Not connected to the server; try again in a moment.');
    return false;
  }
  return true;
}

/* ---- views ---- */

function setCount(count) {
  if (Number.isInteger(count)) state.count = count;
  ui.roomTitle.textContent = `Room ${state.room} (${state.count})`;
}

function showNickname() {
  ui.nickCurrent.textContent = state.nickname;
  ui.roomNick.textContent = state.nickname;
}

function showHome() {
  ui.room.hidden = true;
  ui.home.hidden = false;
  ui.inviteCopied.hidden = true;
  document.title = 'huddle';
}

function showRoom() {
  ui.home.hidden = true;
  ui.room.hidden = false;
  document.title = `${state.room} · huddle`;
}

function showInviteNote() {
  const room = state.invite.room;
  ui.inviteNote.hidden = room === null;
  if (room === null) {
    ui.nickSubmit.textContent = 'Set';
    return;
  }
  ui.inviteRoom.textContent = room;
  ui.nickSubmit.textContent = 'Join';
  ui.nickSubmit.setAttribute('aria-label', `Join room ${room}`);
  ui.nickInput.focus();
}

/* ---- actions ---- */

function setNickname(nickname) {
  state.wantedNick = nickname;
  return send({ type: 'nickname', nickname });
}

function joinRoom(name) {
  const room = name.trim();
  if (room === '') return;
  const typed = ui.nickInput.value.trim();
  if (typed !== '' && typed !== state.nickname && typed !== state.wantedNick) setNickname(typed);
  if (!send({ type: 'join', room })) return;
  state.pendingRoom = room;
  meeting.prepare();
}

function leaveRoom() {
  if (state.room === null) return;
  if (!send({ type: 'leave' })) onLeft();
}

function onLeft() {
  state.room = null;
  state.pendingRoom = null;
  state.members.clear();
  meeting.end();
  clearInvite();
  showHome();
  socket.send({ type: 'list' });
}

/* ---- server messages ---- */

const handlers = {
  hello(msg) {
    state.id = msg.id;
    state.nickname = typeof msg.nickname === 'string' ? msg.nickname : 'Anon';
    ui.greeting.textContent = typeof msg.text === 'string' ? msg.text : '';
    showNickname();
    rooms.render(msg.rooms);
    if (state.wantedNick !== null && state.wantedNick !== state.nickname) setNickname(state.wantedNick);
    const again = state.room ?? state.pendingRoom;
    if (again !== null) {
      state.room = null;
      joinRoom(again);
      return;
    }
    const { room, name } = state.invite;
    if (room !== null && name !== null) {
      state.invite = { room: null, name: null };
      ui.nickInput.value = name;
      setNickname(name);
      joinRoom(room);
    } else if (room !== null) {
      showInviteNote();
    }
  },

  nickname(msg) {
    state.nickname = msg.nickname;
    showNickname();
    meeting.setNickname(msg.nickname);
    if (state.room !== null) chat.notice(`You are now ${msg.nickname}`);
    if (state.joinAfterNick !== null) {
      const room = state.joinAfterNick;
      state.joinAfterNick = null;
      state.invite = { room: null, name: null };
      showInviteNote();
      joinRoom(room);
    }
  },

  rooms(msg) {
    rooms.render(msg.rooms);
  },

  joined(msg) {
    const again = state.room === msg.room;
    state.room = msg.room;
    state.pendingRoom = null;
    state.id = msg.id ?? state.id;
    state.members = new Map((msg.members ?? []).map((m) => [m.id, m.nickname]));
    setCount(msg.count);
    if (!again && ui.room.hidden) chat.clear();
    showRoom();
    const names = [...state.members.values()];
    chat.notice(
      names.length === 0
        ? `You joined ${msg.room}. Nobody else is here yet.`
        : `You joined ${msg.room}. Here: ${names.join(', ')}.`,
    );
    meeting.start({
      selfId: state.id,
      nickname: state.nickname,
      members: [...state.members].map(([id, nickname]) => ({ id, nickname })),
    });
  },

  welcome(msg) {
    if (msg.room !== state.room) return;
    state.members.set(msg.id, msg.nickname);
    setCount(msg.count);
    chat.notice(`${msg.nickname} joined`);
    meeting.welcome(msg.id, msg.nickname);
  },

  bye(msg) {
    if (msg.room !== state.room) return;
    state.members.delete(msg.id);
    setCount(msg.count);
    chat.notice(`${msg.nickname} left`);
    meeting.bye(msg.id);
  },

  renamed(msg) {
    if (state.members.has(msg.id)) state.members.set(msg.id, msg.nickname);
    chat.notice(`${msg.old} is now ${msg.nickname}`);
    meeting.rename(msg.id, msg.nickname);
  },

  left() {
    onLeft();
  },

  signal(msg) {
    if (state.room !== null) meeting.signal(msg.from, msg.data);
  },

  chat(msg) {
    if (msg.room !== state.room || !msg.from) return;
    chat.message({
      nickname: msg.from.nickname,
      own: msg.from.id === state.id,
      text: msg.text,
      ts: msg.ts,
      seq: msg.seq,
    });
  },

  error(msg) {
    const code = typeof msg.code === 'string' ? msg.code : 'error';
    const text = typeof msg.message === 'string' && msg.message !== '' ? msg.message : code;
    if (state.pendingRoom !== null && (code === 'room_full' || code === 'bad_field')) {
      state.pendingRoom = null;
      if (state.room === null) meeting.end();
    }
    if (code === 'bad_field') state.joinAfterNick = null;
    // A signal racing a peer's departure: the bye is on its way, nothing for the user to do.
    if (code === 'no_such_peer') return;
    showAlert(code === 'room_full' ? `That room is full. (${text})` : `${text} (${code})`);
  },
};

socket.addEventListener('state', showConnState);
socket.addEventListener('open', () => {
  // The course's lesson: a plain text message on every connection.
  socket.send(SEED_TEXT);
});
socket.addEventListener('close', () => {
  if (state.room === null) return;
  chat.notice('Connection lost; reconnecting…');
  meeting.suspend();
});
socket.addEventListener('message', (ev) => {
  const msg = ev.detail;
  const handler = Object.hasOwn(handlers, msg.type) ? handlers[msg.type] : null;
  if (handler) handler(msg);
});

/* ---- forms and buttons ---- */

ui.nickForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const nickname = ui.nickInput.value.trim();
  if (nickname === '') return;
  if (!setNickname(nickname)) return;
  if (state.invite.room !== null) state.joinAfterNick = state.invite.room;
});

ui.renameForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const nickname = ui.renameInput.value.trim();
  if (nickname === '' || !setNickname(nickname)) return;
  ui.renameInput.value = '';
  ui.renameForm.closest('details').open = false;
});

ui.joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  joinRoom(ui.roomInput.value);
});

ui.chatForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = ui.chatInput.value;
  if (text.trim() === '') return;
  if (send({ type: 'chat', text })) ui.chatInput.value = '';
});

ui.rawForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (send(ui.rawInput.value)) ui.rawInput.value = '';
});

ui.leaveBtn.addEventListener('click', leaveRoom);
ui.alertClose.addEventListener('click', () => {
  ui.alert.hidden = true;
});

ui.inviteBtn.addEventListener('click', async () => {
  const link = inviteUrl(state.room);
  ui.inviteLink.value = link;
  ui.inviteCopied.hidden = false;
  try {
    await navigator.clipboard.writeText(link);
    ui.inviteBtn.textContent = 'Link copied';
  } catch {
    ui.inviteLink.select();
    ui.inviteBtn.textContent = 'Copy the link below';
  }
  setTimeout(() => {
    ui.inviteBtn.textContent = 'Copy invite link';
  }, 3000);
});

ui.greeting.textContent = '';
serverConfig();
socket.connect();
