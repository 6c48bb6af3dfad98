import { Inject, Injectable } from '@nestjs/common';
import { AUDIT_RECORDER, AuditRecorder } from '../common/audit';
import { ConflictError, NotFoundError } from '../common/errors';
import { Transactional } from '../database/transactional';
import type { AuthenticatedUser } from './authenticated-user';
import type { Org } from './org.entity';
import type { User } from './user.entity';
import { DuplicateError, StillReferencedError, UsersRepository } from './users.repository';

/**
 * Organisations: a caller sees its own (an admin all; any other is 404), an admin renames and deletes them. An
 * organisation is deleted only with no user and no active job. When its history still names it (former members'
 * finished jobs, approval requests, uploads) it is marked deleted instead of removed: gone for every lookup, its
 * name free again, its history intact; its notification channels go either way.
 */
@Injectable()
export class OrgsService {
  constructor(
    private readonly repo: UsersRepository,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
  ) {}

  async findVisible(caller: AuthenticatedUser, id: string): Promise<Org> {
    const org = caller.level === 'admin' || caller.orgId === id ? await this.repo.findOrg(id) : null;
    if (!org) throw new NotFoundError(`Organisation ${id} not found`);
    return org;
  }

  async members(caller: AuthenticatedUser, id: string): Promise<User[]> {
    const org = await this.findVisible(caller, id);
    return this.repo.listUsers(org.id);
  }

  @Transactional()
  async rename(caller: AuthenticatedUser, id: string, name: string): Promise<Org> {
    const org = await this.findVisible(caller, id);
    const before = { name: org.name };
    org.name = name;
    try {
      await this.repo.saveOrg(org);
    } catch (err) {
      if (err instanceof DuplicateError) throw new ConflictError(`Organisation ${name} exists`, { name });
      throw err;
    }
    await this.audit.record({
      actor: caller,
      action: 'org.update',
      targetType: 'org',
      targetId: org.id,
      orgId: org.id,
      before,
      after: { name },
    });
    return org;
  }

  @Transactional()
  async delete(caller: AuthenticatedUser, id: string): Promise<void> {
    const org = await this.findVisible(caller, id);
    const users = await this.repo.countOrgUsers(org.id);
    if (users > 0) {
      throw new ConflictError(`Organisation ${org.name} still has ${users} users`, { users });
    }
    const activeJobs = await this.repo.countActiveOrgJobs(org.id);
    if (activeJobs > 0) {
      throw new ConflictError(`Organisation ${org.name} still has ${activeJobs} active jobs`, {
        active_jobs: activeJobs,
      });
    }
    if (await this.repo.orgHasHistory(org.id)) {
      await this.repo.markOrgDeleted(org.id);
    } else {
      try {
        await this.repo.deleteOrg(org.id);
      } catch (err) {
        // A record of a kind orgHasHistory does not know still names it.
        if (err instanceof StillReferencedError) {
          throw new ConflictError(`Organisation ${org.name} still has records that name it`, { org_id: org.id });
        }
        throw err;
      }
    }
    await this.audit.record({
      actor: caller,
      action: 'org.delete',
      targetType: 'org',
      targetId: org.id,
      orgId: null,
      before: { id: org.id, name: org.name },
    });
  }
}
