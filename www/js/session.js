// SPDX-License-Identifier: MIT
// The session, without the DOM: own id, nickname, resume token, current room, its host, lock
// and passcode, its members with their states, and what every server message does to them.
// It never touches document or window (Node imports it for the unit tests in tests/web/): it
// writes to the server through `socket`, drives the call through `call`, and tells the screens
// what to show through `view` (see createSession).
// The call survives a dropped socket: peer connections and tiles stay, one banner shows, and
// the session is resumed with its token (or joined afresh when the server forgot it).

import { knownPasscode, rememberPasscode, passcodeProblem } from './invite.js';
import { newMeetingName } from './names.js';
import { friendlyError } from './errors.js';

/** The course's lesson: a plain text message on every new connection. */
export const SEED_TEXT = 'hello from the browser!';
const SIGNAL_QUEUE_MAX = 500;
// Join refusals the pre-join screen explains (a passcode, a lock, a taken name).
const JOIN_REFUSALS = new Set(['bad_passcode', 'room_locked', 'room_exists']);

/** The passcodes this tab knows (sessionStorage, through invite.js). */
const tabPasscodes = { known: knownPasscode, remember: rememberPasscode };

/**
 * A new session. `socket`: {send(message) -> false when not connected}. `call`: the Meeting
 * (inCall, media.published, start, carry, carrying, welcome, bye, rename, peerState, signal,
 * setNickname, setOwnHand, end). `invite`: {room, name, passcode} from the page URL.
 * `passcodes`: {known(room), remember(room, passcode)}; `newName()`: a made-up meeting name.
 *
 * `view` renders; every method is called after the state changed:
 * screen(name) ('home' | 'prejoin' | 'left' | 'room'), conn() (connection state and banner),
 * alert(text), toast(text), notice(text) (a chat log line), chat({nickname, own, text, ts, seq}),
 * ownEcho(), incoming(), chatFailed(), chatReset() (a fresh join), leftRoom() (chat and panel
 * emptied), notify(title, body), chime(kind), greeting(text), rooms(list), prejoinCount(count),
 * openPreJoin({room, count, creating, summary, askPasscode, passcode}), prejoinRoom(room),
 * askPasscode(message, wrong), refuse(text), asksPasscode() -> boolean, openCreate(room),
 * count(n), roomState() (host, lock, passcode, invite), people(), entered(room), hand(up),
 * left(mode, room), focus(screen), reaction(emoji, who), clearInvite(), nickname(nickname).
 */
