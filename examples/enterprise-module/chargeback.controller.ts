import { Controller, Get } from '@nestjs/common';
import { MinLevel } from '../../src/auth';
import { ChargebackService } from './chargeback.service';

/** A route of the enterprise build: API key required (global guard), leads and admins only. */
@Controller('api/enterprise/chargeback')
export class ChargebackController {
  constructor(private readonly chargeback: ChargebackService) {}

  @Get()
  @MinLevel('lead')
  report() {
    return { totals: this.chargeback.report() };
  }
}
