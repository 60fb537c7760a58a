/**
 * A load worker: owns some of the run's connections (publishers, subscribers, or idle ones) on
 * its own event loop. Non-blocking sockets (`net`), incoming bytes read into one reused buffer
 * (`onread`), outgoing PUBLISHes built from a template into one buffer per connection per turn
 * and written with a single `write`. Cross-worker state lives in shared memory (see protocol.ts):
 * the main thread sets the phase, publishers publish how many messages they sent, subscribers
 * add how far they advanced, so a publisher's end-to-end window works whichever worker owns its
 * subscribers.
 */
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { nowNs } from './clock.js';
import { HEADER_BYTES, readPub, readSeq, readTimeNs } from './header.js';
import { Histogram } from './histogram.js';
import { CTL, PHASE, WSTAT, type FromWorker, type ToWorker, type WorkerCounters, type WorkerInit } from './protocol.js';
import { SeqTracker } from './tracker.js';
import {
  ControlDecoder,
  DISCONNECT,
  encodeConnect,
  encodeSubscribe,
  frame,
  frameOut,
  neededLength,
  parsePublish,
  PINGREQ,
  PT,
  PublishTemplate,
  publishOut,
  writeAck,
} from './wire.js';

const init = workerData as WorkerInit;
const cfg = init.cfg;
const V = cfg.mqtt;
const P = cfg.pubs;
const ctl = new Int32Array(init.shared.ctl);
const pubSent = new Uint32Array(init.shared.pubSent);
const pubPos = new Uint32Array(init.shared.pubPos);
const wstat = new Uint32Array(init.shared.wstat);
const W0 = init.index * WSTAT.SIZE;
const TWO32 = 4294967296;
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

const C: WorkerCounters = {
  recv: 0,
  sent: 0,
  puback: 0,
  pubrec: 0,
  pubcomp: 0,
  badAck: 0,
  badPayload: 0,
  misrouted: 0,
  protoErr: 0,
  connFail: 0,
  connackFail: 0,
  subackFail: 0,
  disconnects: 0,
  skipped: 0,
  pingresp: 0,
  inflightEnd: 0,
  connected: 0,
  openAtEnd: 0,
  subscribed: 0,
  reads: 0,
  writes: 0,
};
const latH = new Histogram();
const sendLagH = new Histogram();
const connLatH = new Histogram();
const subLatH = new Histogram();
let acked = 0;
let inflightTotal = 0;
let firstRx = 0;
let lastRx = 0;
let failed = false;
let finishing = false;

function fail(reason: string): void {
  if (failed || finishing) return;
  failed = true;
  Atomics.store(ctl, CTL.FAILED, 1);
  post({ type: 'fail', index: init.index, reason });
}

const decoder = new ControlDecoder(V);
const readBuf = Buffer.allocUnsafe(256 * 1024);

const enum Role {
  Sub = 1,
  Pub = 2,
  Idle = 3,
  Subscriber = 4, // subscribe scenario: subscribes many filters
}
const enum St {
  Connecting = 0,
  WaitConnack = 1,
  WaitSuback = 2,
  Ready = 3,
  Closed = 4,
}

// ---- subscriber-side accounting (pub/sub scenarios)
const localSubs = init.subs.length;
const tracker = new SeqTracker(Math.max(1, localSubs * Math.max(1, P)));
const posLocal = new Float64Array(Math.max(1, P));
const dirtyFlag = new Uint8Array(Math.max(1, P));
const dirty: number[] = [];

class Conn {
  socket!: net.Socket;
  state: St = St.Connecting;
  rest: Buffer | null = null;
  tOpen = 0;
  /** queued acknowledgements: first byte and packet id */
  ackFirst: number[] = [];
  ackId: number[] = [];
  // publisher
  sent = 0;
  nextId = 1;
  inflight = 0;
  inflightMax = cfg.inflight;
  ids: Uint8Array | null = null;
  template: PublishTemplate | null = null;
  waitingDrain = false;
  nsubs = 0;
  rateK = 0;
  // subscriber
  stream0 = 0;
  // subscribe scenario
  subNext = 0;
  subDone = 0;
  subOutstanding = 0;
  subT: Map<number, number> | null = null;
  subMsgId = 1;

