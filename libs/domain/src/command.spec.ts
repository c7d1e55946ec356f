import { describe, expect, it } from 'vitest';
import { COMMAND_STATES, commandStatusSchema, dispatchedCommandStatus, type CommandState } from './command.js';

const AT = '2026-11-29T12:00:00.000Z';
const status = (state: CommandState) => commandStatusSchema.parse({ state, lastSequence: 2, log: ['converge (50%)'] });

describe('dispatchedCommandStatus', () => {
  it('moves a PENDING command to DISPATCHED and stamps when, keeping the rest', () => {
    expect(dispatchedCommandStatus(status('PENDING'), AT)).toEqual({ ...status('PENDING'), state: 'DISPATCHED', dispatchedAt: AT });
  });

  it.each(COMMAND_STATES.filter((s) => s !== 'PENDING').map((s) => [s]))('leaves a %s command as it is (the same object: nothing to write)', (state) => {
    const before = status(state);
    expect(dispatchedCommandStatus(before, AT)).toBe(before);
  });

  it('produces a status the schema accepts', () => {
    expect(commandStatusSchema.safeParse(dispatchedCommandStatus(status('PENDING'), AT)).success).toBe(true);
  });
});
