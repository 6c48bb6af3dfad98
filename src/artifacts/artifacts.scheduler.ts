import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { getLogger } from '../logging';
import { Interval, TickContext } from '../scheduling';
import { ArtifactCopyService, CopyTickSummary } from './artifact-copy.service';

const log = getLogger('simpletuner.cloud.artifacts');
const ARTIFACT_COPY_TASK = 'artifact_copy';

/** Transport only: the copy queue's tick every SIMPLETUNER_ARTIFACT_COPY_INTERVAL seconds (10 by default). */
@Injectable()
export class ArtifactsScheduler {
  constructor(
    private readonly copies: ArtifactCopyService,
    private readonly clock: Clock,
  ) {}

  // One instance claims per interval; claims are row locks (SKIP LOCKED), so an overlap would still be safe.
  @Interval(ARTIFACT_COPY_TASK, (config) => config.env.SIMPLETUNER_ARTIFACT_COPY_INTERVAL, {
    leader: true,
    onStart: (s) => log.info('Artifact copy task started', { interval_seconds: s.interval_seconds }),
  })
  copy(tick: TickContext): Promise<CopyTickSummary> {
    return this.copies.copyDue(this.clock.now(), tick.tickId);
  }
}
