import { useState } from 'preact/hooks';
import { useDashboard } from '../dashboard-context';
import { bytes } from '../format';
import { useReloadOnEvents, useResource } from '../hooks';
import type { Artifact } from '../api-types';
import { ListState } from '../ui/list-state';
import { StatusBadge } from '../ui/status-badge';

/** Hands a fetched file to the browser's own download, under the artifact's name. */
function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has taken its copy by the next task; the page's reference is released.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * The job's outputs as copied into the service's store. A download is fetched with the key in its header (a plain
 * link would need the key in its URL, where browser history and proxies keep it) and then saved by the browser.
 */
export function JobArtifacts({ jobId, finished }: { jobId: string; finished: boolean }) {
  const { api, reportFailure } = useDashboard();
  const [busy, setBusy] = useState<string | null>(null);
  const artifacts = useResource(() => api.get<Artifact[]>(`/api/cloud/jobs/${jobId}/artifacts`), [jobId, finished]);
  useReloadOnEvents(
    ['artifact_stored', 'artifact_failed'],
    artifacts.reload,
    250,
    ({ data }) => 'job_id' in data && data.job_id === jobId,
  );

  const download = async (a: Artifact) => {
    setBusy(a.name);
    try {
      saveBlob(await api.download(`/api/cloud/jobs/${jobId}/artifacts/${encodeURIComponent(a.name)}`), a.name);
    } catch (err) {
      reportFailure(`Download ${a.name}`, err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <ListState
      resource={artifacts}
      what="artifacts"
      isEmpty={(list) => list.length === 0}
      empty={finished ? 'This job left no outputs.' : 'Outputs are copied here when the job completes.'}
    >
      {(list) => (
        <table class="data artifacts">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Status</th>
              <th scope="col">SHA-256</th>
              <th scope="col">
                <span class="sr-only">Download</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((a) => (
              <tr key={a.name}>
                <th scope="row" data-label="Name">
                  <span class="name">{a.name}</span>
                  {a.error && <span class="row-error">{a.error}</span>}
                </th>
                <td data-label="Size">{a.size === null ? '—' : bytes(a.size)}</td>
                <td data-label="Status">
                  <StatusBadge status={a.status} />
                </td>
                <td data-label="SHA-256">{a.sha256 ? <code title={a.sha256}>{a.sha256.slice(0, 12)}…</code> : '—'}</td>
                <td data-label="Download" class="actions">
                  {a.status === 'stored' && (
                    <button type="button" class="secondary" disabled={busy === a.name} onClick={() => void download(a)}>
                      {busy === a.name ? 'Downloading…' : 'Download'}
                      <span class="sr-only"> {a.name}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </ListState>
  );
}
