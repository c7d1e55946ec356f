import { Agent } from '../agent.js';

/**
 * The real Agent that can die mid-command as a killed process does: no more timers, the bus
 * connection dropped without acking anything, commands in flight abandoned where they are. Only
 * the fence store and JetStream remember; a new Agent on the same fence store is the restart.
 */
export class CrashingAgent extends Agent {
  async crash(): Promise<void> {
    this.running = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.nc?.close();
  }
}
