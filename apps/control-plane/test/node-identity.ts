import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateStatus, type CommandSpec, type CommandState } from '@pressluft/domain';
import type { ClientIdentity } from '@pressluft/e2e-harness';
import { issueCertificate, newSerialNumber, verifyClientCertificate, type PemPair } from '@pressluft/platform';
import { pgQuery } from '@pressluft/testing';
import { ResourceStore } from '../src/resources/resource.store.js';
import type { ControlPlaneFixture } from './control-plane.fixture.js';

/** What a NodeService test needs of a fixture started with grpc: its CA, and nodes with certificates and commands. */
export interface NodeIdentities {
  readonly caPem: string;
  readonly ca: PemPair;
  /** A node certificate from the control plane's CA, recorded as the node's current one (the one before stays valid, as after a Renew). */
  certify(node: string): Promise<ClientIdentity>;
  /** A Command object as the engine would have issued it. */
  command(name: string, spec: CommandSpec, state: CommandState): Promise<void>;
}

export function nodeIdentities(fx: ControlPlaneFixture): NodeIdentities {
  const caPem = readFileSync(join(fx.pkiDir, 'ca.pem'), 'utf8');
  const ca = { cert: caPem, key: readFileSync(join(fx.pkiDir, 'ca-key.pem'), 'utf8') };
  const resources = fx.plane.app.get(ResourceStore);
  return {
    caPem,
    ca,
    async certify(node) {
      // An enrollment lives only as long as its Node (the bus convergence removes the others).
      await resources.transaction(async (tx) => {
        const status = validateStatus('Node', {});
        if (!status.ok) throw new Error('the empty Node status does not validate');
        if (!(await tx.get('Node', node))) {
          await tx.create({ kind: 'Node', name: node, labels: {}, annotations: {}, finalizers: [], spec: { provider: 'static' }, status: status.value, generation: 1 }, new Date());
        }
      });
      const identity = await issueCertificate(ca, { commonName: `node:${node}`, usage: 'client', validityDays: 1, serialNumber: newSerialNumber() });
      const { serialNumber: serial } = await verifyClientCertificate(caPem, identity.cert, new Date());
      await pgQuery(
        fx.database.url,
        `INSERT INTO node_enrollments (node, serial, previous_serial, not_after, agent_version, enrolled_at, renewed_at)
         VALUES ($1, $2, NULL, now() + interval '1 day', 'test', now(), NULL)
         ON CONFLICT (node) DO UPDATE SET serial = EXCLUDED.serial, previous_serial = node_enrollments.serial`,
        [node, serial],
      );
      return identity;
    },
    async command(name, spec, state) {
      await resources.transaction(async (tx) => {
        await tx.create({ kind: 'Command', name, labels: {}, annotations: {}, finalizers: [], spec, status: { state, log: [], lastSequence: 0 }, generation: 1 }, new Date());
      });
    },
  };
}
