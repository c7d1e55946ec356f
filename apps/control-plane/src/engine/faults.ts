import type { FaultPoint } from '@pressluft/platform';

/**
 * Fault injection for the crash tests: PRESSLUFT_FAULT=<point> makes the process SIGKILL
 * itself when it reaches that point. Unset in production; read once at start. The point names live in libs/platform.
 */
const armed = process.env['PRESSLUFT_FAULT'];

export function faultPoint(point: FaultPoint): void {
  if (armed === point) process.kill(process.pid, 'SIGKILL');
}