  constructor(
    readonly role: Role,
    /** global index within its role */
    readonly gi: number,
    /** local index within its role in this worker */
    readonly li: number,
  ) {}

  open(): void {
    this.tOpen = nowNs();
    const sub = this.role === Role.Sub;
    const s = net.connect({
      host: (sub && cfg.subHost) || cfg.host,
      port: sub && cfg.subPorts?.length ? cfg.subPorts[this.gi % cfg.subPorts.length]! : cfg.port,
      localAddress: cfg.localAddress,
      noDelay: true,
      onread: { buffer: readBuf, callback: (n: number) => this.onRead(n) },
    });
    this.socket = s;
    s.on('connect', () => {
      const r = this.role === Role.Sub ? 's' : this.role === Role.Pub ? 'p' : this.role === Role.Subscriber ? 'f' : 'c';
      C.writes++;
      const persistent = cfg.persistent && (this.role === Role.Sub || this.role === Role.Subscriber);
      s.write(encodeConnect(`jb${init.tag}${r}${this.gi}`, V, cfg.keepalive, persistent));
      this.state = St.WaitConnack;
    });
    s.on('drain', () => {
      if (this.waitingDrain) {
        this.waitingDrain = false;
        schedulePump();
      }
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (this.state === St.Connecting) connectFailed(this, `connect failed: ${err.code ?? err.message}`);
      else if (!finishing) fail(`socket error: ${err.code ?? err.message}`);
    });
    s.on('close', () => {
      const was = this.state;
      this.state = St.Closed;
      if (was === St.Connecting) return; // counted by 'error'
      if (!finishing) {
        C.disconnects++;
        if (was !== St.Ready) handshakeEnded(false);
        fail('broker closed a connection');
      }
    });
  }

  queueAck(first: number, id: number): void {
    this.ackFirst.push(first);
    this.ackId.push(id);
  }

  flushAcks(): void {
    const n = this.ackFirst.length;
    if (n === 0 || this.state === St.Closed) return;
    const b = Buffer.allocUnsafe(4 * n);
    for (let i = 0; i < n; i++) writeAck(b, i * 4, this.ackFirst[i]!, this.ackId[i]!);
    this.ackFirst.length = 0;
    this.ackId.length = 0;
    C.writes++;
    this.socket.write(b);
  }

  onRead(n: number): boolean {
    const t = nowNs();
    C.reads++;
    let data = readBuf;
    let end = n;
    if (this.rest) {
      data = Buffer.concat([this.rest, readBuf.subarray(0, n)]);
      end = data.length;
      this.rest = null;
    }
    const measuring = ctl[CTL.PHASE] === PHASE.MEASURE;
    let off = 0;
    while (off < end) {
      const len = frame(data, off, end);
      if (len === 0) break;
      if (len < 0) {
        C.protoErr++;
        fail('malformed remaining length from the broker');
        this.socket.destroy();
        return false;
      }
      const first = data[off]!;
      const body = off + frameOut.headerLength;
      const pend = off + len;
      switch (first >> 4) {
        case PT.PUBLISH:
          this.onPublish(data, first, body, pend, t, measuring);
          break;
        case PT.PUBACK:
        case PT.PUBREC:
        case PT.PUBCOMP:
          this.onAck(first >> 4, data, body, pend);
          break;
        case PT.PUBREL:
          if (pend - body >= 2) this.queueAck(0x70, (data[body]! << 8) | data[body + 1]!);
          else C.protoErr++;
          break;
        case PT.CONNACK:
        case PT.SUBACK:
          this.onControl(Buffer.from(data.subarray(off, pend)), t);
          break;
        case PT.PINGRESP:
          C.pingresp++;
          break;
        case PT.DISCONNECT:
          C.protoErr++;
          fail('the broker sent DISCONNECT');
          break;
        default:
          C.protoErr++;
      }
      off = pend;
    }
    if (off < end) {
      // keep the incomplete packet (readBuf is reused by the next read)
      const need = neededLength(data, off, end);
      if (need > 16 * 1024 * 1024 + 64) {
        fail('packet from the broker too large');
        this.socket.destroy();
        return false;
      }
      this.rest = Buffer.from(data.subarray(off, end));
    }
    this.flushAcks();
    if (localSubs > 0) afterSubscriberInput();
    if (this.role === Role.Pub) afterAcks();
    return true;
  }

