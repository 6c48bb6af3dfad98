import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { CurrentUser, MinLevel } from '../auth/auth.decorators';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { ApprovalRulesService } from './approval-rules.service';
import { requestView, ruleView } from './approval-views';
import { ApproveDto, CreateRuleDto, ListRequestsQuery, RejectDto, UpdateRuleDto } from './approvals.dto';
import { ApprovalsService } from './approvals.service';
import { UuidParam } from '../common/uuid-param';

/** SPEC §7 routes. Deciding needs the rule's approver level (checked by the service); rules are admin-only. */
@Controller('api/approvals')
export class ApprovalsController {
  constructor(
    private readonly approvals: ApprovalsService,
    private readonly rules: ApprovalRulesService,
  ) {}

  @Get('requests')
  @MinLevel('viewer')
  async list(@CurrentUser() caller: AuthenticatedUser, @Query() q: ListRequestsQuery) {
    const { requests, pendingCount } = await this.approvals.list(caller, q);
    return { requests: requests.map(requestView), pending_count: pendingCount };
  }

  @Get('requests/:id')
  @MinLevel('viewer')
  async get(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string) {
    return requestView(await this.approvals.get(caller, id));
  }

  @Post('requests/:id/approve')
  @MinLevel('viewer')
  @HttpCode(200)
  async approve(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string, @Body() dto: ApproveDto) {
    return requestView(await this.approvals.approve(caller, id, dto.notes));
  }

  @Post('requests/:id/reject')
  @MinLevel('viewer')
  @HttpCode(200)
  async reject(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string, @Body() dto: RejectDto) {
    return requestView(await this.approvals.reject(caller, id, dto.reason));
  }

  @Post('requests/:id/cancel')
  @MinLevel('viewer')
  @HttpCode(200)
  async cancel(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string) {
    return requestView(await this.approvals.cancel(caller, id));
  }

  @Get('rules')
  async listRules() {
    return { rules: (await this.rules.list()).map(ruleView) };
  }

  @Post('rules')
  async createRule(@CurrentUser() caller: AuthenticatedUser, @Body() dto: CreateRuleDto) {
    return ruleView(await this.rules.create(caller, dto));
  }

  @Patch('rules/:id')
  async updateRule(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string, @Body() dto: UpdateRuleDto) {
    return ruleView(await this.rules.update(caller, id, dto));
  }

  @Delete('rules/:id')
  @HttpCode(200)
  async deleteRule(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string) {
    await this.rules.remove(caller, id);
    return { deleted: true, id };
  }

  @Post('expire')
  @HttpCode(200)
  async expire() {
    return this.approvals.expireDue(new Date());
  }
}
