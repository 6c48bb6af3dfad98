import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthenticatedUser, CurrentUser, MinLevel } from '../auth';
import { ListAuditQuery } from './audit.dto';
import { AuditService } from './audit.service';
import { AuditListView } from './audit.view';

@ApiTags('Audit')
@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @MinLevel('lead')
  @ApiOperation({
    summary: 'Audit trail of changes',
    description:
      'Who changed users, keys, organisations, approval rules, limits and provider settings, and who decided ' +
      'approvals; newest first. An admin sees every change; a lead the changes to its organisation.',
  })
  @ApiOkResponse({ type: AuditListView })
  list(@CurrentUser() caller: AuthenticatedUser, @Query() q: ListAuditQuery): Promise<AuditListView> {
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
