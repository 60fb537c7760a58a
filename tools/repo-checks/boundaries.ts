/**
 * Which projects a project may import, by Nx tag (`nx.tags` in each package.json). The core and
 * shared libraries depend on nothing of ours; adapters only on the core and libraries (and, for
 * transports of MQTT, on the MQTT engine); apps and tools on anything.
 */
export const ALLOWED: Record<string, readonly string[]> = {
  'scope:core': [],
  // Shared libraries (TLS, ...) depend on nothing of ours; everyone may use them.
  'scope:lib': [],
  'scope:adapter': ['scope:core', 'scope:mqtt-engine', 'scope:lib'],
  // Plugins (auth, rules, ...) extend the core through its hooks.
  'scope:plugin': ['scope:core', 'scope:lib'],
  // Stores implement the core's store interfaces.
  'scope:store': ['scope:core', 'scope:lib'],
  'scope:app': ['*'],
  'scope:tool': ['*'],
};
