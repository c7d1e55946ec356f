/** Injection tokens for values the control plane's adapters share. */
export const CONFIG = Symbol('ControlPlaneConfig');
export const LOGGER = Symbol('Logger');
export const PG_POOL = Symbol('PgPool');
