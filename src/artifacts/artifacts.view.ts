import { ApiDateTime, ApiEnum, ApiInt } from '../openapi';
import { ARTIFACT_STATUSES, type ArtifactStatus, type JobArtifact } from './job-artifact.entity';

/** A completed job's output, as copied (or being copied) into the service's artifact store. */
export class ArtifactView {
  /** Unique within the job; the download is `GET /api/cloud/jobs/{id}/artifacts/{name}` */
  name: string;
  /** Bytes stored (null until stored) */
  @ApiInt({ nullable: true })
  size: number | null;
  /** Hex SHA-256 of the stored bytes, the download's ETag (null until stored) */
  sha256: string | null;
  /** As the provider served it (null until stored); the download itself is always application/octet-stream */
  content_type: string | null;
  /** `pending` and `copying` until the copy ends `stored` or, after its last try, `failed` */
  @ApiEnum(ARTIFACT_STATUSES, 'ArtifactStatus')
  status: ArtifactStatus;
  /** Why the copy failed (or why the last try did, while it is retried) */
  error: string | null;
  @ApiDateTime()
  created_at: string;
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
