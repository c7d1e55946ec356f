import type { HostCertificateOutcome, HostCertificateRequest, StepReporter } from '@pressluft/agent-runtime';
import type { AcmeOrder, CertificateResult, SiteConfig } from '@pressluft/proto';
import * as acme from 'acme-client';
import { CertificateProblem, inspectCertificate, renderMetadata, splitChain } from '../acme/certificate.js';
import { ensureAccount, recordAccount } from '../acme/account.js';
import { presentHttp01 } from '../acme/challenge-dir.js';
import { dnsProvider, DnsProviderUnavailable } from '../acme/dns-providers.js';
import { runOrder, type ChallengePresenter } from '../acme/order.js';
import { installCertificateFiles, removeCertificateFiles, type CertificateFiles } from '../acme/tls-files.js';
import { failsAs, messageOf, StepError, type StepName } from '../errors.js';
import { siteJail } from '../jail.js';
import { planSite, sitePaths, type SitePaths, type SitePlan } from '../naming.js';
import { reloadConfiguration } from '../nginx.js';
import { ensureSiteServerBlock } from '../site-server-block.js';
import { requireProvisioned, siteCgroup, type HostContext } from '../site-support.js';
import { StepRunner } from '../step-runner.js';
import { requireUser } from '../users.js';
import { ensureSiteUrl, siteUrl } from '../wordpress.js';

type Run = <T>(step: StepName, percent: number, fn: () => Promise<T>) => Promise<T>;

/**
 * IssueCertificate on this node. An ACME order (key and CSR made here, http-01 answered from the
 * root-owned challenge dir, dns-01 through the order's provider), a custom certificate, or removal.
 * A new certificate is checked (chain, key, validity, every domain) and installed beside the old
 * one, which stays until nginx serves the new set; then WordPress's home and siteurl follow the
 * scheme. The site keeps serving throughout: its tree, pool and release are never touched.
 */
export async function certify(ctx: HostContext, request: HostCertificateRequest, report: StepReporter): Promise<HostCertificateOutcome> {
  const steps = new StepRunner(report, ctx.logger, request.site.name);
  const run: Run = (step, percent, fn) => steps.run(step, percent, fn);
  if (request.source === 'acme' && request.dnsApiToken) steps.secrets.push(request.dnsApiToken);
  if (request.source === 'custom') steps.secrets.push(request.privateKeyPem);

  const { plan, paths, domains } = await run('validate', 2, async () => {
    const plan = planSite(request.site);
    const paths = sitePaths(ctx.settings, plan.name, plan.id);
    await requireProvisioned(paths, plan.name, plan.id);
    if (request.source !== 'remove' && !ctx.settings.nginx.tlsListen) {
      throw new StepError('validate', 'TlsUnavailable', `site ${plan.name}: this node serves no HTTPS (no TLS listener configured: PRESSLUFT_AGENT_SITES_TLS_LISTEN)`);
    }
    return { plan, paths, domains: request.source === 'acme' ? orderDomains(request.order, plan) : plan.domains };
  });

  switch (request.source) {
    case 'remove':
      // The block stops naming the files first (the site's tls.mode is off: HTTP only), so no
      // `nginx -t` of any site ever meets a block whose certificate is gone.
      await run('nginx', 30, () => ensureSiteServerBlock(ctx, { ...request.site, tls: { mode: 'off', redirect: false, hstsMaxAgeSeconds: 0, hstsIncludeSubdomains: false, hstsPreload: false } }, (line) => report.log(line)));
      await run('install', 60, async () => {
        await report.log((await removeCertificateFiles(ctx.settings, paths)) ? `tls: certificate of ${plan.name} removed` : `tls: ${plan.name} had no certificate`);
      });
      await followScheme(ctx, run, plan, paths, 'http', report);
      return { certificate: undefined };
    case 'custom': {
      const result = await run('certificate', 20, () => inspect(request.certificatePem, request.privateKeyPem, domains, 'custom'));
      await serve(ctx, run, request.site, plan, paths, { privateKeyPem: request.privateKeyPem, chainPem: chainText(request.certificatePem), metadata: renderMetadata(result) }, report);
      return { certificate: result };
    }
    case 'acme': {
      const issued = await run('acme', 10, () => order(ctx, request.order, domains, request.dnsApiToken, steps.secrets, report));
      const result = await run('certificate', 60, () => inspect(issued.chainPem, issued.privateKeyPem, domains, 'acme'));
      await serve(ctx, run, request.site, plan, paths, { ...issued, metadata: renderMetadata(result) }, report);
      return { certificate: result };
    }
  }
}

/** The order's domains: at least one, every one the site's (the node orders for nothing else), and its challenge type. */
function orderDomains(order: AcmeOrder, plan: SitePlan): readonly string[] {
  const domains = [...new Set(order.domains)];
  if (domains.length === 0) throw new StepError('validate', 'AcmeOrderInvalid', 'the ACME order names no domain');
  const foreign = domains.filter((domain) => !plan.domains.includes(domain));
  if (foreign.length > 0) throw new StepError('validate', 'AcmeOrderInvalid', `the ACME order names ${foreign.join(', ')}, not domains of site ${plan.name}`);
  if (!/^https:\/\/[^\s]+$/.test(order.directoryUrl)) throw new StepError('validate', 'AcmeOrderInvalid', `the ACME directory ${JSON.stringify(order.directoryUrl)} is not an https:// URL`);
  if (order.challenge !== 'http-01' && order.challenge !== 'dns-01') throw new StepError('validate', 'AcmeOrderInvalid', `ACME challenge ${JSON.stringify(order.challenge)} is not http-01 or dns-01`);
  return domains;
}

