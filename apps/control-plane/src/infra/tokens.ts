/** Injection tokens for values the control plane's adapters share. */
export const CONFIG = Symbol('ControlPlaneConfig');
export const LOGGER = Symbol('Logger');
export const CLOCK = Symbol('Clock');

/** Time as the control plane sees it; tests may pin it. */
export interface Clock {
  now(): Date;
}
