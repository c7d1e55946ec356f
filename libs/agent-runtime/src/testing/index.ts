/** Test doubles for the agent runtime (never part of the production build). */
export { ScriptedHost, type ScriptedBehaviour, type ScriptedCall, type ScriptedOperation } from './scripted-host.js';
