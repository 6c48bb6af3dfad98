import { Inject, Injectable } from '@nestjs/common';
import { SettingsCache } from '../database/settings-cache';
import { Transactional } from '../database/transactional';
import { AUDIT_RECORDER, AuditRecorder } from '../common/audit';
import { ruleView } from './approval-views';
import { USER_LEVELS, type AuthenticatedUser } from '../auth';
import { NotFoundError, PermissionDeniedError, ValidationError } from '../common/errors';
import { getLogger } from '../logging';
import { ApprovalRule } from './approval-rule.entity';
import type { CreateRuleDto, UpdateRuleDto } from './approvals.dto';
import { ApprovalsRepository } from './approvals.repository';
import { compileRulePattern, isRegexPattern, MAX_PATTERN_LENGTH, UnsupportedPatternError } from './rule-patterns';
import type { RuleCondition } from './rules-engine';

const log = getLogger('simpletuner.cloud.approvals');

/** Bounds that keep a threshold a plain number (no exponent) in storage and comparisons. */
const MAX_COST_THRESHOLD = 1_000_000_000;
const MAX_DAILY_JOBS_THRESHOLD = 1_000_000;

/** Normalises a threshold for its condition, or throws a validation error naming the field. */
function normaliseThreshold(condition: RuleCondition, raw: unknown, caller: AuthenticatedUser): string | null {
  const bad = (why: string) => new ValidationError(`Invalid threshold: ${why}`, { threshold: why });
  switch (condition) {
    case 'first_job':
      return null;
    case 'cost_exceeds':
    case 'daily_jobs_exceed': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      const max = condition === 'cost_exceeds' ? MAX_COST_THRESHOLD : MAX_DAILY_JOBS_THRESHOLD;
      if (!Number.isFinite(n) || n < 0 || n > max) throw bad(`${condition} needs a number from 0 to ${max}`);
      if (condition === 'daily_jobs_exceed' && !Number.isInteger(n))
        throw bad('daily_jobs_exceed needs a whole number');
      return condition === 'cost_exceeds' ? n.toFixed(2) : String(n);
    }
    case 'user_level':
      if (typeof raw !== 'string' || !(USER_LEVELS as readonly string[]).includes(raw))
        throw bad(`user_level needs a level name: ${USER_LEVELS.join(', ')}`);
      return raw;
    case 'hardware_type':
    case 'provider':
    case 'config_pattern': {
      if (typeof raw !== 'string' || raw.trim() === '') throw bad(`${condition} needs a non-empty string`);
      if (raw.length > MAX_PATTERN_LENGTH) throw bad(`at most ${MAX_PATTERN_LENGTH} characters`);
      if (condition === 'config_pattern' && isRegexPattern(raw) && caller.level !== 'admin') {
        // A regex runs on every submit: only admins may write one.
        throw new PermissionDeniedError('Only an admin may create a regex config_pattern');
      }
      if (condition !== 'provider') {
        try {
          compileRulePattern(raw, condition === 'hardware_type');
        } catch (err) {
          if (err instanceof UnsupportedPatternError) throw bad(err.message);
          throw err;
        }
      }
      return raw;
    }
  }
}

/** Approval rules: CRUD for admins and the ordered active list submit evaluates. */
const ACTIVE_RULES_KEY = 'approval_rules.active';

@Injectable()
export class ApprovalRulesService {
  constructor(
    private readonly repo: ApprovalsRepository,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
    private readonly cache: SettingsCache,
  ) {}

  /**
   * Every change of a rule: its audit row (rules apply to every organisation, so it is service-wide), and the
   * cached rules dropped on every instance once the change commits.
   */
  private async record(caller: AuthenticatedUser, action: string, id: string, before: unknown, after: unknown) {
    await this.cache.changed(ACTIVE_RULES_KEY);
    return this.audit.record({
      actor: caller,
      action,
      targetType: 'approval_rule',
      targetId: id,
      orgId: null,
      before,
      after,
    });
  }

  /** Active rules, highest priority first: every submit reads them, so each instance keeps them until they change. */
  activeRules(): Promise<ApprovalRule[]> {
    return this.cache.get(ACTIVE_RULES_KEY, () => this.repo.activeRules());
  }

  list(): Promise<ApprovalRule[]> {
    return this.repo.allRules();
  }

  async get(id: string): Promise<ApprovalRule> {
    const rule = await this.repo.findRule(id);
    if (!rule) throw new NotFoundError(`Approval rule ${id} not found`);
    return rule;
  }

  @Transactional()
  async create(caller: AuthenticatedUser, dto: CreateRuleDto): Promise<ApprovalRule> {
    const rule = await this.repo.saveRule({
      name: dto.name,
      description: dto.description ?? null,
      condition: dto.condition,
      threshold: normaliseThreshold(dto.condition, dto.threshold, caller),
      isActive: dto.is_active ?? true,
      priority: dto.priority ?? 0,
      appliesToProvider: dto.applies_to_provider ?? null,
      exemptLevels: dto.exempt_levels ?? [],
      appliesToLevels: dto.applies_to_levels ?? [],
      requiredApproverLevel: dto.required_approver_level ?? 'lead',
      createdBy: caller.id,
    });
    await this.record(caller, 'approval_rule.create', rule.id, undefined, ruleView(rule));
    log.info(`Approval rule created: ${rule.name}`, {
      rule_id: rule.id,
      condition: rule.condition,
      user_id: caller.id,
    });
    return rule;
  }

  @Transactional()
  async update(caller: AuthenticatedUser, id: string, dto: UpdateRuleDto): Promise<ApprovalRule> {
    const rule = await this.get(id);
    const before = ruleView(rule);
    const condition = dto.condition ?? rule.condition;
    if (dto.condition !== undefined || dto.threshold !== undefined) {
      rule.threshold = normaliseThreshold(
        condition,
        dto.threshold !== undefined ? dto.threshold : rule.threshold,
        caller,
      );
    }
    rule.condition = condition;
    if (dto.name !== undefined) rule.name = dto.name;
    if (dto.description !== undefined) rule.description = dto.description;
    if (dto.is_active !== undefined) rule.isActive = dto.is_active;
    if (dto.priority !== undefined) rule.priority = dto.priority;
    if (dto.applies_to_provider !== undefined) rule.appliesToProvider = dto.applies_to_provider;
    if (dto.exempt_levels !== undefined) rule.exemptLevels = dto.exempt_levels;
    if (dto.applies_to_levels !== undefined) rule.appliesToLevels = dto.applies_to_levels;
    if (dto.required_approver_level !== undefined) rule.requiredApproverLevel = dto.required_approver_level;
    const saved = await this.repo.saveRule(rule);
    await this.record(caller, 'approval_rule.update', id, before, ruleView(saved));
    log.info(`Approval rule updated: ${saved.name}`, { rule_id: id, user_id: caller.id, changed: Object.keys(dto) });
    return saved;
  }

  /** Pending requests of a deleted rule stay pending: they carry the approver level they were created with. */
  @Transactional()
  async remove(caller: AuthenticatedUser, id: string): Promise<void> {
    const rule = await this.get(id);
    await this.repo.deleteRule(id);
    await this.record(caller, 'approval_rule.delete', id, ruleView(rule), undefined);
    log.info(`Approval rule deleted: ${rule.name}`, { rule_id: id, user_id: caller.id });
  }
}
