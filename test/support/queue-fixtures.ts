import { randomBytes, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { AuthenticatedUser } from '../../src/auth';
import { JobTransitionService } from '../../src/jobs/job-transition.service';
import { Job } from '../../src/jobs/job.entity';
import { SubmitPipeline } from '../../src/jobs/pipeline/submit.pipeline';
import { QueueEntriesService } from '../../src/queue/queue-entries.service';
import { ProviderRegistry } from '../../src/providers/provider-registry';
import {
  ProviderCallError,
  ProviderJobState,
  ProviderSubmission,
  ProviderStatus,
  TrainingProvider,
} from '../../src/providers/provider.interface';
import { QueueLimitsService } from '../../src/queue/queue-limits.service';
import { QueueQueryService } from '../../src/queue/queue-query.service';
import { QueueService } from '../../src/queue/queue.service';
import { http } from './http';
import { actorFor } from './service-actors';
import { ServiceModule, startServiceModule } from './service-module';
import { startTestApp, TestApp } from './test-app';
import { TestClock } from './test-clock';
import type { TestDatabase } from './test-database';

/** An instant in-process provider that records every create. */
export class FakeQueueProvider implements TrainingProvider {
  readonly creates: { jobId: string; externalId: string }[] = [];
  readonly cancels: string[] = [];
  /** Returns an error to throw for this submission (after recording it, if `created`), or nothing. */
  failWith: ((job: Job, attempt: number) => { error: ProviderCallError; created?: boolean } | void) | null = null;
  /** Runs inside submit before it returns (e.g. a webhook arriving while the create is in flight). */
  duringSubmit: ((job: Job, externalId: string) => Promise<void>) | null = null;
  submitStatus: ProviderStatus = 'queued';

  constructor(readonly name = 'fakeq') {}

  isConfigured(): boolean {
    return true;
  }

  createsFor(jobId: string): number {
    return this.creates.filter((c) => c.jobId === jobId).length;
  }

  async submit(job: Job): Promise<ProviderSubmission> {
    const attempt = this.createsFor(job.jobId) + 1;
    const fault = this.failWith?.(job, attempt);
    const externalId = `p_${randomBytes(6).toString('hex')}`;
    if (fault && !fault.created) throw fault.error;
    this.creates.push({ jobId: job.jobId, externalId });
    if (fault) throw fault.error;
    if (this.duringSubmit) await this.duringSubmit(job, externalId);
    return { externalId, status: this.submitStatus };
  }

  async get(externalId: string): Promise<ProviderJobState | null> {
    const c = this.creates.find((x) => x.externalId === externalId);
    return c ? { externalId, status: 'queued', rawStatus: 'starting', jobId: c.jobId } : null;
  }

  async cancel(externalId: string): Promise<void> {
    this.cancels.push(externalId);
  }

  async findByJobId(jobId: string): Promise<ProviderJobState | null> {
    const c = [...this.creates].reverse().find((x) => x.jobId === jobId);
    return c ? { externalId: c.externalId, status: 'queued', rawStatus: 'starting', jobId } : null;
  }
}

export interface QueueHarness {
  db: DataSource;
  tx: TransactionHost;
  queue: QueueService;
  entries: QueueEntriesService;
  submissions: SubmitPipeline;
  transitions: JobTransitionService;
  registry: ProviderRegistry;
  limits: QueueLimitsService;
  /** The read side and the priority override (what the /api/queue routes call). */
  query: QueueQueryService;
  /** Set when the app was started with a TestClock (startQueueTestApp, startQueueServices). */
  clock?: TestClock;
  /** The bootstrap admin (startQueueServices). */
  admin?: AuthenticatedUser;
}

/** The queue's services of a running app or of a service module (anything Nest can `get` them from). */
export function harness(app: Pick<INestApplication, 'get'>): QueueHarness {
  return {
    db: app.get<DataSource>(getDataSourceToken()),
    tx: app.get(TransactionHost),
    queue: app.get(QueueService),
    entries: app.get(QueueEntriesService),
    submissions: app.get(SubmitPipeline),
    transitions: app.get(JobTransitionService),
    registry: app.get(ProviderRegistry),
    limits: app.get(QueueLimitsService),
    query: app.get(QueueQueryService),
  };
}

export interface Member {
  id: string;
  orgId: string;
  username: string;
}

/** Orgs with users (level lead: no default approval rule applies to them). */
export async function makeMembers(db: DataSource, orgs: number, usersPerOrg: number): Promise<Member[]> {
  const out: Member[] = [];
  for (let o = 0; o < orgs; o++) {
    const [org] = await db.query(`INSERT INTO orgs (name) VALUES ($1) RETURNING id`, [
      `org-${o}-${randomBytes(3).toString('hex')}`,
    ]);
    for (let u = 0; u < usersPerOrg; u++) {
      const username = `u${o}_${u}_${randomBytes(3).toString('hex')}`;
      const [user] = await db.query(
        `INSERT INTO users (username, level, org_id) VALUES ($1, 'lead', $2) RETURNING id`,
        [username, org.id],
      );
      out.push({ id: user.id, orgId: org.id, username });
    }
  }
  return out;
}

/**
 * Submits a job through the submit pipeline as a lead (no default approval rule applies to leads). `requiresApproval`
 * then holds its entry as the approval gate would, without a rule.
 */
export async function submitJob(
  h: QueueHarness,
  member: Member,
  opts: { priority?: number; provider?: string; requiresApproval?: boolean } = {},
): Promise<Job> {
  const user = {
    id: member.id,
    username: member.username,
    level: 'lead' as const,
    orgId: member.orgId,
    apiKeyId: randomUUID(),
  };
  const { body } = await h.submissions.submit(user, {
    config_name: 'cfg',
    config: {},
    provider: opts.provider ?? 'fakeq',
    hardware_profile: 'l40s',
    priority: opts.priority ?? 10,
  });
  if (opts.requiresApproval) {
    await h.db.query(
      `UPDATE queue_entries SET status = 'blocked', blocked_reason = 'awaiting_approval', pending_since = NULL,
              next_aging_at = NULL WHERE job_id = $1`,
      [body.job_id],
    );
  }
  const [job] = await h.db.getRepository(Job).findBy({ jobId: body.job_id });
  return job;
}

export interface SlotSample {
  global: number;
  maxUser: number;
  maxOrg: number;
}

/** Slots held right now, from the database (running + dispatching). */
export async function sampleSlots(db: DataSource): Promise<SlotSample> {
  const rows: { user_id: string; org_id: string; n: number }[] = await db.query(
    `SELECT user_id, org_id, count(*)::int AS n FROM queue_entries WHERE status IN ('dispatching','running') GROUP BY user_id, org_id`,
  );
  const byUser = new Map<string, number>();
  const byOrg = new Map<string, number>();
  let global = 0;
  for (const r of rows) {
    byUser.set(r.user_id, (byUser.get(r.user_id) ?? 0) + r.n);
    byOrg.set(r.org_id, (byOrg.get(r.org_id) ?? 0) + r.n);
    global += r.n;
  }
  return { global, maxUser: Math.max(0, ...byUser.values()), maxOrg: Math.max(0, ...byOrg.values()) };
}

export async function jobStatuses(db: DataSource): Promise<Record<string, number>> {
  const rows: { status: string; n: number }[] = await db.query(
    `SELECT status, count(*)::int AS n FROM jobs GROUP BY status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export const minutes = (n: number) => n * 60_000;

/** No wake-ups (a tick never goes round again on a release) and the interval tick an hour away. */
const DRIVEN_TICKS = { SIMPLETUNER_QUEUE_INTERVAL: '3600', SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'false' };

/** The whole app on PostgreSQL with the interval tick an hour away and no wake-ups: the tests drive every tick. */
export async function startQueueTestApp(): Promise<{ app: TestApp; h: QueueHarness }> {
  const clock = new TestClock();
  const app = await startTestApp({ env: DRIVEN_TICKS, clock });
  return { app, h: { ...harness(app.app), clock } };
}

/** The queue's services on PostgreSQL, with a set clock, ticking only when the test calls processTick. */
export async function startQueueServices(
  opts: { database?: TestDatabase; env?: Record<string, string> } = {},
): Promise<{ m: ServiceModule; h: QueueHarness }> {
  const clock = new TestClock();
  const m = await startServiceModule({ database: opts.database, env: { ...DRIVEN_TICKS, ...opts.env }, clock });
  try {
    return { m, h: { ...harness(m.module), clock, admin: await actorFor(m.module, m.adminKey) } };
  } catch (err) {
    await m.close();
    throw err;
  }
}

/** What PUT /api/queue/concurrency does for the admin: the stored limits, and their view. */
export function setQueueLimits(
  h: QueueHarness,
  body: Record<string, number | null>,
): ReturnType<QueueLimitsService['update']> {
  if (!h.admin) throw new Error('setQueueLimits needs the harness of startQueueServices');
  return h.limits.update(body, h.admin);
}

/** Every test starts from an idle queue with a fresh instant provider and the real clock. */
export async function resetQueueState(h: QueueHarness): Promise<FakeQueueProvider> {
  const fake = new FakeQueueProvider();
  h.registry.register(fake);
  h.clock?.release();
  await h.db.query(
    `UPDATE queue_entries SET status = 'cancelled' WHERE status NOT IN ('completed','failed','cancelled')`,
  );
  await h.db.query(`UPDATE jobs SET status = 'cancelled' WHERE status NOT IN ('completed','failed','cancelled')`);
  return fake;
}

export async function putQueueLimits(
  app: TestApp,
  body: Record<string, number | null>,
): Promise<Record<string, unknown>> {
  const res = await http(app.url, 'PUT', '/api/queue/concurrency', { key: app.adminKey, body });
  expect(res.status).toBe(200);
  return res.body;
}
