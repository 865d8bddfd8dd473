/**
 * Secure Channel base keys set on this controller (install mode's KEYSET, or a rotation), kept in
 * `<dataDir>/osdp-keys.json`, mode 0600, replaced atomically (write a temp file, fsync, rename) so a power cut
 * leaves the old file or the new one, never half of one. A key about to be sent with KEYSET is stored first as
 * `pending` and promoted once the PD acknowledged it; a crash in between leaves both on disk, and the reader
 * tries the pending key first on its next connection, so a key the PD may already hold is never lost.
 * Keys are per reader name (the config's `name`), which stays put when a USB adapter's device path moves.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface StoredKey {
  scbk?: Buffer;
  pending?: Buffer;
}

interface FileShape {
  version: 1;
  readers: Record<string, { scbk?: string; pending?: string; updatedAt: string }>;
}

const HEX32 = /^[0-9a-f]{32}$/;

export class OsdpKeyStore {
  readonly file: string;
  #data: FileShape;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'osdp-keys.json');
    this.#data = this.#read();
  }

  #read(): FileShape {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return { version: 1, readers: {} };
    }
    const parsed = JSON.parse(text) as Partial<FileShape>;
    if (parsed.version !== 1 || typeof parsed.readers !== 'object' || parsed.readers === null) {
      throw new Error(`${this.file}: not an OSDP key file (version 1)`);
    }
    return { version: 1, readers: parsed.readers };
  }

  get(reader: string): StoredKey {
    const r = this.#data.readers[reader];
    const out: StoredKey = {};
    if (r?.scbk && HEX32.test(r.scbk)) out.scbk = Buffer.from(r.scbk, 'hex');
    if (r?.pending && HEX32.test(r.pending)) out.pending = Buffer.from(r.pending, 'hex');
    return out;
  }

  setPending(reader: string, key: Buffer): void {
    const r = this.#data.readers[reader];
    this.#data.readers[reader] = {
      ...(r?.scbk ? { scbk: r.scbk } : {}),
      pending: key.toString('hex'),
      updatedAt: new Date().toISOString(),
    };
    this.#write();
  }

  /** The PD acknowledged (or proved it holds) `key`: it becomes the key. */
  commit(reader: string, key: Buffer): void {
    this.#data.readers[reader] = { scbk: key.toString('hex'), updatedAt: new Date().toISOString() };
    this.#write();
  }

  discardPending(reader: string): void {
    const r = this.#data.readers[reader];
    if (!r?.pending) return;
    this.#data.readers[reader] = { ...(r.scbk ? { scbk: r.scbk } : {}), updatedAt: new Date().toISOString() };
    this.#write();
  }

  // Hand-written rather than a dependency: the atomic replace is open/write/fsync/rename, and the mode must be set
  // at creation so the key is never readable by others, not even for a moment.
  #write(): void {
    const tmp = join(dirname(this.file), `.osdp-keys.${process.pid}.${Date.now()}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(this.#data, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    try {
      const dfd = openSync(dirname(this.file), 'r');
      fsyncSync(dfd);
      closeSync(dfd);
    } catch {
      // Some filesystems refuse fsync on a directory; the rename is still atomic.
    }
  }
}
