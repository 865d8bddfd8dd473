/**
 * Splits a serial byte stream into scanner lines. Hand-written rather than
 * @serialport/parser-readline because a street-facing reader needs three
 * things that parser does not do:
 *  - a line over `maxLength` bytes is cut off and dropped (not buffered without bound);
 *  - a half line (a scan cut by an unplug, noise) is dropped after `idleMs` of
 *    silence, so it is not glued to the front of the next good scan;
 *  - noise glued to the front of a good line without a pause is cut at the
 *    first credential prefix, so the good scan still reads.
 * Scanners send a whole line in one burst (60 chars take 62 ms at 9600 baud,
 * ~1 ms apart), while people scan seconds apart, so a 150 ms gap separates them.
 */
export type LineEnding = 'CR' | 'LF' | 'CRLF';

export interface FramerOptions {
  lineEnding?: LineEnding;
  maxLength?: number;
  idleMs?: number;
  onLine(line: Buffer, receivedAt: number): void;
  onDropped(bytes: Buffer, why: 'too_long' | 'half_line' | 'noise'): void;
  now?: () => number;
}

const CR = 0x0d;
const LF = 0x0a;
const PREFIX = /(GHD1|GHS1|W26|W34|CARD):/i;

export class LineFramer {
  readonly #terminator: number;
  readonly #strip: number;
  readonly #max: number;
  readonly #idleMs: number;
  readonly #now: () => number;
  #buf: Buffer[] = [];
  #len = 0;
  /** Inside an over-long line: discard until its end. */
  #skipping = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: FramerOptions) {
    const ending = o.lineEnding ?? 'CR';
    // Honour the configured ending, and tolerate the other half of CRLF so a scanner set to CRLF still reads.
    this.#terminator = ending === 'CR' ? CR : LF;
    this.#strip = ending === 'CR' ? LF : CR;
    this.#max = o.maxLength ?? 512;
    this.#idleMs = o.idleMs ?? 150;
    this.#now = o.now ?? (() => performance.now());
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(this.#terminator, start);
      if (end < 0) break;
      this.#append(chunk.subarray(start, end));
      this.#endLine();
      start = end + 1;
    }
    if (start < chunk.length) this.#append(chunk.subarray(start));
    this.#arm();
  }

  #append(part: Buffer): void {
    if (part.length === 0) return;
    if (this.#skipping) return;
    if (this.#len + part.length > this.#max) {
      this.#buf.push(part);
      const dropped = Buffer.concat(this.#buf).subarray(0, this.#max + 1);
      this.#reset();
      this.#skipping = true;
      this.o.onDropped(dropped, 'too_long');
      return;
    }
    this.#buf.push(part);
    this.#len += part.length;
  }

  #endLine(): void {
    if (this.#skipping) {
      this.#skipping = false;
      this.#reset();
      return;
    }
    let line = this.#buf.length === 1 ? (this.#buf[0] as Buffer) : Buffer.concat(this.#buf);
    this.#reset();
    // Strip the other half of a CRLF pair at either end.
    if (line.length > 0 && line[0] === this.#strip) line = line.subarray(1);
    if (line.length > 0 && line[line.length - 1] === this.#strip) line = line.subarray(0, -1);
    if (line.length === 0) return;
    const m = PREFIX.exec(line.toString('latin1'));
    if (m && m.index > 0) {
      this.o.onDropped(line.subarray(0, m.index), 'noise');
      line = line.subarray(m.index);
    }
    this.o.onLine(line, this.#now());
  }

  #reset(): void {
    this.#buf = [];
    this.#len = 0;
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#len === 0 && !this.#skipping) return;
    this.#timer = setTimeout(() => this.flushIdle(), this.#idleMs);
    this.#timer.unref?.();
  }

  /** Silence after a partial line: drop it. */
  flushIdle(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const pending = this.#len > 0 ? Buffer.concat(this.#buf) : null;
    this.#reset();
    this.#skipping = false;
    if (pending) this.o.onDropped(pending, 'half_line');
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#reset();
  }
}
