/**
 * A hub nats-server with JetStream and a leafnode listener, and leaf nats-servers WITHOUT
 * JetStream connected to it: where replicant nodes connect. Temp dirs and free loopback ports;
 * `stop()` kills the processes and removes the dirs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, natsServerBinary } from '@junction/test-servers';

export interface HubAndLeaves {
  readonly hubUrl: string;
  /** The hub's JetStream domain. */
  readonly domain: string;
  readonly leafUrls: string[];
  stop(): Promise<void>;
}

export async function startHubAndLeaves(leaves = 1): Promise<HubAndLeaves> {
  const root = mkdtempSync(join(tmpdir(), 'junction-leaf-'));
  const procs: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const [hubPort, leafListen] = [await freePort(), await freePort()];
    procs.push(
      await server(root, 'hub', [
        'server_name: hub',
        `listen: "127.0.0.1:${hubPort}"`,
        // A domain: leaf clients reach this JetStream as `$JS.hub.API` (`cluster.jetstream_domain`).
        `jetstream { domain: hub, store_dir: "${join(root, 'hub')}", max_memory_store: 64MB, max_file_store: 256MB }`,
        `leafnodes { listen: "127.0.0.1:${leafListen}" }`,
      ]),
    );
    const leafUrls: string[] = [];
    for (let i = 0; i < leaves; i++) {
      const port = await freePort();
      // No `jetstream` block: this server has none; JetStream requests go through the hub.
      procs.push(await server(root, `leaf${i}`, [`server_name: leaf${i}`, `listen: "127.0.0.1:${port}"`, `leafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${leafListen}" } ] }`], 'Leafnode connection created'));
      leafUrls.push(`nats://127.0.0.1:${port}`);
    }
    return { hubUrl: `nats://127.0.0.1:${hubPort}`, domain: 'hub', leafUrls, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function server(root: string, name: string, lines: string[], readyText = 'Server is ready'): Promise<ChildProcess> {
  const file = join(root, `${name}.conf`);
  writeFileSync(file, lines.join('\n'));
  const proc = spawn(natsServerBinary(), ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => fail(new Error(`nats-server ${name} not ready: ${log}`)), 10_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(err);
    };
    proc.stderr!.on('data', (d: Buffer) => {
      if (log.length < 20_000) log += d.toString();
      if (log.includes(readyText)) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    proc.once('exit', (code) => fail(new Error(`nats-server ${name} exited ${code}: ${log}`)));
  });
}
