/** Test doubles for the agent runtime (never part of the production build). */
export { CrashingAgent } from './crashing-agent.js';
export { ScriptedHost, type ScriptedBehaviour, type ScriptedCall, type ScriptedOperation } from './scripted-host.js';
