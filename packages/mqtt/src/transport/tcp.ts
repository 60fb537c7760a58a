import { createServer } from 'node:net';
import type { AdapterContext } from '@junction/broker-core';
import type { TcpListenerConfig } from '../config.js';
import { StreamListener } from './listener.js';

const NO_EXTRA = Object.freeze({});

/** Plain TCP listener (EMQX default 1883). */
export function createTcpListener(name: string, config: TcpListenerConfig, ctx: AdapterContext): StreamListener {
  return new StreamListener('tcp', name, config, ctx, (onSocket) => createServer({ noDelay: true }, (s) => onSocket(s, NO_EXTRA)));
}
