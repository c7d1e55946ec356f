import type { HostBackupRequest, StepReporter } from '@pressluft/agent-runtime';
import type { BackupResult } from '@pressluft/proto';
import type { HostContext } from '../site-support.js';

/** A site's backup (issue 17: being built; fails until then). */
export function backupSite(_ctx: HostContext, request: HostBackupRequest, _report: StepReporter): Promise<BackupResult> {
  return Promise.reject(new Error(`backup of site ${request.name}: not built on this node yet`));
}
