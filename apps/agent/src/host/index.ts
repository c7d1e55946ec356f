/** The node's host steps: what turns a SiteConfig into a WordPress site on this machine, and back. */
export { SiteHost, StepError, type ObservedHostSite, type ProvisionResult, type ReleasesResult, type StepReporter } from './site-host.js';
export type { HostSettings } from './settings.js';
