// SPDX-License-Identifier: MIT
// Web Audio for the call: one AudioContext, a level meter per audio track (who is speaking,
// the pre-join microphone bar) and short join/leave chimes synthesized on the spot (no files).

const POLL_MS = 120;
const SPEAK_LEVEL = 0.015; // RMS of the waveform (about -36 dBFS)
const HOLD_MS = 700; // keep the ring this long after the level dropped

let ctx = null;

/** The page's AudioContext, created on first use; null where Web Audio is missing. */
export function audioContext() {
  if (ctx === null && typeof AudioContext === 'function') ctx = new AudioContext();
  if (ctx && ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}

/** Browsers start an AudioContext made without a click suspended: any later click resumes it. */
for (const type of ['pointerdown', 'keydown']) {
  document.addEventListener(type, () => {
    if (ctx && ctx.state === 'suspended') ctx.resume().catch(() => {});
  }, { capture: true, passive: true });
}

/**
 * Watches the level of `track`: calls `onLevel(level, speaking)` every poll (level 0..1).
 * Returns a stop function.
 */
export function watchLevel(track, onLevel) {
  const ac = audioContext();
  if (!ac || !track) return () => {};
  const source = ac.createMediaStreamSource(new MediaStream([track]));
  const analyser = ac.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  let lastLoud = 0;
  let speaking = false;
  const timer = setInterval(() => {
    if (track.readyState === 'ended') return;
    analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += v * v;
    const rms = Math.sqrt(sum / data.length);
    const now = performance.now();
    if (rms > SPEAK_LEVEL && track.enabled) lastLoud = now;
    const next = now - lastLoud < HOLD_MS && lastLoud !== 0;
    const level = Math.min(1, rms * 8);
    if (next !== speaking || level > 0.01 || speaking) {
      speaking = next;
      onLevel(track.enabled ? level : 0, speaking);
    }
  }, POLL_MS);
  return () => {
    clearInterval(timer);
    source.disconnect();
  };
}

/** A short two-note chime: rising for a join, falling for a leave. */
export function chime(kind) {
  const ac = audioContext();
  if (!ac || ac.state !== 'running') return;
  const notes = kind === 'join' ? [660, 880] : [660, 440];
  const start = ac.currentTime + 0.02;
  notes.forEach((freq, i) => {
    const osc = ac.createOscillator();
    const gain = ac.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    const t0 = start + i * 0.12;
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.exponentialRampToValueAtTime(0.08, t0 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.22);
    osc.connect(gain).connect(ac.destination);
    osc.start(t0);
    osc.stop(t0 + 0.25);
  });
}
