import { Clock } from '../common/clock';
import { Injectable } from '@nestjs/common';
import type { AuditEntry, AuditRecorder } from '../common/audit';
import { redactSecrets } from '../common/secrets';
import { AppConfig } from '../config';
import { getClientIp, getCorrelationId } from '../context';
import { getLogger } from '../logging';
import { AuditFilter, AuditRepository, AuditRow } from './audit.repository';
import type { AuditListView, AuditView } from './audit.view';

const log = getLogger('simpletuner.cloud.audit');

function view(r: AuditRow): AuditView {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    actor: { id: r.actor_id, username: r.actor_name, api_key_id: r.actor_key_id },
    org_id: r.org_id,
    action: r.action,
    target: { type: r.target_type, id: r.target_id },
    before: r.before ?? null,
    after: r.after ?? null,
    correlation_id: r.correlation_id,
    client_ip: r.client_ip,
  };
}

/** Who changed what: one row per change, in the change's own transaction, secrets redacted. */
@Injectable()
export class AuditService implements AuditRecorder {
  constructor(
    private readonly repo: AuditRepository,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.repo.insert([this.row(entry)]);
  }

  async recordMany(entries: AuditEntry[]): Promise<void> {
    if (entries.length > 0) await this.repo.insert(entries.map((e) => this.row(e)));
  }

  private row(entry: AuditEntry): Omit<AuditRow, 'id' | 'at'> {
    return {
      actor_id: entry.actor?.id ?? null,
      actor_name: entry.actor?.username ?? null,
      actor_key_id: entry.actor?.apiKeyId ?? null,
      org_id: entry.orgId,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      before: entry.before === undefined ? undefined : redactSecrets(entry.before),
      after: entry.after === undefined ? undefined : redactSecrets(entry.after),
      correlation_id: getCorrelationId(),
      client_ip: getClientIp(),
    };
  }

  async list(filter: AuditFilter, limit: number, offset: number): Promise<AuditListView> {
    const { rows, total } = await this.repo.list(filter, limit, offset);
    return { entries: rows.map(view), total };
  }

  /** Retention: rows older than SIMPLETUNER_AUDIT_RETENTION_DAYS before `now` go. */
  async pruneExpired(now = this.clock.now()): Promise<number> {
    const days = this.config.env.SIMPLETUNER_AUDIT_RETENTION_DAYS;
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    const pruned = await this.repo.deleteOlderThan(cutoff);
    if (pruned > 0) log.info(`Pruned ${pruned} audit rows older than ${cutoff.toISOString()}`, { pruned });
    return pruned;
  }
}
