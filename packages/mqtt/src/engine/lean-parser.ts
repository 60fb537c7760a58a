import mqtt from 'mqtt-packet';
import { ByteList } from './byte-list.js';

/** The parts of mqtt-packet's Parser (9.0.x, pinned in package.json) this module relies on. */
interface ParserInternals {
  packet: unknown;
  error: Error | null;
  _list: unknown;
  _stateCounter: number;
  parser(opts?: object): mqtt.Parser;
}

// mqtt-packet exports its Parser class and Packet class only through instances.
const sample = mqtt.parser() as unknown as ParserInternals;
const ParserBase = sample.constructor as new () => ParserInternals;
const PacketClass = (sample.packet as object).constructor as new () => unknown;

/**
 * mqtt-packet's parser over a {@link ByteList} instead of `bl`'s stream (see byte-list.ts): the
 * same state machine and packets, without a readable-stream Duplex per connection and a Buffer
 * per byte read.
 */
class LeanParser extends ParserBase {
  /** Replaces Parser#_resetState (run at creation and after a parse error). */
  _resetState(): void {
    this.packet = new PacketClass();
    this.error = null;
    this._list = new ByteList();
    this._stateCounter = 0;
  }

  /** Between packets: no bytes of a packet begun are buffered. */
  idle(): boolean {
    return this._stateCounter === 0 && (this._list as ByteList).length === 0;
  }
}

/** mqtt-packet's parser, telling whether it is between packets. */
export type ConnectionParser = mqtt.Parser & { idle(): boolean };

/** A new packet parser for one connection. */
export function createParser(): ConnectionParser {
  return new LeanParser().parser() as unknown as ConnectionParser;
}
