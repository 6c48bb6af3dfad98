import { JobArtifactView } from '../jobs';
import type { JobArtifact } from './job-artifact.entity';

/** A completed job's output, as copied (or being copied) into the service's artifact store. */
export class ArtifactView extends JobArtifactView {
  /** Why the copy failed (or why the last try did, while it is retried) */
  error: string | null;
}

export function artifactView(a: JobArtifact): ArtifactView {
  return {
    name: a.name,
    size: a.size,
    sha256: a.sha256,
    content_type: a.contentType,
    status: a.status,
    error: a.error,
    created_at: a.createdAt.toISOString(),
  };
}
