/**
 * Fault injection for the crash tests: PRESSLUFT_FAULT=<point> makes the process SIGKILL
 * itself when it reaches that point. Unset in production; read once at start.
 */
export const FAULT_POINTS = ['after-command-commit', 'after-publish', 'during-ingest'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

const armed = process.env['PRESSLUFT_FAULT'];

export function faultPoint(point: FaultPoint): void {
  if (armed === point) process.kill(process.pid, 'SIGKILL');
}
