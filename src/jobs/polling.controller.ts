import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PollingSettingDto } from './jobs.dto';
import { PollingService } from './polling.service';
import { PollingStatusView } from './jobs.view';

@ApiTags('Polling and tasks')
@Controller('api/cloud/polling')
export class PollingController {
  constructor(private readonly polling: PollingService) {}

  @Get('status')
  @ApiOperation({ summary: 'Whether job status polling runs, and why' })
  @ApiOkResponse({ type: PollingStatusView })
  status(): Promise<PollingStatusView> {
    return this.polling.status();
  }

  @Put('setting')
  @ApiOperation({
    summary: 'Turn job status polling on or off',
    description: 'Stored in the database; `null` returns to the default (the enterprise file, else automatic).',
  })
  @ApiOkResponse({ type: PollingStatusView })
  async setting(@Body() dto: PollingSettingDto): Promise<PollingStatusView> {
    return this.polling.setPreference(dto.enabled);
  }
}
