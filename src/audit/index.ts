export { AuditModule } from './audit.module';
export { AuditService } from './audit.service';
export { AUDIT_RETENTION_TASK } from './audit.scheduler';
