/**
 * @junction/cluster/testing: what tests of a cluster of gateway processes read from outside.
 */
import { connect, type KV } from 'nats';
import { ClientRegistry, type RegistryEntry } from '../registry.js';

/** The client registry's entry for `clientId`, read through a connection of its own. */
export async function readRegistryEntry(servers: string[], clientId: string, prefix = 'junction'): Promise<RegistryEntry | undefined> {
  const nc = await connect({ servers });
  try {
    const kv = (await nc.jetstream().views.kv(`${prefix}_clients`, { bindOnly: true })) as KV;
    return (await new ClientRegistry(kv).read(clientId)).entry;
  } finally {
    await nc.close();
  }
}
