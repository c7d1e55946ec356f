import type { HostRestoreRequest, ProvisionResult, ReleasesResult, StepReporter } from '@pressluft/agent-runtime';
import type { HostContext } from '../site-support.js';

/** CloneSite: provision the new site, then restore the source's backup into it (issue 19). */
export function cloneSite(context: HostContext, request: HostRestoreRequest, report: StepReporter): Promise<ProvisionResult & ReleasesResult> {
  void context;
  void request;
  void report;
  return Promise.reject(new Error('not implemented: cloneSite'));
}