  onPublish(data: Buffer, first: number, body: number, pend: number, t: number, measuring: boolean): void {
    const qos = (first >> 1) & 3;
    if (!parsePublish(data, body, pend, qos, V)) {
      C.protoErr++;
      return;
    }
    if (qos === 1) this.queueAck(0x40, publishOut.id);
    else if (qos === 2) this.queueAck(0x50, publishOut.id);
    if (this.role !== Role.Sub) {
      C.protoErr++;
      return;
    }
    C.recv++;
    if (firstRx === 0) firstRx = t;
    lastRx = t;
    const po = publishOut.payloadOffset;
    if (pend - po < HEADER_BYTES) {
      C.badPayload++;
      return;
    }
    const pub = readPub(data, po);
    const seq = readSeq(data, po);
    if (pub >= P || pend - po !== cfg.size || seq >= Atomics.load(pubSent, pub)) {
      C.badPayload++;
      return;
    }
    if (cfg.subMode === 'pertopic' && pub !== this.gi % P) {
      C.misrouted++;
      return;
    }
    const adv = tracker.record(this.stream0 + pub, seq);
    if (adv > 0) {
      posLocal[pub] += adv;
      if (dirtyFlag[pub] === 0) {
        dirtyFlag[pub] = 1;
        dirty.push(pub);
      }
    }
    if (measuring) {
      const ts = readTimeNs(data, po);
      if (t >= ts) latH.add(t - ts);
    }
  }

  onAck(type: number, data: Buffer, body: number, pend: number): void {
    if (this.role !== Role.Pub || pend - body < 2 || !this.ids) {
      C.protoErr++;
      return;
    }
    const id = (data[body]! << 8) | data[body + 1]!;
    const ids = this.ids;
    if ((ids[id >> 3]! & (1 << (id & 7))) === 0) {
      C.badAck++;
      return;
    }
    const reason = pend - body >= 3 ? data[body + 2]! : 0;
    if (type === PT.PUBREC) {
      C.pubrec++;
      if (reason >= 0x80) {
        C.badAck++;
        this.release(id);
      } else this.queueAck(0x62, id); // PUBREL; the id stays in flight until PUBCOMP
      return;
    }
    if (type === PT.PUBACK) C.puback++;
    else C.pubcomp++;
    if (reason >= 0x80) C.badAck++;
    this.release(id);
  }

  release(id: number): void {
    this.ids![id >> 3]! &= ~(1 << (id & 7));
    this.inflight--;
    inflightTotal--;
    acked++;
  }

