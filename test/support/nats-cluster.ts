import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnListening } from './nats-server';

const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

export interface ClusterNode {
  name: string;
  url: string;
  child?: ChildProcess;
}

/** A private JetStream cluster of local nats-server nodes (test-only): private ports, temporary stores. */
export interface PrivateNatsCluster {
  /** Every node's client URL, comma-separated: what NATS_URL takes. */
  url: string;
  nodes: ClusterNode[];
  kill(name: string): void;
  dispose(): Promise<void>;
}

export async function startNatsCluster(size = 3): Promise<PrivateNatsCluster> {
  const clusterName = `cvt${process.pid}`;
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })));
  const storeDir = await mkdtemp(join(tmpdir(), 'converge-nats-cluster-'));
  const routes = ports.map((p) => `nats://127.0.0.1:${p.route}`).join(',');
  const nodes: ClusterNode[] = await Promise.all(
    ports.map(async ({ client, route }, i) => {
      const name = `${clusterName}-n${i + 1}`;
      const child = await spawnListening(
        NATS_SERVER_BIN,
        ['-a', '127.0.0.1', '-p', String(client), '-n', name, '-js', '-sd', join(storeDir, name),
          '--cluster_name', clusterName, '--cluster', `nats://127.0.0.1:${route}`, '--routes', routes],
        client,
      );
      return { name, url: `nats://127.0.0.1:${client}`, child };
    }),
  );
  return {
    url: nodes.map((n) => n.url).join(','),
    nodes,
    kill(name) {
      const node = nodes.find((n) => n.name === name);
      node?.child?.kill('SIGKILL');
      if (node) node.child = undefined;
    },
    async dispose() {
      await Promise.all(
        nodes.map(async (node) => {
          const child = node.child;
          node.child = undefined;
          if (!child || child.exitCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          await exited;
        }),
      );
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}
