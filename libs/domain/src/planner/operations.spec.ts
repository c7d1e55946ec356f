import { describe, expect, it } from 'vitest';
import { COMMAND_OPERATIONS, COMMAND_STATES, TERMINAL_COMMAND_STATES, type CommandOperation, type CommandState } from '../command.js';
import { IN_FLIGHT_COMMAND_STATES, OPERATION_PHASE, isDestructive, stalledCommand } from './operations.js';

describe('isDestructive', () => {
  it.each<[CommandOperation, boolean]>([
    ['ProvisionSite', false],
    ['DeploySite', false],
    ['RollbackSite', false],
    ['BackupSite', false],
    ['CloneSite', true],
    ['RestoreSite', true],
    ['DeleteSite', true],
  ])('%s is destructive: %s', (operation, destructive) => {
    expect(isDestructive(operation)).toBe(destructive);
  });

  it('covers every operation', () => {
    for (const operation of COMMAND_OPERATIONS) expect(typeof isDestructive(operation)).toBe('boolean');
    expect(Object.keys(OPERATION_PHASE).sort()).toEqual([...COMMAND_OPERATIONS].sort());
  });
});

describe('command states', () => {
  it('splits every state into in flight, stalled or terminal', () => {
    for (const state of COMMAND_STATES) {
      const kinds = [IN_FLIGHT_COMMAND_STATES.includes(state), state === 'STALLED', TERMINAL_COMMAND_STATES.includes(state)];
      expect(kinds.filter(Boolean), state).toHaveLength(1);
    }
  });
});

describe('stalledCommand', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const WINDOW = 120_000;
  const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

  it.each<[string, { state: CommandState; lastHeartbeat?: string; startedAt?: string; dispatchedAt?: string }, boolean]>([
    ['a running command with a recent heartbeat', { state: 'RUNNING', lastHeartbeat: ago(10_000), startedAt: ago(3_600_000) }, false],
    ['a running command silent past the window', { state: 'RUNNING', lastHeartbeat: ago(WINDOW + 1), startedAt: ago(3_600_000) }, true],
    ['a running command silent exactly the window', { state: 'RUNNING', lastHeartbeat: ago(WINDOW) }, false],
    ['a running command without heartbeats, started recently', { state: 'RUNNING', startedAt: ago(30_000) }, false],
    ['a running command without heartbeats, started long ago', { state: 'RUNNING', startedAt: ago(WINDOW * 2) }, true],
    ['a dispatched command never picked up', { state: 'DISPATCHED', dispatchedAt: ago(WINDOW * 3) }, true],
    ['a dispatched command picked up recently', { state: 'DISPATCHED', dispatchedAt: ago(WINDOW * 3), startedAt: ago(5_000) }, false],
    ['the newest sign of life counts, whatever its field', { state: 'RUNNING', lastHeartbeat: ago(WINDOW * 5), startedAt: ago(1_000) }, false],
    ['a command with no timestamp cannot be judged', { state: 'RUNNING' }, false],
    ['an unparseable timestamp is ignored', { state: 'RUNNING', lastHeartbeat: 'yesterday', startedAt: ago(WINDOW * 2) }, true],
    ['a pending command (still in the outbox)', { state: 'PENDING', startedAt: ago(WINDOW * 10) }, false],
    ['a succeeded command', { state: 'SUCCEEDED', startedAt: ago(WINDOW * 10) }, false],
    ['a failed command', { state: 'FAILED', lastHeartbeat: ago(WINDOW * 10) }, false],
    ['a rejected command', { state: 'REJECTED', lastHeartbeat: ago(WINDOW * 10) }, false],
    ['an already stalled command', { state: 'STALLED', lastHeartbeat: ago(WINDOW * 10) }, false],
  ])('%s -> %s', (_name, command, stalled) => {
    expect(stalledCommand(command, now, WINDOW)).toBe(stalled);
  });
});
