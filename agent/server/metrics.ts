// The node gauges of the agent's /metrics (CPU, memory, disk), computed on scrape, and the
// endpoint's own request counter. They live in a registry of their own, merged at each scrape
// with the registry where the rest of the agent registers skiff_agent_* metrics.

import { Counter, Gauge, Registry } from 'prom-client';
import type { NodeCpuSampler } from './nodeusage.js';
import { readFilesystem, readMemory } from './nodeusage.js';

export class NodeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'path' | 'code'>;

  constructor(cpu: NodeCpuSampler, filesystemPath: string) {
    const registers = [this.registry];
    new Gauge({
      name: 'skiff_agent_node_cpu_usage_cores',
      help: 'CPU in use on the node, in cores, averaged over the last sampling window.',
      registers,
      collect() {
        const usage = cpu.usage;
        if (usage) this.set(usage.usageNanoCores / 1e9);
      },
    });
    const memory = new Gauge({
      name: 'skiff_agent_node_memory_bytes',
      help: 'Node memory by state: capacity, available, working_set (capacity minus available).',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const m = await readMemory();
        memory.set({ state: 'capacity' }, m.capacityBytes);
        memory.set({ state: 'available' }, m.availableBytes);
        memory.set({ state: 'working_set' }, m.workingSetBytes);
      },
    });
    const filesystem = new Gauge({
      name: 'skiff_agent_node_filesystem_bytes',
      help: "The agent's filesystem by state: capacity, available (to unprivileged users), used.",
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const fs = await readFilesystem(filesystemPath);
        filesystem.set({ state: 'capacity' }, fs.capacityBytes);
        filesystem.set({ state: 'available' }, fs.availableBytes);
        filesystem.set({ state: 'used' }, fs.usedBytes);
      },
    });
    this.requests = new Counter({
      name: 'skiff_agent_server_requests_total',
      help: "Requests to the agent's HTTPS endpoint by route and HTTP status code.",
      labelNames: ['path', 'code'] as const,
      registers,
    });
  }

  /** Text exposition of these metrics together with the agent's. */
  async exposition(agentRegistry: Registry | undefined): Promise<{ contentType: string; text: string }> {
    const merged = agentRegistry ? Registry.merge([agentRegistry, this.registry]) : this.registry;
    return { contentType: merged.contentType, text: await merged.metrics() };
  }
}
