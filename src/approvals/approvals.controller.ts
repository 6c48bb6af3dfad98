import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { ApprovalRulesService } from './approval-rules.service';
import { requestView, ruleView } from './approval-views';
import { bulkSummary } from '../common/bulk';
import {
  ApproveDto,
  BulkDecisionDto,
  CreateRuleDto,
  ListRequestsQuery,
  RejectDto,
  UpdateRuleDto,
} from './approvals.dto';
import { ApprovalsService } from './approvals.service';
import {
  ApprovalRequestListView,
  ApprovalRequestView,
  ApprovalRuleListView,
  ApprovalRuleView,
  BulkDecisionView,
  DeletedRuleView,
  ExpiredSummaryView,
} from './approvals.view';
import { UuidParam } from '../common/uuid-param';
import { ApiErrors } from '../openapi';

const DECIDE =
  "An approver at the rule's level or above, in the job's organisation (an admin anywhere), never the requester. " +
  'Only a pending request changes: a decided or expired one answers 409.';

/** Deciding needs the rule's approver level (checked by the service); rules are admin-only. */
@ApiTags('Approvals')
@Controller('api/approvals')
export class ApprovalsController {
  constructor(
    private readonly approvals: ApprovalsService,
    private readonly rules: ApprovalRulesService,
  ) {}

  @Get('requests')
  @MinLevel('viewer')
  @ApiOperation({
    summary: 'List approval requests',
    description: 'Own requests; a lead those of its organisation; an admin all. Newest first.',
  })
  @ApiOkResponse({ type: ApprovalRequestListView })
  async list(
    @CurrentUser() caller: AuthenticatedUser,
    @Query() q: ListRequestsQuery,
  ): Promise<ApprovalRequestListView> {
    const { requests, pendingCount } = await this.approvals.list(caller, q);
    return { requests: requests.map(requestView), pending_count: pendingCount };
  }

  @Get('requests/:id')
  @MinLevel('viewer')
  @ApiOperation({ summary: 'Get an approval request' })
  @ApiOkResponse({ type: ApprovalRequestView })
  @ApiErrors('not_found')
  async get(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<ApprovalRequestView> {
    return requestView(await this.approvals.get(caller, id));
  }

  @Post('requests/bulk')
  @MinLevel('viewer')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Approve or reject many requests',
    description:
      `Each id as its single route decides it, answered on its own in \`results\`. ${DECIDE} A refused id (your own ` +
      'request, one you may not see or decide, one already decided) fails alone. Up to 100 distinct ids; `reason` ' +
      'is required to reject.',
  })
  @ApiOkResponse({ type: BulkDecisionView })
  async bulk(@CurrentUser() caller: AuthenticatedUser, @Body() dto: BulkDecisionDto): Promise<BulkDecisionView> {
    return bulkSummary(await this.approvals.decideMany(caller, dto.action, dto.ids, dto));
  }

  @Post('requests/:id/approve')
  @MinLevel('viewer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve a request: the job joins the queue', description: DECIDE })
  @ApiOkResponse({ type: ApprovalRequestView })
  @ApiErrors('permission_denied', 'not_found', 'conflict')
  async approve(
    @CurrentUser() caller: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Body() dto: ApproveDto,
  ): Promise<ApprovalRequestView> {
    return requestView(await this.approvals.approve(caller, id, dto.notes));
  }

  @Post('requests/:id/reject')
  @MinLevel('viewer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject a request: the job is cancelled', description: DECIDE })
  @ApiOkResponse({ type: ApprovalRequestView })
  @ApiErrors('permission_denied', 'not_found', 'conflict')
  async reject(
    @CurrentUser() caller: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Body() dto: RejectDto,
  ): Promise<ApprovalRequestView> {
    return requestView(await this.approvals.reject(caller, id, dto.reason));
  }

  @Post('requests/:id/cancel')
  @MinLevel('viewer')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Withdraw a request: the job is cancelled',
    description: 'The requester (or an admin), while the request is pending.',
  })
  @ApiOkResponse({ type: ApprovalRequestView })
  @ApiErrors('permission_denied', 'not_found', 'conflict')
  async cancel(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<ApprovalRequestView> {
    return requestView(await this.approvals.cancel(caller, id));
  }

  @Get('rules')
  @ApiOperation({ summary: 'List approval rules' })
  @ApiOkResponse({ type: ApprovalRuleListView })
  async listRules(): Promise<ApprovalRuleListView> {
    return { rules: (await this.rules.list()).map(ruleView) };
  }

  @Post('rules')
  @ApiOperation({
    summary: 'Create an approval rule',
    description: 'At submission the first matching rule holds the job.',
  })
  @ApiCreatedResponse({ type: ApprovalRuleView })
  async createRule(@CurrentUser() caller: AuthenticatedUser, @Body() dto: CreateRuleDto): Promise<ApprovalRuleView> {
    return ruleView(await this.rules.create(caller, dto));
  }

  @Patch('rules/:id')
  @ApiOperation({ summary: 'Change an approval rule' })
  @ApiOkResponse({ type: ApprovalRuleView })
  @ApiErrors('not_found')
  async updateRule(
    @CurrentUser() caller: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Body() dto: UpdateRuleDto,
  ): Promise<ApprovalRuleView> {
    return ruleView(await this.rules.update(caller, id, dto));
  }

  @Delete('rules/:id')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Delete an approval rule',
    description: 'Its pending requests stay pending, with the approver level they were created with.',
  })
  @ApiOkResponse({ type: DeletedRuleView })
  @ApiErrors('not_found')
  async deleteRule(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<DeletedRuleView> {
    await this.rules.remove(caller, id);
    return { deleted: true, id };
  }

  @Post('expire')
  @HttpCode(200)
  @ApiOperation({ summary: 'Expire overdue requests now', description: 'Their jobs are cancelled.' })
  @ApiOkResponse({ type: ExpiredSummaryView })
  async expire(): Promise<ExpiredSummaryView> {
    return this.approvals.expireDue();
  }
}
