import { describe, expect, it } from 'vitest';
import { backupStoreAccessRefusal } from './backup-store-access.js';
import type { CommandSpec, CommandState } from './command.js';

const request = { node: 'n1', store: 'default', command: 'shop-7' };
const spec: CommandSpec = { site: 'shop', node: 'n1', fence: 7, operation: 'BackupSite', generation: 1, backup: 'shop-b1', store: 'default' };

describe('backupStoreAccessRefusal', () => {
  it.each<[string, { spec: CommandSpec; state: CommandState } | undefined, string | undefined]>([
    ['a pending backup of this node naming the store', { spec, state: 'PENDING' }, undefined],
    ['a dispatched backup', { spec, state: 'DISPATCHED' }, undefined],
    ['a running restore', { spec: { ...spec, operation: 'RestoreSite' }, state: 'RUNNING' }, undefined],
    ['a dispatched clone naming the store', { spec: { ...spec, operation: 'CloneSite' }, state: 'DISPATCHED' }, undefined],
    ['a clone naming another store', { spec: { ...spec, operation: 'CloneSite', store: 'offsite' }, state: 'RUNNING' }, 'command shop-7 does not use backup store default'],
    ["another node's clone", { spec: { ...spec, operation: 'CloneSite', node: 'n2' }, state: 'RUNNING' }, 'command shop-7 is not for node n1'],
    ['a finished clone', { spec: { ...spec, operation: 'CloneSite' }, state: 'SUCCEEDED' }, 'command shop-7 is SUCCEEDED, no longer in flight'],
    ['no such command', undefined, 'command shop-7 does not exist'],
    ["another node's command", { spec: { ...spec, node: 'n2' }, state: 'RUNNING' }, 'command shop-7 is not for node n1'],
    ['a provision', { spec: { ...spec, operation: 'ProvisionSite' }, state: 'RUNNING' }, 'command shop-7 is a ProvisionSite, not a backup, restore or clone'],
    ['a deploy', { spec: { ...spec, operation: 'DeploySite' }, state: 'RUNNING' }, 'command shop-7 is a DeploySite, not a backup, restore or clone'],
    ['another store', { spec: { ...spec, store: 'offsite' }, state: 'RUNNING' }, 'command shop-7 does not use backup store default'],
    ['a command without a store', { spec: { ...spec, store: undefined }, state: 'RUNNING' }, 'command shop-7 does not use backup store default'],
    ['a finished backup', { spec, state: 'SUCCEEDED' }, 'command shop-7 is SUCCEEDED, no longer in flight'],
    ['a failed backup', { spec, state: 'FAILED' }, 'command shop-7 is FAILED, no longer in flight'],
    ['a stalled backup', { spec, state: 'STALLED' }, 'command shop-7 is STALLED, no longer in flight'],
  ])('%s', (_case, command, refusal) => {
    expect(backupStoreAccessRefusal(request, command)).toBe(refusal);
  });
});
