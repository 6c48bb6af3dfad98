import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Api } from '../api';
import type { Upload } from '../api-types';
import { bytes } from '../format';
import { describedBy } from '../ui/field';
import { archiveType, type DatasetState, type JobForm } from './new-job-checks';

export type UploadState =
  | { status: 'none' }
  | { status: 'uploading'; file: File; sent: number; total: number }
  | { status: 'uploaded'; file: File; upload: Upload }
  | { status: 'failed'; file: File; error: ApiError };

export const datasetState = (u: UploadState): DatasetState => (u.status === 'none' ? 'none' : u.status);

/**
 * Uploads a chosen archive at once (POST /api/cloud/uploads, the raw file as the body), reporting the bytes sent; a
 * new choice, Cancel or leaving the view aborts the one in flight, and a stale answer is dropped.
 */
export function useUpload(api: Api) {
  const [state, setState] = useState<UploadState>({ status: 'none' });
  const current = useRef<AbortController | null>(null);
  useEffect(() => () => current.current?.abort(), []);

  const start = (file: File) => {
    current.current?.abort();
    const type = archiveType(file.name);
    if (!type) {
      const error = new ApiError(0, 'client_error', `${file.name} is not a .zip, .tar or .tar.gz archive`, null);
      setState({ status: 'failed', file, error });
      return;
    }
    const mine = new AbortController();
    current.current = mine;
    const still = () => current.current === mine;
    setState({ status: 'uploading', file, sent: 0, total: file.size });
    const onProgress = (sent: number, total: number) => still() && setState({ status: 'uploading', file, sent, total });
    api
      .upload<Upload>(
        `/api/cloud/uploads?filename=${encodeURIComponent(file.name)}`,
        file,
        type,
        onProgress,
        mine.signal,
      )
      .then((upload) => still() && setState({ status: 'uploaded', file, upload }))
      .catch((err: unknown) => {
        if (!still()) return;
        const error = err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err), null);
        setState(error.code === 'aborted' ? { status: 'none' } : { status: 'failed', file, error });
      });
  };
  const cancel = () => {
    current.current?.abort();
    current.current = null;
    setState({ status: 'none' });
  };
  return { state, start, cancel };
}

function UploadStatus({ state, onCancel }: { state: UploadState; onCancel: () => void }) {
  if (state.status === 'none') return null;
  if (state.status === 'failed') {
    return (
      <p class="field-error" role="alert">
        Upload of {state.file.name} failed: {state.error.fullMessage}
        {state.error.correlationId && (
          <>
            {' '}
            (correlation id <code>{state.error.correlationId}</code>)
          </>
        )}
      </p>
    );
  }
  const total = state.status === 'uploading' ? state.total : state.upload.size;
  const sent = state.status === 'uploading' ? state.sent : total;
  const percent = total > 0 ? Math.floor((sent / total) * 100) : 100;
  return (
    <div class="upload-status">
      <progress max={Math.max(total, 1)} value={total > 0 ? sent : 1} aria-label={`Upload of ${state.file.name}`} />
      <p role="status">
        {state.status === 'uploading' ? (
          <>
            {percent} % · {bytes(sent)} of {bytes(total)}
          </>
        ) : (
          <>
            100 % · uploaded <strong>{state.file.name}</strong> ({bytes(state.upload.size)}, sha256{' '}
            <code title={state.upload.sha256}>{state.upload.sha256.slice(0, 12)}…</code>)
          </>
        )}
      </p>
      {state.status === 'uploading' && (
        <button type="button" class="secondary small" onClick={onCancel}>
          Cancel upload
        </button>
      )}
    </div>
  );
}

interface DatasetFieldProps {
  form: JobForm;
  provider: string | undefined;
  upload: ReturnType<typeof useUpload>;
  error: string | undefined;
  onChange: (patch: Partial<JobForm>) => void;
}

/** The archive the trainer downloads: a file uploaded from here (with its progress) or an https:// URL. */
export function DatasetField({ form, provider, upload, error, onChange }: DatasetFieldProps) {
  const byUpload = form.datasetMode === 'upload';
  const inputId = byUpload ? 'dataset-file' : 'dataset-url';
  return (
    <fieldset class="field field-wide dataset">
      <legend>Dataset</legend>
      <p class="hint">
        The images the trainer downloads, as one archive. Optional when the dataloader reads its data from elsewhere.
      </p>
      <div class="choice">
        <label>
          <input
            type="radio"
            name="dataset-mode"
            checked={byUpload}
            onChange={() => onChange({ datasetMode: 'upload' })}
          />
          Upload an archive
        </label>
        <label>
          <input
            type="radio"
            name="dataset-mode"
            checked={!byUpload}
            onChange={() => onChange({ datasetMode: 'url' })}
          />
          Give its URL
        </label>
      </div>
      {/* Both stay in the page, so switching back shows the file chosen and its upload, not an empty input. */}
      <div class="dataset-source" hidden={!byUpload}>
        <label for="dataset-file">Archive file</label>
        <input
          {...describedBy('dataset-file', true, byUpload ? error : undefined)}
          type="file"
          accept=".zip,.tar,.tar.gz,.tgz"
          onChange={(e) => {
            const file = (e.target as HTMLInputElement).files?.[0];
            if (file) upload.start(file);
          }}
        />
        <p id="dataset-file-hint" class="hint">
          A .zip, .tar or .tar.gz archive. It is sent{provider ? ` to ${provider}` : ''} as soon as you choose it, and
          kept there for about a day.
        </p>
        <UploadStatus state={upload.state} onCancel={upload.cancel} />
      </div>
      <div class="dataset-source" hidden={byUpload}>
        <label for="dataset-url">Archive URL</label>
        <input
          {...describedBy('dataset-url', true, byUpload ? undefined : error)}
          type="url"
          inputMode="url"
          spellcheck={false}
          placeholder="https://example.com/datasets/portraits.zip"
          value={form.datasetUrl}
          onInput={(e) => onChange({ datasetUrl: (e.target as HTMLInputElement).value })}
        />
        <p id="dataset-url-hint" class="hint">
          An https:// URL of a .zip, .tar or .tar.gz archive.
        </p>
      </div>
      {error && (
        <p id={`${inputId}-error`} class="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}
