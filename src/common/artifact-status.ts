/** Where the copy of a job's output into the artifact store stands (the job view shows it beside each artifact). */
export const ARTIFACT_STATUSES = ['pending', 'copying', 'stored', 'failed'] as const;
export type ArtifactStatus = (typeof ARTIFACT_STATUSES)[number];
