import { Body, Controller, Get, HttpCode, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { ApiErrors } from '../openapi';
import { DispatchPausesService } from './dispatch-pauses.service';
import { PauseDispatchDto, PauseTargetDto } from './queue.dto';
import { DispatchPauseListView, DispatchPauseView } from './queue.view';

const WHO = 'An admin pauses or resumes any scope; a lead its own organisation (`scope: org`) only.';

/** Pausing and resuming dispatch (stored, for every instance). */
@ApiTags('Queue')
@Controller('api/queue')
export class DispatchPausesController {
  constructor(private readonly pauses: DispatchPausesService) {}

  @Get('pauses')
  @MinLevel('viewer')
  @ApiOperation({
    summary: 'The paused dispatch scopes',
    description: 'Global and provider pauses, and the caller’s organisation’s; an admin sees every one.',
  })
  @ApiOkResponse({ type: DispatchPauseListView })
  async list(@CurrentUser() caller: AuthenticatedUser): Promise<DispatchPauseListView> {
    return { pauses: await this.pauses.list(caller) };
  }

  @Post('pause')
  @MinLevel('lead')
  @ApiOperation({
    summary: 'Pause dispatch for a scope',
    description: `Nothing in the scope is dispatched until it is resumed: its entries stay pending (blocked_reason \`paused\`) and running jobs go on. ${WHO}`,
  })
  @ApiResponse({ status: 201, description: 'The scope is now paused', type: DispatchPauseView })
  @ApiResponse({
    status: 200,
    description: 'The scope was already paused: that pause, unchanged',
    type: DispatchPauseView,
  })
  @ApiErrors('permission_denied')
  async pause(
    @CurrentUser() caller: AuthenticatedUser,
    @Body() dto: PauseDispatchDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DispatchPauseView> {
    const { created, pause } = await this.pauses.pause(caller, dto, dto.reason);
    res.status(created ? 201 : 200);
    return pause;
  }

  @Post('resume')
  @MinLevel('lead')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resume dispatch for a paused scope',
    description: `Its waiting entries are dispatched from the next queue tick. ${WHO}`,
  })
  @ApiOkResponse({ type: DispatchPauseView, description: 'The pause that was lifted' })
  @ApiErrors('permission_denied', 'not_found')
  resume(@CurrentUser() caller: AuthenticatedUser, @Body() dto: PauseTargetDto): Promise<DispatchPauseView> {
    return this.pauses.resume(caller, dto);
  }
}
