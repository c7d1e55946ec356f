import type { HostRestoreRequest, ReleasesResult, StepReporter } from '@pressluft/agent-runtime';
import type { HostContext } from '../site-support.js';

/** A restore (issue 17: being built; fails until then). */
export function restoreSite(_ctx: HostContext, request: HostRestoreRequest, _report: StepReporter): Promise<ReleasesResult> {
  return Promise.reject(new Error(`restore of site ${request.site.name}: not built on this node yet`));
}