export function createSession({
  socket,
  call,
  view,
  invite = { room: null, name: null, passcode: null },
  passcodes = tabPasscodes,
  newName = newMeetingName,
}) {
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
    invite,
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
    prejoinRoom: '', // the room of the pre-join screen
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

  /* ---- sending ---- */

  /** Writes to the server; says so when offline. `context` names the request for error wording. */
  function send(message, context = '') {
    if (!socket.send(message)) {
      view.alert('Not connected to the server; try again in a moment.');
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
    const published = call.media.published;
    const message = { type: 'state', mic: published.audio, cam: published.video, hand: state.hand };
    const text = JSON.stringify(message);
    if (!force && text === state.sentState) return;
    if (socket.send(message)) state.sentState = text;
  }

  /* ---- screens ---- */

  function show(screen) {
    state.view = screen;
    view.screen(screen);
  }

  function setCount(count) {
    if (Number.isInteger(count)) state.count = count;
    view.count(state.count);
  }

  /**
   * The pre-join screen for `name`. `creating`: the meeting of state.create is being started;
   * `protected`: the room list says it needs a passcode (asked for unless this tab knows it).
   */
  function openPreJoin(name, { creating = false, protected: guarded = false } = {}) {
    const room = name.trim();
    if (room === '') return;
    if (!creating) state.create = null;
    state.prejoinRoom = room;
    show('prejoin');
    const info = state.roomInfo.get(room);
    const known = passcodes.known(room);
    const summary = !state.create
      ? ''
      : `${state.create.listed ? 'Listed on the home page, where anyone can find it.' : 'Private: only people with the link can find it.'}${state.create.passcode ? ' A passcode is needed to join.' : ''}`;
    view.openPreJoin({
      room,
      count: info ? info.count : null,
      creating,
      summary,
      askPasscode: !creating && (guarded || info?.protected === true) && known === null,
      passcode: known ?? '',
    });
  }

  /** Starts a new meeting `room` ({listed, passcode (null: none), generated}): its pre-join screen. */
  function createMeeting(room, create) {
    state.create = create;
    openPreJoin(room, { creating: true });
  }

  /** We are the host of the room we are in. */
  function isHost() {
    return state.room !== null && state.host !== null && state.host === state.id;
  }

  /** In a room with a passcode this page does not know (set or changed after it joined). */
  function linkLacksPasscode() {
    return state.protected && !state.passcode;
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
    if (state.room !== null && (isHost() || !state.protected)) passcodes.remember(state.room, state.passcode);
    view.roomState();
    if (!announce) return;
    if (before.host !== null && state.host !== before.host) {
      if (isHost()) {
        view.toast('You are now the host');
        view.notice('You are now the host.');
      } else {
        const name = state.members.get(state.host)?.nickname ?? 'Someone';
        view.toast(`${name} is now the host`);
        view.notice(`${name} is now the host.`);
      }
    }
    if (state.locked !== before.locked) {
      const who = isHost() ? 'You' : 'The host';
      view.notice(state.locked ? `${who} locked the meeting: nobody new can join.` : `${who} unlocked the meeting.`);
      view.toast(state.locked ? `${who} locked the meeting` : `${who} unlocked the meeting`);
    }
    if (state.protected !== before.protected && !isHost()) {
      view.notice(state.protected ? 'The host set a passcode for new people.' : 'The host removed the passcode.');
    } else if (msg.change === 'passcode' && state.protected && !isHost()) {
      view.notice('The host changed the passcode for new people.');
    }
    if (state.passcodeSent && isHost()) {
      state.passcodeSent = false;
      view.toast(state.protected ? 'Passcode saved' : 'Passcode removed');
      view.notice(state.protected ? 'You set a passcode: new people need it to join.' : 'You removed the passcode.');
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
    view.roomState();
  }

  /* ---- actions ---- */

  function setHand(up) {
    state.hand = up;
    view.hand(up);
    call.setOwnHand(up);
    sendState();
    view.people();
  }

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
    let pw = passcode !== undefined ? passcode : passcodes.known(room);
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

  /**
   * "Join now" on the pre-join screen as `name`; `typed`: the passcode typed there (null: none).
   * Returns true when the join was sent.
   */
  function joinFromPreJoin(name, typed) {
    let options;
    if (state.create) {
      options = { create: true, listed: state.create.listed, passcode: state.create.passcode };
    } else if (view.asksPasscode()) {
      const problem = typed === null ? 'Enter the passcode to join.' : passcodeProblem(typed);
      if (problem) {
        view.askPasscode(problem, true);
        return false;
      }
      options = { passcode: typed };
    } else {
      options = {};
    }
    return joinRoom(state.prejoinRoom, name, options);
  }

  /** The server refused the pending join with `code`: say why where the user can act on it. */
  function joinRefused(code) {
    const room = state.pendingRoom;
    const create = state.create;
    if (code === 'room_exists' && create && create.generated) {
      // A made-up name that happens to be taken (or a double click): make up another.
      const next = newName();
      state.prejoinRoom = next;
      view.prejoinRoom(next);
      joinRoom(next, null, { create: true, listed: create.listed, passcode: create.passcode });
      return;
    }
    const tried = state.joinPasscode !== null;
    state.pendingRoom = null;
    state.joinPasscode = null;
    state.create = null;
    if (state.room !== null) {
      view.alert(friendlyError(code, 'join'));
      return;
    }
    if (code === 'room_exists') {
      call.end();
      show('home');
      view.openCreate(room);
      view.alert(friendlyError(code, 'join'));
      return;
    }
    if (state.carry || state.view !== 'prejoin') {
      // An invite link that joins at once, or a rejoin after a server restart: to the pre-join screen.
      state.carry = false;
      call.end();
      openPreJoin(room);
    }
    if (code === 'bad_passcode') {
      if (tried) passcodes.remember(room, null);
      view.askPasscode(tried ? 'Wrong passcode. Try again.' : 'This meeting needs a passcode.', tried);
    } else if (code === 'room_locked') {
      view.refuse(friendlyError(code, 'join')); // the passcode (if any) was right
    } else {
      view.refuse(friendlyError(code, tried || view.asksPasscode() ? 'passcode' : 'join'));
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
    call.end();
    view.leftRoom();
    view.clearInvite();
    resetRoomState();
    const removed = mode === 'removed';
    view.left(mode, room);
    if (removed) {
      state.lastRoom = null;
      state.resumeToken = null;
      state.carry = false;
    }
    show('left');
    view.focus('left');
    socket.send({ type: 'list' });
  }

  /** "Rejoin" on the "you left" screen. */
  function rejoin() {
    if (state.lastRoom !== null) openPreJoin(state.lastRoom);
  }

  function goHome() {
    call.end();
    show('home');
  }

  /** "Back" on the pre-join screen. */
  function back() {
    view.clearInvite();
    state.create = null;
    goHome();
  }

  /* ---- host controls and reactions ---- */

  function toggleLock() {
    if (isHost()) send({ type: 'lock', locked: !state.locked }, 'lock');
  }

  /** Sets (a string) or clears (null) the room's passcode; true when sent. */
  function sendPasscode(passcode) {
    if (!send({ type: 'passcode', passcode }, 'passcode')) return false;
    state.passcodeSent = true;
    return true;
  }

  /** The host confirmed removing member `id`. */
  function remove(id) {
    if (send({ type: 'remove', id }, 'remove')) state.removing = id;
  }

  function react(emoji) {
    send({ type: 'react', emoji }, 'react');
  }

  /* ---- server messages ---- */

  /** The session is in `msg.room` again after a resume: reconcile members, keep the call. */
  function reconcile(msg) {
    const members = Array.isArray(msg.members) ? msg.members : [];
    const now = new Set(members.map((m) => m.id));
    for (const id of [...state.members.keys()]) {
      if (!now.has(id)) {
        state.members.delete(id);
        call.bye(id);
      }
    }
    for (const m of members) {
      if (!state.members.has(m.id)) call.welcome(m.id, m.nickname);
      else if (state.members.get(m.id).nickname !== m.nickname) call.rename(m.id, m.nickname);
      state.members.set(m.id, { nickname: m.nickname, state: m.state ?? null });
      if (m.state) call.peerState(m.id, m.state);
    }
  }

  function countRooms(list) {
    state.roomInfo = new Map((Array.isArray(list) ? list : []).filter((r) => r && typeof r.name === 'string').map((r) => [r.name, r]));
    const info = state.roomInfo.get(state.prejoinRoom);
    if (state.view === 'prejoin') view.prejoinCount(info ? info.count : null);
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
      state.carry = call.inCall;
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

  /** One handler per server message type. */
  const handlers = {
    hello(msg) {
      view.greeting(typeof msg.text === 'string' ? msg.text : '');
      view.rooms(msg.rooms);
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
      view.conn();
      sendState(true);
    },

    nickname(msg) {
      state.nickname = msg.nickname;
      call.setNickname(msg.nickname);
      view.nickname(msg.nickname);
      if (state.room !== null) view.notice(`You are now ${msg.nickname}`);
      view.people();
    },

    rooms(msg) {
      view.rooms(msg.rooms);
      countRooms(msg.rooms);
    },

    joined(msg) {
      const again = state.room === msg.room && msg.id === state.id && call.inCall;
      state.room = msg.room;
      state.lastRoom = msg.room;
      state.pendingRoom = null;
      state.id = msg.id ?? state.id;
      if (!again) {
        // A fresh join: the passcode we joined with is the one we know (the host's copy says it).
        state.passcode = msg.protected === true ? state.joinPasscode : null;
        if (state.joinPasscode !== null && msg.protected === true) passcodes.remember(msg.room, state.joinPasscode);
      }
      state.joinPasscode = null;
      state.create = null;
      applyRoom(msg);
      view.entered(msg.room);
      setCount(msg.count);
      view.conn();
      if (again) {
        reconcile(msg);
        sendState(true);
        view.people();
        return;
      }
      const members = Array.isArray(msg.members) ? msg.members : [];
      state.members = new Map(members.map((m) => [m.id, { nickname: m.nickname, state: m.state ?? null }]));
      if (state.carry && call.inCall && state.view === 'room') {
        // Joined afresh after the server forgot the session: the call goes on.
        state.carry = false;
        call.carry({ selfId: state.id, nickname: state.nickname, members });
        for (const m of members) if (m.state) call.peerState(m.id, m.state);
        sendState(true);
        view.people();
        return;
      }
      state.carry = false;
      view.chatReset();
      const names = members.map((m) => m.nickname);
      view.notice(
        names.length === 0
          ? `You joined ${msg.room}. Nobody else is here yet.`
          : `You joined ${msg.room}. Here: ${names.join(', ')}.`,
      );
      const wasInRoom = state.view === 'room';
      show('room');
      call.start({ selfId: state.id, nickname: state.nickname, members });
      sendState(true);
      setHand(state.hand);
      if (!wasInRoom) view.focus('room');
      view.clearInvite();
      view.people();
    },

    welcome(msg) {
      if (msg.room !== state.room) return;
      state.members.set(msg.id, { nickname: msg.nickname, state: null });
      applyRoom(msg, true);
      setCount(msg.count);
      const back = call.carrying(msg.nickname); // back after a server restart: no fanfare
      call.welcome(msg.id, msg.nickname);
      if (!back) {
        view.notice(`${msg.nickname} joined`);
        view.chime('join');
        view.notify(`${msg.nickname} joined`, `in ${state.room}`);
      }
      view.people();
    },

    bye(msg) {
      if (msg.room !== state.room) return;
      state.members.delete(msg.id);
      setCount(msg.count);
      const removed = msg.id === state.removing;
      if (removed) state.removing = null;
      view.notice(removed ? `You removed ${msg.nickname}` : `${msg.nickname} left`);
      call.bye(msg.id);
      view.chime('leave');
      view.people();
    },

    renamed(msg) {
      const member = state.members.get(msg.id);
      if (member) member.nickname = msg.nickname;
      view.notice(`${msg.old} is now ${msg.nickname}`);
      call.rename(msg.id, msg.nickname);
      view.people();
    },

    state(msg) {
      const member = state.members.get(msg.id);
      if (!member) return;
      const before = member.state;
      member.state = { mic: Boolean(msg.mic), cam: Boolean(msg.cam), hand: Boolean(msg.hand) };
      call.peerState(msg.id, member.state);
      if (member.state.hand && !(before && before.hand)) {
        view.toast(`✋ ${member.nickname} raised a hand`);
        view.chime('join');
      }
      view.people();
    },

    react(msg) {
      if (typeof msg.emoji !== 'string') return;
      const who = msg.id === state.id ? 'You' : state.members.get(msg.id)?.nickname ?? '';
      view.reaction(msg.emoji, who);
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
      if (state.room !== null) call.signal(msg.from, msg.data);
    },

    chat(msg) {
      if (msg.room !== state.room || !msg.from) return;
      const own = msg.from.id === state.id;
      view.chat({ nickname: msg.from.nickname, own, text: msg.text, ts: msg.ts, seq: msg.seq });
      if (own) {
        view.ownEcho();
        return;
      }
      view.incoming();
      view.notify(msg.from.nickname, msg.text.slice(0, 140));
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
        view.conn();
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
          call.end(); // a refused join releases camera and microphone
          show('home');
        }
      }
      if (context === 'chat') view.chatFailed(); // the text stays in the box
      view.alert(friendlyError(code, context));
    },
  };

  /** A parsed server message: runs its handler (unknown types are ignored). */
  function handle(msg) {
    const handler = Object.hasOwn(handlers, msg.type) ? handlers[msg.type] : null;
    if (handler) handler(msg);
  }

  /* ---- the socket ---- */

  /** A new connection is open: resume the dropped session first, else greet the server. */
  function opened() {
    if (state.resumeToken !== null) {
      // Resume must be the first message on the new socket.
      state.resuming = true;
      socket.send({ type: 'resume', token: state.resumeToken });
    } else {
      socket.send(SEED_TEXT);
    }
  }

  /** The connection closed with `code`; 4000: another window resumed this session. */
  function closed(code) {
    state.resuming = false;
    if (code === 4000) {
      view.alert('This meeting continued in another window, so this one stopped.');
      state.resumeToken = null;
      if (state.room !== null) onLeft();
      return;
    }
    // Keep the call (peer connections and tiles) while the socket is down.
    if (state.token !== null && (state.room !== null || state.pendingRoom !== null)) state.resumeToken = state.token;
    view.conn();
  }

  return {
    state,
    handlers,
    handle,
    opened,
    closed,
    isHost,
    linkLacksPasscode,
    send,
    sendSignal,
    sendState,
    show,
    openPreJoin,
    createMeeting,
    setHand,
    setNickname,
    joinRoom,
    joinFromPreJoin,
    leaveRoom,
    rejoin,
    goHome,
    back,
    toggleLock,
    sendPasscode,
    remove,
    react,
    resetRoomState,
  };
}
