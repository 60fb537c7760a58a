/**
 * MQTT topic <-> NATS subject, reversible.
 *
 * Each MQTT level becomes one NATS token. A token keeps `A-Z a-z 0-9 -` and writes every other
 * UTF-8 byte as `_` + two upper-case hex digits, so `.`, spaces, `*`, `>`, `$`, `_` and non-ASCII
 * never reach NATS raw; an empty level (which NATS cannot carry) is the lone token `_`, which no
 * escaped level can be. Topics starting with `$` live under their own subject space (`d`), the
 * others under `t`: MQTT wildcards at the first level never match `$` topics [MQTT-4.7.2-1], and
 * a filter starting with a wildcard is subscribed under `t` only.
 *
 *   a/b.c/  ->  {prefix}.t.a.b_2Ec._        $aws/x  ->  {prefix}.d._24aws.x
 *   +/x/#   ->  {prefix}.t.*.x.> and {prefix}.t.*.x   (`a/#` also matches `a` [MQTT-4.7.1-2])
 */

const HEX = '0123456789ABCDEF';
const SAFE = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  SAFE[c] = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d ? 1 : 0;
}
const EMPTY = '_';

/** Thrown for a subject that no topic encodes to. */
export class SubjectDecodeError extends Error {
  constructor(subject: string, why: string) {
    super(`not a Junction message subject ${JSON.stringify(subject)}: ${why}`);
    this.name = 'SubjectDecodeError';
  }
}

/** One MQTT level as one NATS token. */
export function encodeLevel(level: string): string {
  if (level.length === 0) return EMPTY;
  let plain = true;
  for (let i = 0; i < level.length; i++) {
    const c = level.charCodeAt(i);
    if (c >= 128 || SAFE[c] === 0) {
      plain = false;
      break;
    }
  }
  if (plain) return level;
  let out = '';
  for (const b of Buffer.from(level, 'utf8')) {
    out += b < 128 && SAFE[b] === 1 ? String.fromCharCode(b) : '_' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** Inverse of {@link encodeLevel}. */
export function decodeLevel(token: string): string {
  if (token === EMPTY) return '';
  if (!token.includes('_')) return token;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x5f) {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new SubjectDecodeError(token, 'bad escape');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function space(prefix: string, firstLevel: string): string {
  return firstLevel.charCodeAt(0) === 36 ? `${prefix}.d` : `${prefix}.t`;
}

/** The subject a topic name is published on. */
export function topicToSubject(prefix: string, topic: string): string {
  const levels = topic.split('/');
  let out = space(prefix, levels[0]!);
  for (const l of levels) out += '.' + encodeLevel(l);
  return out;
}

/** Inverse of {@link topicToSubject}. */
export function subjectToTopic(prefix: string, subject: string): string {
  if (!subject.startsWith(prefix + '.')) throw new SubjectDecodeError(subject, 'wrong prefix');
  const tokens = subject.slice(prefix.length + 1).split('.');
  const kind = tokens.shift();
  if ((kind !== 't' && kind !== 'd') || tokens.length === 0) throw new SubjectDecodeError(subject, 'no topic');
  const topic = tokens.map(decodeLevel).join('/');
  if ((topic.charCodeAt(0) === 36) !== (kind === 'd')) throw new SubjectDecodeError(subject, 'wrong subject space');
  return topic;
}

/**
 * The subjects that together match what a (plain, valid) MQTT filter matches: one, or two when
 * it ends in `#` after other levels (`a/#` is `a.>` plus `a`).
 */
export function filterToSubjects(prefix: string, filter: string): string[] {
  const levels = filter.split('/');
  const first = levels[0]!;
  let base = first === '+' || first === '#' ? `${prefix}.t` : space(prefix, first);
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l === '#') return i === 0 ? [`${base}.>`] : [`${base}.>`, base];
    base += '.' + (l === '+' ? '*' : encodeLevel(l));
  }
  return [base];
}
