import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { atLeast, type AuthenticatedUser, type UserLevel } from '../auth';
import { AppConfig } from '../config';
import { ApprovalGateStep, inScopeOf, type ApprovalHold, type EndedJob, type SubmittedJob } from '../jobs';
import type { GateRules, SubmitterHistory } from '../jobs';
import type { ApprovalRule } from './approval-rule.entity';
import { getLogger } from '../logging';
import { ApprovalRulesService } from './approval-rules.service';
import { ApprovalsRepository } from './approvals.repository';
import { candidateRules, evaluateRules } from './rules-engine';

const log = getLogger('simpletuner.cloud.approvals');
/** A quota that requires approval is decided like a rule whose approver level is lead. */
const QUOTA_APPROVER: UserLevel = 'lead';

/**
 * The submit's gate: the first matching rule holds the job for a person. The request is written with the job, in
 * the submit's one statement, so a job is never visible without the request that holds it.
 */
@Injectable()
export class ApprovalGate extends ApprovalGateStep {
  constructor(
    private readonly config: AppConfig,
    private readonly repo: ApprovalsRepository,
    private readonly rules: ApprovalRulesService,
  ) {
    super();
  }

  async evaluate(job: SubmittedJob, user: AuthenticatedUser, history: SubmitterHistory): Promise<ApprovalHold | null> {
    return this.evaluateWith(await this.prepare(user, job.provider), job, user, history);
  }

  async prepare(user: AuthenticatedUser, provider: string): Promise<GateRules & { rules: ApprovalRule[] }> {
    return { rules: candidateRules(await this.rules.activeRules(), user.level, provider) };
  }

  evaluateWith(
    gateRules: GateRules,
    job: SubmittedJob,
    user: AuthenticatedUser,
    history: SubmitterHistory,
  ): ApprovalHold | null {
    const candidates = gateRules.rules as ApprovalRule[];
    if (candidates.length === 0) return null;
    const match = evaluateRules(candidates, {
      userLevel: user.level,
      provider: job.provider,
      hardwareProfile: job.hardwareProfile,
      configName: job.configName,
      costEstimate: job.costEstimate,
      priorJobCount: history.hasEarlierJob ? 1 : 0,
      jobsLast24h: history.jobsLast24h,
    });
    if (!match) return null;
    return this.hold(job, match.reason, {
      id: match.rule.id,
      name: match.rule.name,
      requiredApproverLevel: match.rule.requiredApproverLevel,
    });
  }

  holdForQuota(job: SubmittedJob, reason: string, ruleHold: ApprovalHold | null): ApprovalHold {
    if (!ruleHold) return this.hold(job, reason, { id: null, name: 'Quota', requiredApproverLevel: QUOTA_APPROVER });
    const level = atLeast(ruleHold.rule.requiredApproverLevel, QUOTA_APPROVER)
      ? ruleHold.rule.requiredApproverLevel
      : QUOTA_APPROVER;
    // One request for both, under the rule's hold id (already in the log).
    const rule = { ...ruleHold.rule, requiredApproverLevel: level };
    return this.hold(job, `${ruleHold.reason}; ${reason}`, rule, ruleHold.approvalId);
  }

  /** The request's row and its `approval_required` event, written with the job. */
  private hold(job: SubmittedJob, reason: string, rule: ApprovalHold['rule'], id: string = randomUUID()): ApprovalHold {
    const expiresAt = new Date(job.submittedAt.getTime() + this.config.enterprise.approvalExpiresHours * 3600_000);
    const owner = { jobId: job.jobId, userId: job.userId, orgId: job.orgId };
    log.info('Job requires approval', { job_id: job.jobId, approval_id: id, rule: rule.name, reason });
    return {
      approvalId: id,
      reason,
      rule,
      write: this.repo.requestPart({
        id,
        ...owner,
        ruleId: rule.id,
        ruleName: rule.name,
        requiredApproverLevel: rule.requiredApproverLevel,
        reason,
        estimatedCost: job.costEstimate,
        createdAt: job.submittedAt,
        expiresAt,
      }),
      events: [
        {
          type: 'approval_required',
          ...owner,
          data: {
            approval_id: id,
            rule_id: rule.id,
            rule_name: rule.name,
            reason,
            estimated_cost: job.costEstimate,
            required_approver_level: rule.requiredApproverLevel,
            expires_at: expiresAt.toISOString(),
          },
        },
      ],
    };
  }

  /** A job that ended some other way (cancelled by its owner, say) no longer waits on anyone. */
  async closeFor(ended: EndedJob[]): Promise<void> {
    const waiting = ended.filter(({ job }) => job.requiresApproval);
    if (waiting.length === 0) return;
    const closed = await this.repo.closePendingForJobs(
      waiting.map(({ job }) => ({ jobId: job.jobId, status: job.status })),
    );
    for (const { job, scope } of waiting) {
      const approvalId = closed.get(job.jobId);
      if (!approvalId) continue;
      inScopeOf(job, scope, () =>
        log.info('Approval request closed: job ended', {
          job_id: job.jobId,
          approval_id: approvalId,
          status: job.status,
        }),
      );
    }
  }
}
