import { Controller, Get, Query } from '@nestjs/common';
import { AuthenticatedUser, CurrentUser, MinLevel } from '../auth';
import { ListAuditQuery } from './audit.dto';
import { AuditService } from './audit.service';

@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Newest first. Admins see every change; a lead sees the changes to its organisation. */
  @Get()
  @MinLevel('lead')
  list(@CurrentUser() caller: AuthenticatedUser, @Query() q: ListAuditQuery) {
    return this.audit.list(
      {
        ...(caller.level === 'admin' ? {} : { orgId: caller.orgId }),
        action: q.action,
        actorId: q.actor_id,
        targetType: q.target_type,
        targetId: q.target_id,
        since: q.since ? new Date(q.since) : undefined,
        until: q.until ? new Date(q.until) : undefined,
      },
      q.limit ?? 50,
      q.offset ?? 0,
    );
  }
}
