/**
 * Which projects a project may import, by Nx tag (`nx.tags` in each package.json). The core
 * depends on nothing of ours; adapters only on the core (and, for transports of MQTT, on the MQTT
 * engine); apps and tools on anything.
 */
export const ALLOWED: Record<string, readonly string[]> = {
  'scope:core': [],
  'scope:adapter': ['scope:core', 'scope:mqtt-engine'],
  // Plugins (auth, rules, ...) extend the core through its hooks.
  'scope:plugin': ['scope:core'],
  // Stores implement the core's store interfaces.
  'scope:store': ['scope:core'],
  'scope:app': ['*'],
  'scope:tool': ['*'],
};
