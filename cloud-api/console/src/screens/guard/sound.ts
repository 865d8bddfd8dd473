/**
 * The alarm sound: a short two-tone beep made with Web Audio (no file to load,
 * nothing to cache offline). Browsers start audio only after a user gesture on
 * the page, so the guard turns sound on with a button (remembered on this
 * device) and, after a reload, the first click or key press anywhere wakes it.
 */
const KEY = 'gatehouse.alarmSound';

export function soundWanted(): boolean {
  try {
    return localStorage.getItem(KEY) === 'on';
  } catch {
    return false;
  }
}

export function rememberSound(on: boolean): void {
  try {
    localStorage.setItem(KEY, on ? 'on' : 'off');
  } catch {
    // Private mode: the choice lasts until the tab closes.
  }
}

let ctx: AudioContext | null = null;

/** Creates or resumes the audio context; true when it can play now. Call from a user gesture. */
export async function unlockSound(): Promise<boolean> {
  try {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') await ctx.resume();
    return ctx.state === 'running';
  } catch {
    return false;
  }
}

export const soundReady = (): boolean => ctx?.state === 'running';

/** Plays the beep; false when the browser has not allowed audio yet (nothing was played). */
export function beep(): boolean {
  const c = ctx;
  if (!c || c.state !== 'running') return false;
  const start = c.currentTime;
  const gain = c.createGain();
  gain.connect(c.destination);
  // Two tones, twice: distinct from a phone's notification, short enough not to mask speech at the desk.
  [880, 660, 880, 660].forEach((hz, i) => {
    const osc = c.createOscillator();
    osc.type = 'square';
    osc.frequency.value = hz;
    osc.connect(gain);
    const t0 = start + i * 0.18;
    osc.start(t0);
    osc.stop(t0 + 0.15);
  });
  gain.gain.setValueAtTime(0.15, start);
  gain.gain.setValueAtTime(0, start + 0.75);
  return true;
}
