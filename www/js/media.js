// SPDX-License-Identifier: MIT
// The local camera, microphone and screen: acquisition with fallbacks (audio-only, video-only,
// chat-only), mute and camera off that survive a device switch, camera/microphone/speaker
// choice and front/back flip, a screen shared alongside the camera. Emits 'videotrack' when the
// camera track changes, 'audiotrack' when the microphone track changes, 'screen' (detail: the
// screen track or null) and 'change' when any state changes.

const CAMERA = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 } };

/** A short human reason for a getUserMedia/getDisplayMedia failure. */
function reason(err) {
  switch (err && err.name) {
    case 'NotAllowedError':
      return 'permission was denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'no such device was found';
    case 'NotReadableError':
      return 'the device is in use by another program';
    case 'SecurityError':
      return 'the page is not secure (use HTTPS or localhost)';
    default:
      return err && err.message ? err.message : 'it is not available';
  }
}

export class LocalMedia extends EventTarget {
  stream = new MediaStream(); // what is sent: microphone + camera or screen
  audioTrack = null;
  cameraTrack = null;
  screenTrack = null;
  screenStream = new MediaStream(); // what the screen line sends, a stream of its own
  micOn = true;
  camOn = true;
  facing = 'user';
  speakerId = ''; // audio output for the others' sound ('' = the default)
  note = ''; // what the user should know about their devices, '' when all is well
  #ready = null;
  #generation = 0; // bumped by stop(): a late getUserMedia answer is then released

  /** True once start() has been called. */
  get started() {
    return this.#ready !== null;
  }

  /** Resolves when start() has finished (successfully or not). */
  get ready() {
    return this.#ready ?? Promise.resolve();
  }

  /** The camera track sent on the camera line (the screen goes on a line of its own). */
  get outgoingVideo() {
    return this.cameraTrack;
  }

  get sharing() {
    return this.screenTrack !== null;
  }

