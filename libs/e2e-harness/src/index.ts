// Pressluft's own processes for integration and end-to-end tests and the benchmarks: the compiled
// control plane as replicas, the whole stack with real agents, a test agent on the bus, and
// clients for the API and enrollment. Test code only: no app may import it (eslint.config.mjs).
export { api, type ApiRequest, type ApiResponse } from './api-client.js';
export { changeCommittedWithAudit, committedWithAudit } from './audit-check.js';
export {
  ControlPlaneProcesses,
  ControlPlaneReplica,
  EngineScenario,
  FAST_ENGINE_ENV,
  nodeManifest,
  siteManifest,
  until,
  V1,
  type ApiObject,
  type CommandRow,
  type LeaseRow,
  type ReplicaOptions,
} from './control-plane.process.js';
export { callBackupStoreAccess, callEnroll, callRenew, callSiteSecretAccess, type CallResult, type ClientIdentity } from './enrollment-client.js';
export { writeKubeconfig, type KubeconfigOptions } from './kubeconfig.js';
export { NodeStack, type AgentProcess } from './node-stack.js';
export { SiteShell } from './site-shell.js';
export { TestAgent, type AgentBehaviour, type ReceivedCommand } from './test-agent.js';
export { artifactsDir, ConsoleBrowser, consoleDir, ensureConsoleBuilt, type AxeViolation } from './console-browser.js';