/** A chain as nginx reads it: its PEM certificates alone, one after another, each ending in a newline. */
function chainText(pem: string): string {
  return splitChain(pem)
    .map((block) => `${block}\n`)
    .join('');
}

function inspect(chainPem: string, privateKeyPem: string, domains: readonly string[], source: 'acme' | 'custom'): Promise<CertificateResult> {
  try {
    return Promise.resolve(inspectCertificate(chainPem, privateKeyPem, domains, source, new Date()));
  } catch (error) {
    if (error instanceof CertificateProblem) throw new StepError('certificate', 'CertificateInvalid', `${source} certificate refused: ${error.message}`);
    throw error;
  }
}

/** The order with the node's account for its directory; a new ECDSA P-256 key (never leaves the node) and its CSR. */
async function order(ctx: HostContext, order: AcmeOrder, domains: readonly string[], token: string | undefined, secrets: string[], report: StepReporter): Promise<{ privateKeyPem: string; chainPem: string }> {
  const challengeType = order.challenge as 'http-01' | 'dns-01';
  let present: ChallengePresenter;
  if (challengeType === 'http-01') {
    present = (_domain, challengeToken, keyAuthorization) => presentHttp01(ctx.settings, challengeToken, keyAuthorization);
  } else {
    try {
      const provider = dnsProvider(order.dnsProvider, ctx.settings.acme, token, order.dnsZone);
      present = (domain, _challengeToken, digest) => provider.present(domain, digest);
    } catch (error) {
      if (error instanceof DnsProviderUnavailable) throw new StepError('acme', 'DnsProviderUnavailable', error.message);
      throw error;
    }
  }
  const account = await ensureAccount(ctx.settings, order.directoryUrl);
  const key = await acme.crypto.createPrivateEcdsaKey('P-256');
  const privateKeyPem = key.toString();
  secrets.push(privateKeyPem, account.key);
  const [, csr] = await acme.crypto.createCsr({ commonName: domains[0] ?? '', altNames: [...domains] }, key);
  const issued = await runOrder({
    directoryUrl: order.directoryUrl,
    accountKey: account.key,
    accountUrl: account.url,
    email: order.email,
    domains,
    csr,
    challengeType,
    present,
    log: (line) => report.log(line),
    cleanupFailed: (error) => ctx.logger.warn({ err: messageOf(error) }, 'an ACME challenge answer could not be removed'),
  });
  if (issued.accountUrl !== account.url) await recordAccount(ctx.settings, order.directoryUrl, account, issued.accountUrl);
  await report.log(`acme: certificate for ${domains.join(', ')} issued`);
  return { privateKeyPem, chainPem: chainText(issued.chainPem) };
}

/**
 * Installs the set and serves it: the site's server block is rendered from the node's files; if
 * nginx refuses it, the previous set is put back (and served again) and nothing changed.
 */
async function serve(ctx: HostContext, run: Run, site: SiteConfig, plan: SitePlan, paths: SitePaths, files: CertificateFiles, report: StepReporter): Promise<void> {
  const pending = await run('install', 70, () => installCertificateFiles(ctx.settings, paths, files));
  await run('nginx', 80, async () => {
    try {
      // The same block names the same files: nginx reads the new ones only when it reloads.
      const changed = await ensureSiteServerBlock(ctx, site, (line) => report.log(line));
      if (!changed) await reloadConfiguration(ctx.settings.nginx.command, () => Promise.resolve(), `the certificate of ${plan.name}`);
    } catch (error) {
      await pending.undo();
      await ensureSiteServerBlock(ctx, site).catch((again: unknown) => ctx.logger.warn({ site: plan.name, err: messageOf(again) }, 'the previous certificate could not be served again'));
      throw error;
    }
  });
  await pending.commit();
  await report.log(`tls: ${paths.tlsCertificate} installed`);
  await followScheme(ctx, run, plan, paths, 'https', report);
}

/** WordPress's home and siteurl follow the scheme the site is served by (WP-CLI as the site user in its jail). */
async function followScheme(ctx: HostContext, run: Run, plan: SitePlan, paths: SitePaths, scheme: 'http' | 'https', report: StepReporter): Promise<void> {
  const url = siteUrl(plan.domains[0] ?? '', scheme);
  await run('wordpress', 90, () =>
    failsAs(
      'wordpress',
      'WordPressUrlFailed',
      (async () => {
        const owner = await requireUser(plan.account);
        const group = await siteCgroup(ctx, plan);
        const jail = await siteJail(ctx.settings, ctx.templatesDir, paths, { cgroupDirs: group?.dirs ?? [], cwd: paths.tmp, pidNamespace: true });
        const changed = await ensureSiteUrl(ctx.settings.wpCli, jail, ctx.templatesDir, paths, owner, url);
        await report.log(changed.length > 0 ? `wordpress: ${changed.join(' and ')} set to ${url}` : `wordpress: home and siteurl already ${url}`);
      })(),
    ),
  );
}
