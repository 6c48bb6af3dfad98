import { evaluateRules, RuleInput, SubmissionFacts } from '../../src/approvals/rules-engine';

let seq = 0;
function rule(over: Partial<RuleInput>): RuleInput {
  seq += 1;
  return {
    id: `r${seq}`,
    name: over.name ?? `rule ${seq}`,
    condition: 'cost_exceeds',
    threshold: null,
    isActive: true,
    priority: 0,
    appliesToProvider: null,
    exemptLevels: [],
    appliesToLevels: [],
    createdAt: new Date(2026, 0, 1, 0, 0, seq),
    ...over,
  };
}

const base: SubmissionFacts = {
  userLevel: 'researcher',
  provider: 'simulator',
  hardwareProfile: 'l40s',
  configName: 'flux-lora',
  costEstimate: 10,
  priorJobCount: 3,
  jobsLast24h: 1,
};

describe('approval rules engine', () => {
  // condition, threshold, facts that match, facts that do not
  const table: [string, RuleInput['condition'], string | null, Partial<SubmissionFacts>, Partial<SubmissionFacts>][] = [
    ['cost above the threshold', 'cost_exceeds', '50.00', { costEstimate: 50.01 }, { costEstimate: 50 }],
    ['first job of the user', 'first_job', null, { priorJobCount: 0 }, { priorJobCount: 1 }],
    ['hardware glob', 'hardware_type', 'h100*', { hardwareProfile: 'h100-x8' }, { hardwareProfile: 'l40s-x8' }],
    [
      'hardware glob with alternatives',
      'hardware_type',
      '*-x{4,8}',
      { hardwareProfile: 'l40s-x4' },
      { hardwareProfile: 'l40s-x2' },
    ],
    ['provider name', 'provider', 'replicate', { provider: 'replicate' }, { provider: 'simulator' }],
    ['config glob', 'config_pattern', 'sdxl-*', { configName: 'sdxl-full' }, { configName: 'flux-sdxl' }],
    ['config regex', 'config_pattern', '/^prod[-_]/i', { configName: 'PROD_run' }, { configName: 'preprod-run' }],
    ['daily jobs above the threshold', 'daily_jobs_exceed', '5', { jobsLast24h: 6 }, { jobsLast24h: 5 }],
  ];

  it.each(table)('%s: matches and does not match', (_label, condition, threshold, hit, miss) => {
    const r = rule({ condition, threshold });
    const matched = evaluateRules([r], { ...base, ...hit });
    expect(matched?.rule.id).toBe(r.id);
    expect(matched?.reason).toContain(`(rule "${r.name}")`);
    expect(evaluateRules([r], { ...base, ...miss })).toBeNull();
  });

  it('explains a cost match with both amounts', () => {
    const m = evaluateRules([rule({ name: 'High Cost Jobs', threshold: '50.00' })], { ...base, costEstimate: 62.4 });
    expect(m?.reason).toBe('Estimated cost $62.40 exceeds $50.00 (rule "High Cost Jobs")');
  });

  it('skips a rule whose exempt levels include the user level', () => {
    const r = rule({ condition: 'first_job', exemptLevels: ['lead', 'admin'] });
    const facts = { ...base, priorJobCount: 0 };
    expect(evaluateRules([r], { ...facts, userLevel: 'lead' })).toBeNull();
    expect(evaluateRules([r], { ...facts, userLevel: 'admin' })).toBeNull();
    expect(evaluateRules([r], { ...facts, userLevel: 'researcher' })?.rule.id).toBe(r.id);
  });

  it('ignores inactive rules and rules filtered to another provider', () => {
    const inactive = rule({ threshold: '1', isActive: false });
    const elsewhere = rule({ threshold: '1', appliesToProvider: 'replicate' });
    expect(evaluateRules([inactive, elsewhere], { ...base, costEstimate: 99 })).toBeNull();
    expect(evaluateRules([elsewhere], { ...base, costEstimate: 99, provider: 'replicate' })?.rule.id).toBe(
      elsewhere.id,
    );
  });

  it('lets the highest priority matching rule decide, whatever the list order', () => {
    const low = rule({ name: 'low', threshold: '1', priority: 10 });
    const high = rule({ name: 'high', condition: 'first_job', priority: 90 });
    const facts = { ...base, costEstimate: 99, priorJobCount: 0 };
    expect(evaluateRules([low, high], facts)?.rule.name).toBe('high');
    expect(evaluateRules([high, low], facts)?.rule.name).toBe('high');
    // The higher rule not matching hands the decision to the next one.
    expect(evaluateRules([low, high], { ...facts, priorJobCount: 2 })?.rule.name).toBe('low');
    // Equal priority: the older rule wins.
    const twin = rule({ name: 'twin', threshold: '1', priority: 10 });
    expect(evaluateRules([twin, low], { ...facts, priorJobCount: 2 })?.rule.name).toBe('low');
  });

  it('never matches on a missing or malformed threshold', () => {
    expect(evaluateRules([rule({ threshold: null })], { ...base, costEstimate: 1e6 })).toBeNull();
    expect(evaluateRules([rule({ threshold: 'lots' })], { ...base, costEstimate: 1e6 })).toBeNull();
    expect(evaluateRules([rule({ condition: 'config_pattern', threshold: '/[/' })], base)).toBeNull();
  });

  it('user_level matches submitters at that level; applies_to_levels limits any rule to its levels', () => {
    const researchers = rule({ condition: 'user_level', threshold: 'researcher' });
    expect(evaluateRules([researchers], base)?.reason).toContain('researcher-level');
    expect(evaluateRules([researchers], { ...base, userLevel: 'lead' })).toBeNull();

    const costlyForViewers = rule({ threshold: '1', appliesToLevels: ['viewer'] });
    expect(evaluateRules([costlyForViewers], { ...base, costEstimate: 99 })).toBeNull();
    expect(evaluateRules([costlyForViewers], { ...base, costEstimate: 99, userLevel: 'viewer' })?.rule.id).toBe(
      costlyForViewers.id,
    );
    // Empty: every level.
    expect(
      evaluateRules([rule({ threshold: '1', appliesToLevels: [] })], { ...base, costEstimate: 99 }),
    ).not.toBeNull();
  });
});
