import { useCallback, useState } from 'react';

/**
 * The roll-call ticks of this device: who has been seen at the assembly point.
 * Kept in localStorage so a reload, a dropped connection or a locked phone
 * does not lose the count in the middle of an evacuation. A tick names the
 * person's stay (pass and since), so someone who left and came back again is
 * unticked.
 */
const KEY = 'gatehouse.muster.rollcall';
/** Far more than any site holds at once; keeps a forgotten list from growing without end. */
const MAX = 5000;

export const tickKey = (item: { passId: string; since: string }) => `${item.passId}|${item.since}`;

function load(): Set<string> {
  try {
    const raw = localStorage.getItem(KEY);
    const arr: unknown = raw ? JSON.parse(raw) : [];
    return new Set(Array.isArray(arr) ? arr.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}

function save(s: Set<string>) {
  try {
    localStorage.setItem(KEY, JSON.stringify([...s].slice(-MAX)));
  } catch {
    // Storage full or disabled (a private window): the ticks still live in the page.
  }
}

export function useRollCall(): {
  ticked: Set<string>;
  toggle: (key: string, on: boolean) => void;
  clear: () => void;
} {
  const [ticked, setTicked] = useState<Set<string>>(load);
  const toggle = useCallback((key: string, on: boolean) => {
    setTicked((prev) => {
      const next = new Set(prev);
      if (on) next.add(key);
      else next.delete(key);
      save(next);
      return next;
    });
  }, []);
  const clear = useCallback(() => {
    const next = new Set<string>();
    save(next);
    setTicked(next);
  }, []);
  return { ticked, toggle, clear };
}
