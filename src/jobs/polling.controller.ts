import { Body, Controller, Get, Put } from '@nestjs/common';
import { PollingSettingDto } from './jobs.dto';
import { PollingScheduler } from './polling.scheduler';

@Controller('api/cloud/polling')
export class PollingController {
  constructor(private readonly polling: PollingScheduler) {}

  @Get('status')
  status() {
    return this.polling.status();
  }

  @Put('setting')
  async setting(@Body() dto: PollingSettingDto) {
    return this.polling.setPreference(dto.enabled);
  }
}
