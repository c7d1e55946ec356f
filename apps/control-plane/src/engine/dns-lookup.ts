import { Resolver } from 'node:dns/promises';
import type { DomainLookup } from '@pressluft/domain';

/** How long one query waits for an answer (one try: the controller looks again soon anyway). */
const QUERY_TIMEOUT_MS = 2000;
/** A name that does not exist or has no such record: an answer (no addresses), not a failure. */
const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

/** A domain's A and AAAA records through node:dns, from the given servers (none given: the system's). */
export class DnsLookup {
  private readonly resolver = new Resolver({ timeout: QUERY_TIMEOUT_MS, tries: 1 });

  constructor(servers: readonly string[]) {
    if (servers.length > 0) this.resolver.setServers([...servers]);
  }

  async lookup(name: string): Promise<DomainLookup> {
    const [v4, v6] = await Promise.all([this.query(() => this.resolver.resolve4(name)), this.query(() => this.resolver.resolve6(name))]);
    const error = [v4.error, v6.error].filter((e) => e !== undefined).join(', ');
    return { name, addresses: [...v4.addresses, ...v6.addresses].sort(), ...(error ? { error } : {}) };
  }

  /** Stops the queries in flight (the controller is stopping). */
  cancel(): void {
    this.resolver.cancel();
  }

  private async query(resolve: () => Promise<string[]>): Promise<{ addresses: string[]; error?: string }> {
    try {
      return { addresses: await resolve() };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      return NO_RECORDS.has(code) ? { addresses: [] } : { addresses: [], error: `${(error as { syscall?: string }).syscall ?? 'query'} ${code}` };
    }
  }
}
