import { peerCertIdentity, type PeerCertInfo } from '@junction/tls';
import type { IConnectPacket } from 'mqtt-packet';
import type { MqttOptions } from '../config.js';

/**
 * EMQX's `peer_cert_as_username` / `peer_cert_as_clientid`: a verified client certificate's CN,
 * DN, first SAN or MD5 replaces the CONNECT user name or client id before anything checks them.
 */
export function applyPeerCertIdentity(p: IConnectPacket, cert: Partial<PeerCertInfo> | undefined, o: MqttOptions): void {
  if (!cert) return;
  const username = peerCertIdentity(cert, o.peer_cert_as_username ?? 'disabled');
  if (username !== undefined) p.username = username;
  const clientId = peerCertIdentity(cert, o.peer_cert_as_clientid ?? 'disabled');
  if (clientId !== undefined) p.clientId = clientId;
}
