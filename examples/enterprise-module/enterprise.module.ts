import { Module } from '@nestjs/common';
import { JobsModule } from '../../src/jobs';
import { ChargebackController } from './chargeback.controller';
import { ChargebackScheduler } from './chargeback.scheduler';
import { ChargebackService } from './chargeback.service';
import { OnpremRegistration } from './onprem-registration';

/**
 * An enterprise build's features, added with `createApp(config, { imports: [OnpremEnterpriseModule] })` and no
 * edit to src/ (see main.ts here, and README "Extending").
 */
@Module({
  imports: [JobsModule],
  providers: [OnpremRegistration, ChargebackService, ChargebackScheduler],
  controllers: [ChargebackController],
})
export class OnpremEnterpriseModule {}