  get canShareScreen() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  }

  /** What the others should show: is sound coming, is a picture coming. */
  get published() {
    return {
      audio: this.audioTrack !== null && this.micOn,
      video: this.cameraTrack !== null && this.camOn,
    };
  }

  /**
   * Asks for camera and microphone once; falls back to audio only, then video only, then none,
   * and sets `note` to say what happened. Never rejects.
   */
  start({ cameraId = '', micId = '' } = {}) {
    if (this.#ready === null) this.#ready = this.#acquire(cameraId, micId);
    return this.#ready;
  }

  async #acquire(cameraId, micId) {
    const generation = this.#generation;
    const devices = navigator.mediaDevices;
    if (!devices || !devices.getUserMedia) {
      this.note = 'Camera and microphone need a secure page (HTTPS or localhost): you are in the chat only.';
      this.#changed();
      return;
    }
    const video = cameraId ? { ...CAMERA, deviceId: { ideal: cameraId } } : { ...CAMERA, facingMode: this.facing };
    const audio = micId ? { deviceId: { ideal: micId } } : true;
    const attempts = [
      { audio, video },
      { audio, video: false },
      { audio: false, video },
    ];
    let firstError = null;
    for (const constraints of attempts) {
      try {
        const got = await devices.getUserMedia(constraints);
        if (generation !== this.#generation) {
          for (const track of got.getTracks()) track.stop();
          return;
        }
        this.#adopt(got);
        break;
      } catch (err) {
        firstError ??= err;
        if (err && err.name === 'SecurityError') break;
      }
    }
    const why = reason(firstError);
    if (this.audioTrack && !this.cameraTrack) this.note = `No camera (${why}): you joined with audio only.`;
    else if (!this.audioTrack && this.cameraTrack) this.note = `No microphone (${why}): the others see you but cannot hear you.`;
    else if (!this.audioTrack && !this.cameraTrack) {
      this.note = `Camera and microphone unavailable (${why}): you are in the chat only; the others see your name.`;
    }
    this.#changed();
  }

  #adopt(got) {
    const audio = got.getAudioTracks()[0] ?? null;
    const video = got.getVideoTracks()[0] ?? null;
    if (audio) {
      audio.enabled = this.micOn;
      this.audioTrack = audio;
      this.stream.addTrack(audio);
    }
    if (video) {
      video.enabled = this.camOn;
      this.cameraTrack = video;
      this.stream.addTrack(video);
      this.facing = video.getSettings().facingMode || this.facing;
    }
  }

  setMic(on) {
    this.micOn = on;
    if (this.audioTrack) this.audioTrack.enabled = on;
    this.#changed();
  }

  setCam(on) {
    this.camOn = on;
    if (this.cameraTrack) this.cameraTrack.enabled = on;
    this.#changed();
  }

  /** The devices of `kind` the browser lists (labels appear once permission is granted). */
  async devices(kind) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return [];
    const all = await navigator.mediaDevices.enumerateDevices();
    return all.filter((d) => d.kind === kind && d.deviceId !== '');
  }

  cameras() {
    return this.devices('videoinput');
  }

  get cameraId() {
    return this.cameraTrack ? this.cameraTrack.getSettings().deviceId ?? '' : '';
  }

  get micId() {
    return this.audioTrack ? this.audioTrack.getSettings().deviceId ?? '' : '';
  }

  /** True where the page can choose the audio output (HTMLMediaElement.setSinkId). */
  get canPickSpeaker() {
    return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
  }

  setSpeaker(deviceId) {
    this.speakerId = deviceId;
    this.#changed();
  }

  /** Switches to the microphone with `deviceId`; the old track is stopped, mute state kept. */
  async useMic(deviceId) {
    let got;
    try {
      got = await navigator.mediaDevices.getUserMedia({ audio: { deviceId: { exact: deviceId } }, video: false });
    } catch (err) {
      throw new Error(`Cannot switch microphone: ${reason(err)}`);
    }
    const track = got.getAudioTracks()[0];
    const old = this.audioTrack;
    track.enabled = this.micOn;
    this.audioTrack = track;
    if (old) {
      this.stream.removeTrack(old);
      old.stop();
    }
    this.stream.addTrack(track);
    this.dispatchEvent(new CustomEvent('audiotrack', { detail: track }));
    this.#changed();
  }

  /** Switches to the camera with `deviceId`; the old track is stopped. */
  useCamera(deviceId) {
    return this.#switchCamera({ ...CAMERA, deviceId: { exact: deviceId } });
  }

  /**
   * Front/back switch for phones (facingMode); where the cameras do not say which way they
   * face, moves on to the next camera in the list instead.
   */
  async flip() {
    const next = this.facing === 'user' ? 'environment' : 'user';
    try {
      await this.#switchCamera({ ...CAMERA, facingMode: { exact: next } });
    } catch (err) {
      const cameras = await this.cameras();
      if (cameras.length < 2) throw err;
      const at = cameras.findIndex((cam) => cam.deviceId === this.cameraId);
      await this.useCamera(cameras[(at + 1) % cameras.length].deviceId);
    }
  }

  async #switchCamera(video) {
    let got;
    try {
      got = await navigator.mediaDevices.getUserMedia({ audio: false, video });
    } catch (err) {
      // Many phones cannot open a second camera while one is open: release it and retry.
      if (!this.cameraTrack || err.name !== 'NotReadableError') throw new Error(`Cannot switch camera: ${reason(err)}`);
      this.cameraTrack.stop();
      got = await navigator.mediaDevices.getUserMedia({ audio: false, video });
    }
    const track = got.getVideoTracks()[0];
    const old = this.cameraTrack;
    track.enabled = this.camOn;
    this.cameraTrack = track;
    this.facing = track.getSettings().facingMode || (video.facingMode ? video.facingMode.exact : this.facing);
    this.#setStreamVideo(track, old);
    if (old) old.stop();
    this.dispatchEvent(new CustomEvent('videotrack', { detail: track }));
    this.#changed();
  }

  /** Shares a screen beside the camera; resolves false when the user cancelled. */
  async startScreen() {
    if (!this.canShareScreen || this.sharing) return false;
    let got;
    try {
      got = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (err) {
      if (err && err.name === 'NotAllowedError') return false;
      throw new Error(`Cannot share the screen: ${reason(err)}`);
    }
    const track = got.getVideoTracks()[0];
    this.screenTrack = track;
    track.contentHint = 'detail';
    this.screenStream = new MediaStream([track]);
    track.addEventListener('ended', () => this.stopScreen());
    this.dispatchEvent(new CustomEvent('screen', { detail: track }));
    this.#changed();
    return true;
  }

  stopScreen() {
    const track = this.screenTrack;
    if (!track) return;
    this.screenTrack = null;
    track.stop();
    this.dispatchEvent(new CustomEvent('screen', { detail: null }));
    this.#changed();
  }

  /** Stops every track; the object can be started again. */
  stop() {
    this.#generation += 1;
    for (const track of [this.audioTrack, this.cameraTrack, this.screenTrack]) if (track) track.stop();
    for (const track of this.stream.getTracks()) this.stream.removeTrack(track);
    this.audioTrack = null;
    this.cameraTrack = null;
    this.screenTrack = null;
    this.note = '';
    this.#ready = null;
    this.#changed();
  }

  #setStreamVideo(track, old) {
    if (old) this.stream.removeTrack(old);
    if (track) this.stream.addTrack(track);
  }

  #changed() {
    this.dispatchEvent(new Event('change'));
  }
}
