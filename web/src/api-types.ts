/**
 * The API's shapes, as `npm run client:types` generates them from openapi.json: names only, no shape written here.
 * A field the page reads that the API stops declaring fails `npm run typecheck`.
 */
import type { components } from '../../client/openapi';

type Schemas = components['schemas'];

export type User = Schemas['UserView'];
export type AuthConfig = Schemas['AuthConfigView'];
export type AuthSession = Schemas['SessionView'];
export type UserList = Schemas['UserListView'];
export type OrgList = Schemas['OrgListView'];

export type Job = Schemas['JobView'];
export type JobProgress = Schemas['JobProgressView'];
export type JobList = Schemas['JobListView'];
export type SubmitJobBody = Schemas['SubmitJobDto'];
export type SubmittedJob = Schemas['SubmittedJobView'];
export type RetriedJob = Schemas['RetriedJobView'];
export type BulkJobs = Schemas['BulkJobsView'];
export type BulkDecisions = Schemas['BulkDecisionView'];
export type CostEstimate = Schemas['CostEstimateView'];
export type ProviderList = Schemas['ProviderListView'];
export type Upload = Schemas['UploadView'];
export type Artifact = Schemas['ArtifactView'];
export type JobEventList = Schemas['JobEventListView'];
export type JobEvent = Schemas['JobEventView'];
export type LogStreamLog = Schemas['LogStreamLogEvent'];
export type LogStreamError = Schemas['LogStreamErrorEvent'];
export type UploadContentType = Schemas['UploadContentType'];

export type QueueEntry = Schemas['QueueEntryView'];
export type QueueList = Schemas['QueueListView'];
export type QueuePosition = Schemas['QueuePositionView'];
export type QueueStats = Schemas['QueueStatsView'];
export type WaitReason = Schemas['BlockedReason'];
export type DispatchPause = Schemas['DispatchPauseView'];
export type DispatchPauseList = Schemas['DispatchPauseListView'];

export type ApprovalRequest = Schemas['ApprovalRequestView'];
export type ApprovalRequestList = Schemas['ApprovalRequestListView'];

export type MyQuota = Schemas['MyQuotaView'];
export type UsageReport = Schemas['UsageReportView'];
export type UsageRow = Schemas['UsageRowView'];

export type Channel = Schemas['ChannelView'];
export type ChannelList = Schemas['ChannelListView'];
export type CreatedChannel = Schemas['CreatedChannelView'];
export type DeliveryList = Schemas['DeliveryListView'];
export type TestDelivery = Schemas['TestDeliveryView'];
export type RotatedSecret = Schemas['RotatedSecretView'];
export type BackgroundTasks = Schemas['BackgroundTasksView'];
export type TaskState = Schemas['TaskStateView'];
export type PollingStatus = Schemas['PollingStatusView'];

/** Every error the API answers with: one envelope, one schema per error code. */
export type ErrorBody = Schemas[Extract<keyof Schemas, `${string}Error`>];

/** The `data` of an event on GET /api/events, for the types the API documents. */
export type StreamEventData =
  | Schemas['JobSubmittedEvent']
  | Schemas['JobStatusChangedEvent']
  | Schemas['JobDispatchedEvent']
  | Schemas['ApprovalRequiredEvent']
  | Schemas['ApprovalApprovedEvent']
  | Schemas['ApprovalRejectedEvent']
  | Schemas['ApprovalExpiredEvent']
  | Schemas['CloudJobUpdateEvent']
  | Schemas['QueueLimitsChangedEvent']
  | Schemas['JobProgressEvent']
  | Schemas['StreamErrorEvent'];
