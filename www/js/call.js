// SPDX-License-Identifier: MIT
// A mesh call: one RTCPeerConnection per other member of the room. The newcomer offers to
// everyone listed in `joined`; the others answer. Descriptions, batched ICE candidates and
// media state travel as `signal` data through the server. "Perfect negotiation" (one polite
// side per pair) settles glare and renegotiation, e.g. when a peer starts sending video or a
// screen (a video line of its own, beside the camera). A failed connection restarts ICE; every
// few seconds getStats gives each peer's round-trip time and loss.

const CANDIDATE_BATCH_MS = 40;
const STATS_MS = 3000;
const CARRY_WAIT_MS = 3000; // after a fresh rejoin: how long to wait for a member's hello
const ORPHAN_MS = 15000; // connections nobody claimed after a fresh rejoin are closed then

/** This page's identity for its peers, stable while the page lives (ids change on a rejoin). */
const PAGE_UID =
  typeof crypto !== 'undefined' && crypto.randomUUID
    ? crypto.randomUUID()
    : `${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;

class Peer {
  #call;
  #pendingCandidates = [];
  #flushTimer = 0;
  #makingOffer = false;
  #ignoreOffer = false;
  #chain = Promise.resolve();

  constructor(call, id, { initiator }) {
    this.#call = call;
    this.id = id;
    this.polite = call.selfId > id;
    this.closed = false;
    this.audio = null; // our transceivers, one per kind
    this.video = null;
    this.screenTx = null; // our screen line, once we shared
    this.remoteScreen = null; // their screen track, once they shared
    this.lastStats = null;
    const pc = new RTCPeerConnection({ iceServers: call.iceServers });
    this.pc = pc;
    pc.addEventListener('negotiationneeded', () => this.#negotiate());
    pc.addEventListener('icecandidate', (ev) => this.#onCandidate(ev.candidate));
    pc.addEventListener('track', (ev) => this.#onTrack(ev));
    pc.addEventListener('connectionstatechange', () => this.#onConnectionState());
    if (initiator) {
      // Adding the transceivers fires negotiationneeded: the offer goes out from there.
      this.audio = this.#addTransceiver('audio');
      this.video = this.#addTransceiver('video');
    }
  }

  #addTransceiver(kind) {
    const media = this.#call.media;
    const track = kind === 'audio' ? media.audioTrack : media.outgoingVideo;
    return this.pc.addTransceiver(track ?? kind, {
      direction: track ? 'sendrecv' : 'recvonly',
      streams: [media.stream],
    });
  }

  send(data) {
    this.#call.sendSignal(this.id, data);
  }

  /** Runs `job` after every earlier signal of this peer was handled. */
  enqueue(job) {
    this.#chain = this.#chain
      .then(() => (this.closed ? undefined : job()))
      .catch((err) => this.#call.report(`Call with ${this.#call.nameOf(this.id)}: ${err.message}`));
    return this.#chain;
  }

  async #negotiate() {
    if (this.closed) return;
    try {
      this.#makingOffer = true;
      await this.pc.setLocalDescription();
      this.send({ description: this.pc.localDescription.toJSON() });
    } catch (err) {
      this.#call.report(`Could not make an offer: ${err.message}`);
    } finally {
      this.#makingOffer = false;
    }
  }

  #onCandidate(candidate) {
    if (candidate) this.#pendingCandidates.push(candidate.toJSON());
    clearTimeout(this.#flushTimer);
    if (candidate) this.#flushTimer = setTimeout(() => this.#flushCandidates(), CANDIDATE_BATCH_MS);
    else this.#flushCandidates();
  }

  #flushCandidates() {
    if (this.#pendingCandidates.length === 0 || this.closed) return;
    this.send({ candidates: this.#pendingCandidates });
    this.#pendingCandidates = [];
  }

  /** Handles one signal from this peer: {description} | {candidates} | {state}. */
  async handle(data) {
    if (data.description) await this.#onDescription(data.description);
    if (Array.isArray(data.candidates)) {
      for (const candidate of data.candidates) {
        try {
          await this.pc.addIceCandidate(candidate);
        } catch (err) {
          if (!this.#ignoreOffer) throw err;
        }
      }
    }
    if (data.state && typeof data.state === 'object') this.#call.onPeerState(this.id, data.state);
  }

  async #onDescription(description) {
    const pc = this.pc;
    const collision = description.type === 'offer' && (this.#makingOffer || pc.signalingState !== 'stable');
    this.#ignoreOffer = !this.polite && collision;
    if (this.#ignoreOffer) return;
    await pc.setRemoteDescription(description);
    if (description.type !== 'offer') return;
    await this.#attachLocal();
    await pc.setLocalDescription();
    this.send({ description: pc.localDescription.toJSON() });
  }

  /** On the answering side: put our tracks on the transceivers the offer created. */
  async #attachLocal() {
    const media = this.#call.media;
    for (const kind of ['audio', 'video']) {
      if (this[kind]) continue;
      const tx = this.pc
        .getTransceivers()
        .find((t) => !t.stopped && t.receiver.track.kind === kind && t !== this.audio && t !== this.video);
      if (!tx) {
        this[kind] = this.#addTransceiver(kind); // renegotiates after this answer
        continue;
      }
      this[kind] = tx;
      const track = kind === 'audio' ? media.audioTrack : media.outgoingVideo;
      if (track) {
        await tx.sender.replaceTrack(track);
        if (tx.sender.setStreams) tx.sender.setStreams(media.stream);
        tx.direction = 'sendrecv';
      } else {
        tx.direction = 'recvonly';
      }
    }
  }

  /** Starts (track) or stops (null) sending our screen on its own video line. */
  async setScreen(track) {
    if (this.closed) return;
    const media = this.#call.media;
    if (track) {
      if (!this.screenTx) {
        this.screenTx = this.pc.addTransceiver(track, { direction: 'sendonly', streams: [media.screenStream] });
        return;
      }
      await this.screenTx.sender.replaceTrack(track);
      if (this.screenTx.sender.setStreams) this.screenTx.sender.setStreams(media.screenStream);
      this.screenTx.direction = 'sendonly';
    } else if (this.screenTx) {
      await this.screenTx.sender.replaceTrack(null);
      this.screenTx.direction = 'inactive';
    }
  }

  /** Sends our (new) microphone track. */
  async setAudio(track) {
    if (!this.audio || this.closed) return;
    await this.audio.sender.replaceTrack(track);
  }

  /** Asks for new ICE candidates after the connection failed (both sides may ask). */
  restartIce() {
    if (!this.closed && this.pc.restartIce) this.pc.restartIce();
  }

  /** The camera line is the first video line (the screen lines come after it). */
  isCamera(transceiver) {
    const first = this.pc.getTransceivers().find((t) => t.receiver.track.kind === 'video');
    return transceiver === first;
  }

  /** Sends `track` (a camera, or null) instead of the current camera video. */
  async setVideo(track) {
    if (!this.video || this.closed) return;
    await this.video.sender.replaceTrack(track);
    if (track && !this.video.direction.startsWith('send')) {
      if (this.video.sender.setStreams) this.video.sender.setStreams(this.#call.media.stream);
      this.video.direction = 'sendrecv'; // negotiationneeded: renegotiate
    }
  }

  #onTrack(ev) {
    if (ev.track.kind === 'video' && !this.isCamera(ev.transceiver)) {
      this.remoteScreen = ev.track;
      this.#call.onPeerScreenTrack(this.id);
      return;
    }
    this.#call.onPeerTrack(this.id, ev.track);
  }

  #onConnectionState() {
    const state = this.pc.connectionState;
    this.#call.onPeerConnection(this.id, state);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.#flushTimer);
    this.pc.close();
  }
}

export class Call {
  #peers = new Map();
  #names = new Map();
  #send;
  #onProblem;
  #stopped = false;
  #ready;
  #states = new Map(); // id -> the peer's last {audio, video, screen} signal
  #statsTimer = 0;
  #uids = new Map(); // id -> the peer page's uid
  #orphans = new Map(); // uid -> {peer, oldId, nickname}: connections kept over a fresh rejoin
  #orphanTimer = 0;
  #waiting = new Map(); // id -> timer: we said hello after a fresh rejoin, waiting for theirs

  /**
   * `media`: a started LocalMedia; `grid`: the tiles; `send(obj)`: to the server;
   * `iceServers`: a promise of the RTCIceServer list; `onProblem(text)`: user-facing failures;
   * `onSoundBlocked()`: autoplay with sound was refused.
   */
  constructor({ selfId, media, grid, send, iceServers, onProblem, onSoundBlocked }) {
    this.selfId = selfId;
    this.media = media;
    this.grid = grid;
    this.iceServers = [];
    this.#send = send;
    this.#onProblem = onProblem;
    this.onSoundBlocked = onSoundBlocked;
    // Signals wait for this (in arrival order): media started and ICE servers known.
    this.#ready = Promise.all([media.ready, iceServers]).then(([, servers]) => {
      this.iceServers = servers;
    });
    this.onVideoTrack = (ev) => this.#setVideo(ev.detail);
    this.onAudioTrack = (ev) => this.#forEachPeer((peer) => peer.setAudio(ev.detail));
    this.onScreen = (ev) => {
      this.#forEachPeer((peer) => peer.setScreen(ev.detail));
      this.broadcastState();
    };
    this.onMediaChange = () => this.broadcastState();
    media.addEventListener('videotrack', this.onVideoTrack);
    media.addEventListener('audiotrack', this.onAudioTrack);
    media.addEventListener('screen', this.onScreen);
    media.addEventListener('change', this.onMediaChange);
    this.onQuality = () => {};
    this.#statsTimer = setInterval(() => this.#pollStats(), STATS_MS);
  }

  #forEachPeer(job) {
    for (const peer of this.#peers.values()) peer.enqueue(() => job(peer));
  }

  nameOf(id) {
    return this.#names.get(id) ?? `#${id}`;
  }

  report(text) {
    if (!this.#stopped) this.#onProblem(text);
  }

  sendSignal(to, data) {
    if (!this.#stopped) this.#send({ type: 'signal', to, data });
  }

  /** We just joined: show everyone, then offer to each of them. */
  async start(members) {
    for (const { id, nickname } of members) this.welcome(id, nickname);
    await this.#ready;
    if (this.#stopped) return;
    for (const { id } of members) {
      if (this.#names.has(id) && !this.#peers.has(id)) this.#createPeer(id, true);
    }
  }

  /** Someone joined after us: show them; they will send the offer. */
  welcome(id, nickname) {
    this.#names.set(id, nickname);
    if (this.#orphans.size > 0 && !this.#peers.has(id) && !this.grid.has(id)) {
      // Maybe one of our kept connections: their hello says so; else show them after a while.
      setTimeout(() => {
        if (this.#names.has(id) && !this.grid.has(id)) this.#showTile(id);
      }, CARRY_WAIT_MS);
      return;
    }
    this.#showTile(id);
  }

  #showTile(id) {
    const tile = this.grid.upsert(id, this.nameOf(id));
    if (!this.#peers.has(id)) tile.setStatus('connecting…');
  }

  /** True while a kept connection to someone called `nickname` waits to be claimed. */
  carrying(nickname) {
    return [...this.#orphans.values()].some((o) => o.nickname === nickname);
  }

  /**
   * We joined the room afresh (the server forgot our session, e.g. it restarted) as `selfId`;
   * `members` are the others with their new ids. The peer connections still carry media, so
   * they are kept: each side says hello with its page uid and a known uid takes its old
   * connection and tile over to the new id. Unclaimed ones close after ORPHAN_MS.
   */
  carry(selfId, members) {
    const kept = new Set();
    for (const [id, peer] of this.#peers) {
      const uid = this.#uids.get(id);
      if (uid && !peer.closed) {
        this.#orphans.set(uid, { peer, oldId: id, nickname: this.nameOf(id), state: this.#states.get(id) });
        kept.add(String(id));
      } else {
        peer.close();
      }
    }
    this.#peers.clear();
    for (const tile of this.grid.tiles()) {
      if (tile.self) continue;
      const owner = String(tile.key).replace(/:screen$/, '');
      if (!kept.has(owner)) this.grid.remove(tile.key);
    }
    this.#names.clear();
    this.#uids.clear();
    this.#states.clear();
    this.selfId = selfId;
    clearTimeout(this.#orphanTimer);
    this.#orphanTimer = setTimeout(() => this.#dropOrphans(), ORPHAN_MS);
    for (const { id, nickname } of members) {
      this.#names.set(id, nickname);
      this.sendSignal(id, { hello: { uid: PAGE_UID } });
      this.#waiting.set(id, setTimeout(() => this.#helloTimeout(id), CARRY_WAIT_MS));
    }
  }

  #helloTimeout(id) {
    this.#waiting.delete(id);
    if (!this.#names.has(id) || this.#peers.has(id)) return;
    this.#showTile(id);
    this.#createPeer(id, true);
  }

  /** A hello after a fresh rejoin: claim our kept connection to that page, answer, or offer. */
  #onHello(from, hello) {
    if (typeof hello.uid !== 'string') return;
    const orphan = this.#orphans.get(hello.uid);
    let carried = false;
    if (orphan && !this.#peers.has(from)) {
      this.#orphans.delete(hello.uid);
      const peer = orphan.peer;
      peer.id = from;
      peer.polite = this.selfId > from;
      this.#peers.set(from, peer);
      this.#uids.set(from, hello.uid);
      if (orphan.state) this.#states.set(from, orphan.state);
      this.grid.rekey(orphan.oldId, from);
      this.grid.rekey(`${orphan.oldId}:screen`, `${from}:screen`);
      this.grid.upsert(from, this.nameOf(from));
      carried = true;
    }
    const waiting = this.#waiting.get(from);
    if (waiting !== undefined) {
      // Our hello's answer: offer afresh unless the old connection was claimed.
      clearTimeout(waiting);
      this.#waiting.delete(from);
      if (!this.#peers.has(from)) {
        this.#showTile(from);
        this.#createPeer(from, true);
      }
    } else if (!hello.ack) {
      this.sendSignal(from, { hello: { uid: PAGE_UID, ack: true } });
      if (!carried) this.#showTile(from); // their offer follows
    }
  }

  #dropOrphans() {
    for (const { peer, oldId } of this.#orphans.values()) {
      peer.close();
      this.grid.remove(oldId);
      this.grid.remove(`${oldId}:screen`);
    }
    this.#orphans.clear();
  }

  rename(id, nickname) {
    if (!this.#names.has(id)) return;
    this.#names.set(id, nickname);
    this.grid.upsert(id, nickname);
  }

  /** Someone left the room: drop their connection and tiles. */
  bye(id) {
    this.#names.delete(id);
    this.#states.delete(id);
    this.#dropPeer(id);
    this.grid.remove(id);
    this.grid.remove(`${id}:screen`);
  }

  /** The ids of the members we show. */
  ids() {
    return [...this.#names.keys()];
  }

  /** A signal from a member of our room. */
  signal(from, data) {
    this.#ready.then(() => this.#onSignal(from, data));
  }

  #onSignal(from, data) {
    if (this.#stopped || data === null || typeof data !== 'object' || !this.#names.has(from)) return;
    if (typeof data.uid === 'string') this.#uids.set(from, data.uid);
    if (data.hello && typeof data.hello === 'object') {
      this.#onHello(from, data.hello);
      return;
    }
    let peer = this.#peers.get(from);
    if (!peer) {
      if (!data.description || data.description.type !== 'offer') {
        if (data.state) this.onPeerState(from, data.state);
        return;
      }
      peer = this.#createPeer(from, false);
    }
    peer.enqueue(() => peer.handle(data));
  }

  #createPeer(id, initiator) {
    const peer = new Peer(this, id, { initiator });
    this.#peers.set(id, peer);
    peer.send({ state: this.#published(), uid: PAGE_UID });
    if (this.media.screenTrack) {
      const track = this.media.screenTrack;
      if (initiator) peer.setScreen(track);
      else peer.enqueue(() => peer.setScreen(track)); // after the answer to their offer
    }
    return peer;
  }

  #dropPeer(id) {
    const peer = this.#peers.get(id);
    if (!peer) return;
    this.#peers.delete(id);
    peer.close();
  }

  onPeerTrack(id, track) {
    const tile = this.grid.get(id);
    if (!tile) return;
    if (track.kind === 'video') tile.setVideoTrack(track);
    else
      tile.setAudioTrack(track).then((played) => {
        if (!played && this.onSoundBlocked) this.onSoundBlocked();
      });
  }

  onPeerState(id, state) {
    this.#states.set(id, state);
    const tile = this.grid.get(id);
    if (tile) tile.setPublished({ audio: Boolean(state.audio), video: Boolean(state.video) });
    this.#showScreen(id);
  }

  onPeerScreenTrack(id) {
    this.#showScreen(id);
  }

  /** Shows peer `id`'s screen tile while they say they share and their track is here. */
  #showScreen(id) {
    const peer = this.#peers.get(id);
    const sharing = Boolean(this.#states.get(id)?.screen);
    const key = `${id}:screen`;
    if (sharing && peer && peer.remoteScreen && this.#names.has(id)) {
      const tile = this.grid.upsert(id, this.nameOf(id), { screen: true });
      tile.setVideoTrack(peer.remoteScreen);
    } else if (!sharing) {
      this.grid.remove(key);
    }
  }

  onPeerConnection(id, state) {
    const tile = this.grid.get(id);
    if (state === 'connected') {
      if (tile) tile.setStatus(null);
    } else if (state === 'disconnected') {
      if (tile) tile.setStatus('reconnecting…');
    } else if (state === 'failed') {
      // ICE gave up: ask for new candidates; the tile stays while the member is in the room.
      if (tile) tile.setStatus('reconnecting…');
      const peer = this.#peers.get(id);
      if (peer) peer.restartIce();
    } else if (state === 'closed') {
      this.#dropPeer(id);
      if (tile) {
        tile.setVideoTrack(null);
        tile.setAudioTrack(null);
        tile.setStatus('no connection');
      }
    }
  }

  #published() {
    return { ...this.media.published, screen: this.media.sharing };
  }

  /** Tells every peer whether our sound, picture and screen are on. */
  broadcastState() {
    for (const peer of this.#peers.values()) peer.send({ state: this.#published() });
  }

  /** Round-trip time and loss of each connection -> the tile's quality bars. */
  async #pollStats() {
    for (const peer of this.#peers.values()) {
      if (peer.closed || peer.pc.connectionState !== 'connected') continue;
      let report;
      try {
        report = await peer.pc.getStats();
      } catch {
        continue;
      }
      let rtt = null;
      let lost = 0;
      let received = 0;
      report.forEach((s) => {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && Number.isFinite(s.currentRoundTripTime)) {
          rtt = s.currentRoundTripTime;
        }
        if (s.type === 'inbound-rtp') {
          lost += s.packetsLost ?? 0;
          received += s.packetsReceived ?? 0;
        }
      });
      const last = peer.lastStats ?? { lost: 0, received: 0 };
      peer.lastStats = { lost, received };
      const dLost = Math.max(0, lost - last.lost);
      const dAll = dLost + Math.max(0, received - last.received);
      const loss = dAll > 0 ? dLost / dAll : 0;
      let level = 'good';
      if (rtt === null) level = null;
      else if (rtt > 0.6 || loss > 0.1) level = 'poor';
      else if (rtt > 0.3 || loss > 0.03) level = 'fair';
      const words = { good: 'Good connection', fair: 'Fair connection', poor: 'Poor connection' };
      const detail = level ? `${words[level]}: ${Math.round(rtt * 1000)} ms round trip, ${(loss * 100).toFixed(1)}% loss` : '';
      const tile = this.grid.get(peer.id);
      if (tile) tile.setQuality(level, detail);
      this.onQuality(peer.id, level, detail);
    }
  }

  #setVideo(track) {
    for (const peer of this.#peers.values()) {
      peer.enqueue(() => peer.setVideo(track));
    }
  }

  /** Ends every connection and removes the others' tiles; the local media stays. */
  stop() {
    this.#stopped = true;
    clearInterval(this.#statsTimer);
    clearTimeout(this.#orphanTimer);
    for (const timer of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
    this.#dropOrphans();
    this.media.removeEventListener('videotrack', this.onVideoTrack);
    this.media.removeEventListener('audiotrack', this.onAudioTrack);
    this.media.removeEventListener('screen', this.onScreen);
    this.media.removeEventListener('change', this.onMediaChange);
    for (const id of [...this.#peers.keys()]) this.#dropPeer(id);
    this.#names.clear();
    this.#states.clear();
    this.grid.clearPeers();
  }
}
