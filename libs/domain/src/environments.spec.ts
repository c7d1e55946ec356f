import { describe, expect, it } from 'vitest';
import { contentSyncRefusal, promotionRefusal, type EnvironmentRefusal } from './environments.js';
import { SITE_ENVIRONMENTS } from './site.js';

type Environment = (typeof SITE_ENVIRONMENTS)[number];
type Expected = Pick<EnvironmentRefusal, 'rule' | 'field'> & { says: string } | undefined;

const from = (environment: Environment) => ({ name: 'src', environment });
const to = (environment: Environment) => ({ name: 'dst', environment });

// Every (source environment x target environment) pair, for both kinds.
const CONTENT_SYNC: Array<[Environment, Environment, Expected]> = [
  ['production', 'staging', undefined],
  ['staging', 'staging', undefined],
  ['staging', 'production', { rule: 'NoContentIntoProduction', field: 'spec.to', says: 'never overwrite production content with staging data' }],
  ['production', 'production', { rule: 'NoContentIntoProduction', field: 'spec.to', says: 'content goes down only: site dst is production' }],
];

const PROMOTION: Array<[Environment, Environment, Expected]> = [
  ['staging', 'production', undefined],
  ['staging', 'staging', undefined],
  ['production', 'staging', { rule: 'NoPromotionToStaging', field: 'spec.to', says: 'code goes up only: site src is production and site dst is staging' }],
  ['production', 'production', { rule: 'NoPromotionFromProduction', field: 'spec.from', says: "a Promotion deploys a staging site's tested commit" }],
];

function check(refusal: EnvironmentRefusal | undefined, expected: Expected): void {
  if (!expected) {
    expect(refusal).toBeUndefined();
    return;
  }
  expect(refusal).toMatchObject({ rule: expected.rule, field: expected.field });
  expect(refusal?.message).toContain(expected.says);
}

describe('environment direction rules', () => {
  it('the tables cover every pair of environments', () => {
    const pairs = SITE_ENVIRONMENTS.flatMap((a) => SITE_ENVIRONMENTS.map((b) => `${a}>${b}`)).sort();
    expect(CONTENT_SYNC.map(([a, b]) => `${a}>${b}`).sort()).toEqual(pairs);
    expect(PROMOTION.map(([a, b]) => `${a}>${b}`).sort()).toEqual(pairs);
  });

  it.each(CONTENT_SYNC)('ContentSync %s -> %s', (source, target, expected) => check(contentSyncRefusal(from(source), to(target)), expected));

  it.each(PROMOTION)('Promotion %s -> %s', (source, target, expected) => check(promotionRefusal(from(source), to(target)), expected));
});
