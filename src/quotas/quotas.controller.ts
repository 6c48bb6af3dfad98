import { Body, Controller, Delete, Get, Headers, HttpCode, Patch, Post, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { UuidParam } from '../common/uuid-param';
import { ApiErrors } from '../openapi';
import { quotaView } from './quota-views';
import { CreateQuotaDto, UpdateQuotaDto, UsageQuery } from './quotas.dto';
import { QuotasService } from './quotas.service';
import { DeletedQuotaView, MyQuotaView, QuotaListView, QuotaView, UsageReportView } from './quotas.view';
import { UsageService } from './usage.service';

const RIGHTS =
  'An admin manages every quota; a lead the `user` quotas of its organisation’s members and its organisation’s ' +
  '`org` quota (never `global`, `level` or `provider` ones), and may lower but never raise, loosen or remove a ' +
  'quota an admin set. A quota the caller may not see answers 404.';

@ApiTags('Quotas')
@Controller('api/quotas')
export class QuotasController {
  constructor(
    private readonly quotas: QuotasService,
    private readonly usage: UsageService,
  ) {}

  @Get('me')
  @MinLevel('viewer')
  @ApiOperation({
    summary: 'The quotas that apply to me, with what is used',
    description: 'Every active quota that applies to the caller: used and remaining in the current window.',
  })
  @ApiOkResponse({ type: [MyQuotaView] })
  me(@CurrentUser() caller: AuthenticatedUser): Promise<MyQuotaView[]> {
    return this.usage.mine(caller);
  }

  @Get()
  @MinLevel('lead')
  @ApiOperation({ summary: 'List quotas', description: RIGHTS })
  @ApiOkResponse({ type: QuotaListView })
  async list(@CurrentUser() caller: AuthenticatedUser): Promise<QuotaListView> {
    return { quotas: (await this.quotas.list(caller)).map(quotaView) };
  }

  @Post()
  @MinLevel('lead')
  @ApiOperation({ summary: 'Create a quota', description: RIGHTS })
  @ApiCreatedResponse({ type: QuotaView })
  async create(@CurrentUser() caller: AuthenticatedUser, @Body() dto: CreateQuotaDto): Promise<QuotaView> {
    return quotaView(await this.quotas.create(caller, dto));
  }

  @Get(':id')
  @MinLevel('lead')
  @ApiOperation({ summary: 'Get a quota', description: RIGHTS })
  @ApiOkResponse({ type: QuotaView })
  @ApiErrors('not_found')
  async get(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<QuotaView> {
    return quotaView(await this.quotas.get(caller, id));
  }

  @Patch(':id')
  @MinLevel('lead')
  @ApiOperation({ summary: 'Change a quota’s limit, action or activity', description: RIGHTS })
  @ApiOkResponse({ type: QuotaView })
  @ApiErrors('not_found')
  async update(
    @CurrentUser() caller: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Body() dto: UpdateQuotaDto,
  ): Promise<QuotaView> {
    return quotaView(await this.quotas.update(caller, id, dto));
  }

  @Delete(':id')
  @MinLevel('lead')
  @HttpCode(200)
  @ApiOperation({ summary: 'Delete a quota', description: RIGHTS })
  @ApiOkResponse({ type: DeletedQuotaView })
  @ApiErrors('not_found')
  async remove(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<DeletedQuotaView> {
    await this.quotas.remove(caller, id);
    return { deleted: true, id };
  }
}

@ApiTags('Quotas')
@Controller('api/usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @MinLevel('viewer')
  @ApiOperation({
    summary: 'Usage report',
    description:
      'Jobs created in [from, to) (default: the current UTC month), grouped by day, user, org, hardware profile or ' +
      'provider: own jobs for a researcher, the organisation’s for a lead or viewer, all for an admin. ' +
      '`Accept: text/csv` or `format=csv` answers CSV: a header row, a row per key and a last row `total`.',
  })
  @ApiExtraModels(UsageReportView)
  @ApiOkResponse({
    description: 'The report, as JSON or (asked for) CSV',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(UsageReportView) } },
      'text/csv': {
        schema: {
          type: 'string',
          example:
            'key,label,jobs,completed,failed,cancelled,cost_usd,open_estimate,gpu_seconds\r\n' +
            '2026-12-06,,3,2,1,0,7,0,7200\r\ntotal,,3,2,1,0,7,0,7200\r\n',
        },
      },
    },
  })
  async report(
    @CurrentUser() caller: AuthenticatedUser,
    @Query() q: UsageQuery,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UsageReportView | string> {
    const report = await this.usage.report(caller, q);
    const csv = q.format === 'csv' || (q.format === undefined && /\btext\/csv\b/i.test(accept ?? ''));
    if (!csv) return report;
    res.type('text/csv; charset=utf-8');
    return this.usage.toCsv(report);
  }
}
