const MAX_NAME = 200;

/** What may appear in an artifact's name: safe in a URL path, a header and any file system. */
export const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** The file name an output URL suggests: its last path segment, reduced to ARTIFACT_NAME's characters. */
function baseName(url: string): string {
  let segment = '';
  try {
    segment = new URL(url).pathname.split('/').filter(Boolean).pop() ?? '';
    segment = decodeURIComponent(segment);
  } catch {
    // A malformed escape: keep the segment as it was.
  }
  const name = segment
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, MAX_NAME);
  return name || 'output';
}

/** `model.safetensors` → `model-2.safetensors`. */
function numbered(name: string, n: number): string {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const suffix = `-${n}`;
  return `${stem.slice(0, MAX_NAME - suffix.length - ext.length)}${suffix}${ext}`;
}

/** One name per output URL of a job, in order, each unique within the job (a later duplicate gets `-2`, `-3`…). */
export function artifactNames(urls: readonly string[]): string[] {
  const taken = new Set<string>();
  return urls.map((url) => {
    const base = baseName(url);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = numbered(base, n);
    taken.add(name);
    return name;
  });
}
