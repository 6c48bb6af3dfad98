import { Global, Module } from '@nestjs/common';
import { AUDIT_RECORDER } from '../common/audit';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditScheduler } from './audit.scheduler';
import { AuditService } from './audit.service';

/** Global: every module that changes users, keys, rules, decisions, limits or settings records through the port. */
@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditRepository, AuditService, AuditScheduler, { provide: AUDIT_RECORDER, useExisting: AuditService }],
  exports: [AUDIT_RECORDER, AuditService],
})
export class AuditModule {}