  onControl(pk: Buffer, t: number): void {
    const p = decoder.decode(pk);
    if (!p) {
      C.protoErr++;
      fail('undecodable control packet from the broker');
      return;
    }
    if (p.cmd === 'connack') {
      if (this.state !== St.WaitConnack) {
        C.protoErr++;
        return;
      }
      const code = (V === 5 ? p.reasonCode : p.returnCode) ?? 0;
      if (code !== 0) {
        C.connackFail++;
        fail(`CONNACK refused (code ${code})`);
        this.socket.destroy();
        return;
      }
      const rm = p.properties?.receiveMaximum;
      if (rm && rm < this.inflightMax) this.inflightMax = rm;
      if (this.role === Role.Sub) {
        const filter = cfg.subMode === 'wild' ? `${cfg.prefix}/p/#` : `${cfg.prefix}/p/${this.gi % P}`;
        C.writes++;
        this.socket.write(encodeSubscribe(1, [filter], cfg.qos, V));
        this.state = St.WaitSuback;
      } else {
        this.state = St.Ready;
        connLatH.add(t - this.tOpen);
        handshakeEnded(true);
      }
      return;
    }
    if (p.cmd === 'suback') {
      const code = p.granted[0];
      const granted = typeof code === 'number' ? code : ((code as { qos?: number } | undefined)?.qos ?? 0x80);
      if (this.role === Role.Subscriber) {
        const t0 = this.subT?.get(p.messageId ?? 0);
        if (t0 !== undefined) {
          this.subT!.delete(p.messageId ?? 0);
          subLatH.add(t - t0);
        }
        if (granted >= 0x80) {
          C.subackFail++;
          fail('SUBACK failure');
        }
        this.subOutstanding--;
        this.subDone++;
        C.subscribed++;
        subscribeMore(this);
        return;
      }
      if (this.state !== St.WaitSuback) {
        C.protoErr++;
        return;
      }
      if (granted >= 0x80) {
        C.subackFail++;
        fail('SUBACK failure');
        return;
      }
      if (granted !== cfg.qos) {
        C.subackFail++;
        fail(`SUBACK granted QoS ${granted}, asked ${cfg.qos}`);
        return;
      }
      this.state = St.Ready;
      handshakeEnded(true);
      return;
    }
    C.protoErr++;
  }
}

// ---- connections of this worker
const conns: Conn[] = [];
const pubConns: Conn[] = [];
const subConns: Conn[] = [];
if (cfg.scenario === 'conn' || cfg.scenario === 'subscribe') {
  const role = cfg.scenario === 'conn' ? Role.Idle : Role.Subscriber;
  init.conns.forEach((gi, li) => conns.push(new Conn(role, gi, li)));
} else {
  init.subs.forEach((gi, li) => {
    const c = new Conn(Role.Sub, gi, li);
    c.stream0 = li * P;
    conns.push(c);
    subConns.push(c);
  });
  init.pubs.forEach((gi, li) => {
    const c = new Conn(Role.Pub, gi, li);
    c.template = new PublishTemplate(`${cfg.prefix}/p/${gi}`, cfg.qos, cfg.size, V);
    if (cfg.qos) c.ids = new Uint8Array(8192);
    c.nsubs = init.nsubsOf[gi] ?? 0;
    conns.push(c);
    pubConns.push(c);
  });
}

let opened = 0;
let handshaking = 0;
let ended = 0;
let connected = 0;
let reportedReady = false;

function openMore(): void {
  while (opened < conns.length && handshaking < init.conc && !finishing) {
    const c = conns[opened++]!;
    handshaking++;
    c.open();
  }
  maybeReady();
}

function handshakeEnded(ok: boolean): void {
  handshaking--;
  ended++;
  if (ok) connected++;
  C.connected = connected;
  openMore();
}

function connectFailed(_c: Conn, reason: string): void {
  C.connFail++;
  // an idle-connection run counts failures and goes on; a pub/sub run cannot
  if (cfg.scenario !== 'conn') fail(reason);
  handshakeEnded(false);
}

function maybeReady(): void {
  if (reportedReady || ended < conns.length) return;
  reportedReady = true;
  post({ type: 'ready', index: init.index, t: nowNs(), connected, failed: conns.length - connected });
}

// ---- subscriber progress -> shared memory
function afterSubscriberInput(): void {
  Atomics.store(wstat, W0 + WSTAT.RECV, C.recv >>> 0);
  Atomics.store(wstat, W0 + WSTAT.UNIQ, tracker.unique >>> 0);
  if (dirty.length === 0) return;
  for (const p of dirty) {
    Atomics.add(pubPos, p, posLocal[p]! % TWO32);
    posLocal[p] = 0;
    dirtyFlag[p] = 0;
  }
  dirty.length = 0;
  Atomics.add(ctl, CTL.WAKE, 1);
  // waking a thread is costly: only when a publisher is parked (it sets PARKED, then waits on
  // the WAKE value it saw before checking its window, so no bump can be missed)
  if (Atomics.load(ctl, CTL.PARKED) !== 0 && Atomics.exchange(ctl, CTL.PARKED, 0) !== 0) Atomics.notify(ctl, CTL.WAKE);
  if (pubConns.length > 0) schedulePump();
}

