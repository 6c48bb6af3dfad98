/** The parts of a Replicate prediction this service reads. */
export interface ReplicatePrediction {
  id: string;
  status: string;
  version?: string;
  input?: Record<string, unknown> | null;
  output?: unknown;
  error?: unknown;
  logs?: string | null;
  metrics?: { predict_time?: number } | null;
  created_at?: string | null;
  started_at?: string | null;
  completed_at?: string | null;
  urls?: { get?: string; cancel?: string; stream?: string; web?: string } | null;
}

export interface ReplicatePage<T> {
  results: T[];
  next: string | null;
  previous?: string | null;
}

export interface CreatePredictionBody {
  version: string;
  input: Record<string, unknown>;
  webhook?: string;
  webhook_events_filter?: string[];
}
