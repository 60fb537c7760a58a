/**
 * Loss, duplicate and order accounting for sequence-numbered streams (one stream per
 * subscriber × publisher pair). Each stream keeps the next expected sequence number and the
 * "holes" below it: sequence numbers skipped when a later one arrived first. Then
 *
 *   seq == next      in order
 *   seq >  next      in order too, but seq - next numbers were skipped (holes; `gaps` counts them)
 *   seq <  next      if seq is a hole: it arrived out of order (fills the hole);
 *                    else it was seen already: a duplicate
 *
 * and at the end a stream whose publisher sent `sent` messages lost its remaining holes plus
 * `sent - next` messages never seen. Holes are kept as ranges, so a burst of loss costs one entry.
 * `record` returns how far `next` advanced: the sender-side window counts a message as "out of
 * the system" once the receiver's position passed it, whether it arrived or was lost.
 */
export interface TrackerStats {
  received: number;
  unique: number;
  duplicates: number;
  outOfOrder: number;
  gaps: number;
}

export class SeqTracker implements TrackerStats {
  received = 0;
  unique = 0;
  duplicates = 0;
  outOfOrder = 0;
  gaps = 0;
  private readonly next: Float64Array;
  /** stream -> sorted, disjoint [start, end) ranges, flattened */
  private readonly holes = new Map<number, number[]>();

  constructor(readonly streams: number) {
    this.next = new Float64Array(streams);
  }

  /** Records sequence `seq` on `stream`; returns the advance of the stream's next expected number. */
  record(stream: number, seq: number): number {
    this.received++;
    const n = this.next[stream]!;
    if (seq === n) {
      this.next[stream] = n + 1;
      this.unique++;
      return 1;
    }
    if (seq > n) {
      this.gaps += seq - n;
      let h = this.holes.get(stream);
      if (!h) this.holes.set(stream, (h = []));
      h.push(n, seq);
      this.next[stream] = seq + 1;
      this.unique++;
      return seq + 1 - n;
    }
    if (this.fill(stream, seq)) {
      this.unique++;
      this.outOfOrder++;
    } else {
      this.duplicates++;
    }
    return 0;
  }

  /** Removes `seq` from the stream's holes; false if it was not a hole (already received). */
  private fill(stream: number, seq: number): boolean {
    const h = this.holes.get(stream);
    if (!h) return false;
    // binary search over ranges for the last start <= seq
    let lo = 0;
    let hi = h.length / 2 - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid * 2]! <= seq) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (at < 0) return false;
    const s = h[at * 2]!;
    const e = h[at * 2 + 1]!;
    if (seq >= e) return false;
    if (s === seq && e === seq + 1) h.splice(at * 2, 2);
    else if (s === seq) h[at * 2] = seq + 1;
    else if (e === seq + 1) h[at * 2 + 1] = seq;
    else h.splice(at * 2 + 1, 0, seq, seq + 1);
    if (h.length === 0) this.holes.delete(stream);
    return true;
  }

  /** The next expected sequence number of a stream (how far it has advanced). */
  position(stream: number): number {
    return this.next[stream]!;
  }

  /** Messages of a stream never received, given how many its publisher sent. */
  lost(stream: number, sent: number): number {
    let missing = 0;
    const h = this.holes.get(stream);
    if (h) for (let i = 0; i < h.length; i += 2) missing += Math.min(h[i + 1]!, sent) - Math.min(h[i]!, sent);
    return missing + Math.max(0, sent - this.next[stream]!);
  }

  stats(): TrackerStats {
    return { received: this.received, unique: this.unique, duplicates: this.duplicates, outOfOrder: this.outOfOrder, gaps: this.gaps };
  }
}
