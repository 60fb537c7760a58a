/**
 * The part of ocpp-rpc the gateway uses, with types of our own (its bundled declarations are
 * looser than this package compiles against). ocpp-rpc is CommonJS: its named exports are read
 * from the default export.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import ocppRpc from 'ocpp-rpc';

export interface RpcHandshake {
  readonly identity: string;
  /** The path before the identity. */
  readonly endpoint: string;
  /** Subprotocols the client offered, in its order. */
  readonly protocols: Set<string>;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  readonly request: IncomingMessage;
  readonly query: URLSearchParams;
}

export interface RpcCallContext {
  readonly messageId: string;
  readonly method: string;
  readonly params: unknown;
  readonly signal: AbortSignal;
}

export interface RpcServerClient extends EventEmitter {
  readonly identity: string;
  /** The subprotocol agreed; "" when none. */
  readonly protocol: string | undefined;
  readonly session: unknown;
  readonly handshake: RpcHandshake;
  handle(handler: (ctx: RpcCallContext) => unknown): void;
  call(method: string, params: unknown, options?: { callTimeoutMs?: number }): Promise<unknown>;
  close(options?: { code?: number; reason?: string; force?: boolean; awaitPending?: boolean }): Promise<unknown>;
}

export type RpcAuthCallback = (
  accept: (session?: unknown, protocol?: string | false) => void,
  reject: (code?: number, message?: string) => void,
  handshake: RpcHandshake,
  signal: AbortSignal,
) => void | Promise<void>;

export interface RpcServer extends EventEmitter {
  auth(cb: RpcAuthCallback): void;
  readonly handleUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;
  close(options?: { code?: number; reason?: string; force?: boolean; awaitPending?: boolean }): Promise<void>;
}

export interface RpcServerOptions {
  protocols: string[];
  /** Milliseconds between WebSocket pings from the server; 0 disables them. */
  pingIntervalMs: number;
  /** ws `WebSocketServer` options. */
  wssOptions: { maxPayload?: number };
}

export function createRpcServer(options: RpcServerOptions): RpcServer {
  // strictMode stays off: validation is done per direction by the charger state (schemas.ts),
  // with ocpp-rpc's own validators.
  return new ocppRpc.RPCServer({ ...options, strictMode: false, callConcurrency: 1, maxBadMessages: Infinity }) as unknown as RpcServer;
}

/** An error the charger sent as CALLERROR. */
export interface RpcErrorLike extends Error {
  rpcErrorCode: string;
  details?: unknown;
}

export function isRpcError(err: unknown): err is RpcErrorLike {
  return err instanceof ocppRpc.RPCError;
}

export function isRpcTimeout(err: unknown): boolean {
  return err instanceof ocppRpc.TimeoutError;
}

/** An error for ocpp-rpc to send as `[4, id, code, message, details]`. */
export function rpcError(code: string, message: string, details: unknown): Error {
  return ocppRpc.createRPCError(code, message, details as Record<string, unknown>) as Error;
}