function afterAcks(): void {
  Atomics.store(wstat, W0 + WSTAT.ACKED, acked >>> 0);
  Atomics.store(wstat, W0 + WSTAT.INFLIGHT, inflightTotal >>> 0);
  if (cfg.rate === 0) schedulePump();
}

// ---- publishing
/** at saturation, a publisher refills its window only once this many messages fit (--batch) */
const minBatch = cfg.window > 0 ? Math.max(1, Math.min(cfg.window, cfg.batch > 0 ? cfg.batch : Math.floor(cfg.window / 8))) : 1;
const perPubLimit = Math.min(0xfffffff0, Math.max(1, Math.floor(cfg.count / Math.max(1, P))));
const publishing = () => {
  const ph = ctl[CTL.PHASE];
  return (ph === PHASE.WARMUP || ph === PHASE.MEASURE) && !failed;
};

function takeId(c: Conn): number {
  const ids = c.ids!;
  let id: number;
  do {
    id = c.nextId++;
    if (c.nextId > 65535) c.nextId = 1;
  } while (id === 0 || (ids[id >> 3]! & (1 << (id & 7))) !== 0);
  ids[id >> 3]! |= 1 << (id & 7);
  c.inflight++;
  inflightTotal++;
  return id;
}

/** What stopped a publisher in the last `allowance` call. */
const enum Blocked {
  No = 0,
  Limit = 1,
  Inflight = 2,
  Window = 3,
}
let blockedBy = Blocked.No;

/**
 * How many more messages publisher c may send now (saturation mode). Windows are refilled in
 * batches, so one write carries several messages: the end-to-end window once `minBatch` messages
 * fit, the QoS 1/2 inflight window once an eighth of it is free.
 */
function allowance(c: Conn): number {
  let n = perPubLimit - c.sent;
  blockedBy = n > 0 ? Blocked.No : Blocked.Limit;
  if (cfg.qos && n > 0) {
    const free = c.inflightMax - c.inflight;
    const batch = Math.max(1, c.inflightMax >> 3);
    n = Math.min(n, free >= batch || free >= n ? free : 0);
    if (n <= 0) blockedBy = Blocked.Inflight;
  }
  if (cfg.window > 0 && c.nsubs > 0 && n > 0) {
    // deliveries sent but not yet passed by the subscribers' positions (mod 2^32, as shared)
    const out = (((c.sent * c.nsubs) % TWO32) - Atomics.load(pubPos, c.gi) + TWO32) % TWO32;
    const room = cfg.window * c.nsubs - out;
    const msgs = room > 0 ? Math.ceil(room / c.nsubs) : 0;
    // refill in batches (one write for several messages), unless that is all that is left to send
    n = Math.min(n, msgs >= minBatch || msgs >= n ? msgs : 0);
    if (n <= 0) blockedBy = Blocked.Window;
  }
  return n;
}

// Atomics.waitAsync (V8, Node >= 16) is not in TypeScript's ES2023 lib
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

let pumpScheduled = false;
let waitingWake = false;
/**
 * Every subscriber lives in this worker: their reads call schedulePump directly, so a publisher
 * blocked by its window needs no cross-thread wake-up. Otherwise it parks on WAKE.
 */
const allSubsLocal = init.subs.length === cfg.subs;
const MAX_BATCH_BYTES = 64 * 1024;

function schedulePump(): void {
  if (pumpScheduled || cfg.rate > 0 || pubConns.length === 0) return;
  pumpScheduled = true;
  setImmediate(pump);
}

