import { Inject, Injectable, OnModuleInit, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { JobSecretsService } from '../job-secrets.service';
import { ApprovalGateStep, ArtifactsStep, EndedJob, JobEndedStep, QueueStep } from './steps';

/** The classes of the steps an embedding app adds (createApp's `jobEndedSteps`), resolved from its modules. */
export const JOB_ENDED_EXTENSIONS = Symbol('JOB_ENDED_EXTENSIONS');

/**
 * What happens when jobs reach a terminal status, in order, inside the transaction that moved them there (so a
 * slot is never freed for a job whose end rolled back). The transition function runs it once per batch: a poll
 * that ends a hundred jobs releases their slots in one statement. Adding a step is one line here and its service.
 */
@Injectable()
export class JobEndedPipeline implements OnModuleInit {
  private extensions: JobEndedStep[] = [];

  constructor(
    private readonly queue: QueueStep,
    private readonly approvals: ApprovalGateStep,
    private readonly secrets: JobSecretsService,
    private readonly artifacts: ArtifactsStep,
    @Inject(JOB_ENDED_EXTENSIONS) private readonly extensionTypes: Type<JobEndedStep>[],
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    this.extensions = this.extensionTypes.map((type) => this.moduleRef.get(type, { strict: false }));
  }

  async run(ended: EndedJob[]): Promise<void> {
    if (ended.length === 0) return;
    await this.queue.release(ended); // 1. the slot is free (the queue tick is woken after the commit)
    await this.approvals.closeFor(ended); // 2. a request still waiting on the job closes
    await this.secrets.forget(ended); // 3. its secrets are deleted: nothing will dispatch it again
    await this.artifacts.record(ended); // 4. a completed job's outputs are queued for copying before they expire
    for (const step of this.extensions) await step.onJobsEnded(ended); // 5. the embedding app's own steps
  }
}
