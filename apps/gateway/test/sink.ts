/** A writable stream that keeps what is written, for asserting on output. */
import { Writable } from 'node:stream';

export interface Sink {
  readonly stream: Writable;
  text(): string;
  /** The output parsed as one JSON object per line. */
  json(): Record<string, unknown>[];
}

export function sink(): Sink {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    json: () =>
      text()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