function pump(): void {
  pumpScheduled = false;
  if (!publishing()) return;
  const wakeSeen = Atomics.load(ctl, CTL.WAKE);
  let windowBlocked = false;
  let more = false;
  for (const c of pubConns) {
    if (c.state !== St.Ready || c.waitingDrain) continue;
    const tpl = c.template!;
    let n = allowance(c);
    if (n <= 0) {
      if (blockedBy === Blocked.Window) windowBlocked = true;
      continue;
    }
    const room = cfg.outHigh - c.socket.writableLength;
    if (room <= 0) continue;
    const byBytes = Math.max(1, Math.floor(Math.min(room, MAX_BATCH_BYTES) / tpl.length));
    if (n > byBytes) n = byBytes;
    const buf = Buffer.allocUnsafe(n * tpl.length);
    let ts = nowNs();
    for (let i = 0, off = 0; i < n; i++, off += tpl.length) {
      if ((i & 15) === 15) ts = nowNs();
      tpl.writeInto(buf, off, cfg.qos ? takeId(c) : 0, c.gi, c.sent + i, ts);
    }
    c.sent += n;
    C.sent += n;
    // publish the count before the bytes leave: a subscriber may see them at once
    Atomics.store(pubSent, c.gi, c.sent >>> 0);
    C.writes++;
    if (!c.socket.write(buf)) c.waitingDrain = true;
    else if (allowance(c) > 0) more = true; // cut short by the batch size
    else if (blockedBy === Blocked.Window) windowBlocked = true;
  }
  Atomics.store(wstat, W0 + WSTAT.SENT, C.sent >>> 0);
  Atomics.store(wstat, W0 + WSTAT.INFLIGHT, inflightTotal >>> 0);
  if (more) schedulePump();
  else if (windowBlocked && !allSubsLocal && !waitingWake) {
    // the subscribers that open the window may live in another worker: wait for their signal
    Atomics.store(ctl, CTL.PARKED, 1);
    const r = waitAsync(ctl, CTL.WAKE, wakeSeen, 20);
    if (r.async) {
      waitingWake = true;
      void r.value.then(() => {
        waitingWake = false;
        schedulePump();
      });
    } else schedulePump();
  }
}

// ---- paced publishing (fixed rate): slots t0 + k/rate, publisher k mod P
let t0 = 0;
let rateTimer: NodeJS.Timeout | null = null;
const slotNs = cfg.rate > 0 ? 1e9 / cfg.rate : 0;

function rateLoop(): void {
  rateTimer = null;
  if (!publishing()) return;
  const now = nowNs();
  const measuring = ctl[CTL.PHASE] === PHASE.MEASURE;
  let next = Number.POSITIVE_INFINITY;
  for (const c of pubConns) {
    const tpl = c.template!;
    let n = 0;
    let buf: Buffer | null = null;
    for (;;) {
      const due = t0 + c.rateK * slotNs;
      if (due > now) {
        if (due < next) next = due;
        break;
      }
      c.rateK += P;
      const ok = c.state === St.Ready && c.sent < perPubLimit && !(cfg.qos && c.inflight >= c.inflightMax) && c.socket.writableLength < cfg.outHigh;
      if (!ok) {
        C.skipped++;
        continue;
      }
      if (measuring) sendLagH.add(now - due);
      if (!buf) buf = Buffer.allocUnsafe(tpl.length * 4);
      if ((n + 1) * tpl.length > buf.length) {
        const nb = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(nb, 0, 0, n * tpl.length);
        buf = nb;
      }
      tpl.writeInto(buf, n * tpl.length, cfg.qos ? takeId(c) : 0, c.gi, c.sent, now);
      c.sent++;
      C.sent++;
      n++;
    }
    if (n > 0) {
      Atomics.store(pubSent, c.gi, c.sent >>> 0);
      C.writes++;
      c.socket.write(n * tpl.length === buf!.length ? buf! : buf!.subarray(0, n * tpl.length));
    }
  }
  Atomics.store(wstat, W0 + WSTAT.SENT, C.sent >>> 0);
  Atomics.store(wstat, W0 + WSTAT.INFLIGHT, inflightTotal >>> 0);
  const wait = next - nowNs();
  if (wait > 2e6) {
    // far away: an ordinary timer, waking a millisecond early for the fine wait below
    rateTimer = setTimeout(rateLoop, Math.floor((wait - 1e6) / 1e6));
  } else {
    // near: sleep precisely (this worker owns only publishers, so nothing waits on its loop
    // but acknowledgements), then let the event loop poll once and send
    if (wait > 20_000 && !cfg.spin) Atomics.wait(ctl, CTL.SLEEP, 0, (wait - 10_000) / 1e6);
    setImmediate(rateLoop);
  }
}

