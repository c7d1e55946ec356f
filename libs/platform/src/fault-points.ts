/**
 * The points where PRESSLUFT_FAULT=<point> makes the control plane SIGKILL itself (the crash
 * tests); named here because the tests that set the variable spawn the process from outside.
 */
export const FAULT_POINTS = ['after-command-commit', 'after-publish', 'during-ingest'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];
