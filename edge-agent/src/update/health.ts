/**
 * The health window of a release on trial (pure: the daemon samples, this
 * judges). Healthy at the deadline means: the MQTT link is up and has
 * carried something both ways since the start — a verified cloud message (an
 * ack, a sync, a command) or a status the broker acknowledged (an idle gate
 * whose cache is current gets nothing from the cloud, and must not be rolled
 * back for it); no decision failed and the store never failed a write; the
 * outbox is not only growing while connected (a cloud that stopped acking
 * shows there). A crash is not seen here: boot-guard counts starts.
 */
export interface HealthSample {
  at: number;
  linkOnline: boolean;
  /** Verified cloud→edge messages since the process started. */
  cloudMessages: number;
  /** Statuses the broker acknowledged (QoS 1) since the process started. */
  statusAcks: number;
  storageOk: boolean;
  /** Scans whose handling threw since the process started. */
  scanErrors: number;
  outboxDepth: number;
}

export interface HealthVerdict {
  healthy: boolean;
  reasons: string[];
}

export class HealthWatch {
  readonly #first: HealthSample;
  #last: HealthSample;
  #storageFailed = false;
  #onlineDepths: number[] = [];

  constructor(first: HealthSample) {
    this.#first = first;
    this.#last = first;
    this.add(first);
  }

  add(s: HealthSample): void {
    this.#last = s;
    if (!s.storageOk) this.#storageFailed = true;
    if (s.linkOnline) this.#onlineDepths.push(s.outboxDepth);
  }

  verdict(): HealthVerdict {
    const f = this.#first;
    const l = this.#last;
    const reasons: string[] = [];
    if (!l.linkOnline) reasons.push('no link to the cloud at the end of the health window');
    else if (l.cloudMessages <= f.cloudMessages && l.statusAcks <= f.statusAcks)
      reasons.push('connected, but neither a verified message from the cloud nor an acknowledged status');
    if (l.scanErrors > f.scanErrors) reasons.push(`${l.scanErrors - f.scanErrors} scans failed to be decided`);
    if (this.#storageFailed) reasons.push('the store failed a write during the health window');
    const d = this.#onlineDepths;
    if (d.length >= 2) {
      const fell = d.some((x, i) => i > 0 && x < (d[i - 1] ?? x));
      const end = d[d.length - 1] ?? 0;
      const start = d[0] ?? 0;
      if (!fell && end > start) reasons.push(`the outbox grew from ${start} to ${end} while connected and never drained`);
    }
    return { healthy: reasons.length === 0, reasons };
  }
}