// ---- subscribe scenario
function subscribeMore(c: Conn): void {
  while (c.subNext < cfg.topics && c.subOutstanding < Math.max(1, cfg.window) && c.state === St.Ready) {
    const id = c.subMsgId;
    c.subMsgId = c.subMsgId >= 65535 ? 1 : c.subMsgId + 1;
    (c.subT ??= new Map()).set(id, nowNs());
    C.writes++;
    c.socket.write(encodeSubscribe(id, [`${cfg.prefix}/s/${c.gi}/${c.subNext}`], cfg.qos, V));
    c.subNext++;
    c.subOutstanding++;
  }
  if (c.subDone === cfg.topics) {
    subscribersDone++;
    if (subscribersDone === conns.length) post({ type: 'subscribed', index: init.index, t: nowNs() });
  }
}
let subscribersDone = 0;

// ---- keepalive: a subscriber at QoS 0 never sends anything, so ping every keepalive / 2
const pingTimer = setInterval(
  () => {
    for (const c of conns)
      if (c.state === St.Ready) {
        C.writes++;
        c.socket.write(PINGREQ);
      }
  },
  Math.max(1000, cfg.keepalive * 500),
);
pingTimer.unref();

// ---- finishing
async function finish(): Promise<void> {
  finishing = true;
  if (rateTimer) clearTimeout(rateTimer);
  clearInterval(pingTimer);
  C.inflightEnd = inflightTotal;
  const closing: Promise<void>[] = [];
  for (const c of conns) {
    if (!c.socket || c.state === St.Closed) continue;
    C.openAtEnd++;
    const s = c.socket;
    closing.push(new Promise<void>((resolve) => s.once('close', () => resolve())));
    if (c.state === St.Ready) s.end(DISCONNECT);
    else s.destroy();
  }
  // per stream: what its publisher sent and the subscriber never saw
  let lost = 0;
  for (const c of subConns) {
    if (cfg.subMode === 'wild') for (let p = 0; p < P; p++) lost += tracker.lost(c.stream0 + p, Atomics.load(pubSent, p));
    else {
      const p = c.gi % P;
      lost += tracker.lost(c.stream0 + p, Atomics.load(pubSent, p));
    }
  }
  const st = tracker.stats();
  post({
    type: 'result',
    index: init.index,
    counters: C,
    received: st.received,
    unique: st.unique,
    duplicates: st.duplicates,
    outOfOrder: st.outOfOrder,
    gaps: st.gaps,
    lost,
    lat: latH.toData(),
    sendLag: sendLagH.toData(),
    connLat: connLatH.toData(),
    subLat: subLatH.toData(),
    firstRx,
    lastRx,
  });
  const timeout = new Promise<void>((r) => setTimeout(r, 2000).unref());
  await Promise.race([Promise.all(closing), timeout]);
  for (const c of conns) if (c.socket && !c.socket.destroyed) c.socket.destroy();
  // nothing left to keep this thread alive: it exits
  port.close();
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'start') {
    t0 = m.t0;
    if (cfg.scenario === 'subscribe') {
      for (const c of conns) subscribeMore(c);
      if (conns.length === 0) post({ type: 'subscribed', index: init.index, t: nowNs() });
    } else if (cfg.rate > 0) {
      for (const c of pubConns) c.rateK = c.gi;
      if (pubConns.length > 0) rateLoop();
    } else schedulePump();
  } else if (m.type === 'connect') openMore();
  else if (m.type === 'finish' && !finishing) void finish();
});

post({ type: 'booted', index: init.index });
