/** How deep an output object is searched for URLs, and how many a job keeps (a model's files, not a crawl). */
const MAX_DEPTH = 4;
const MAX_URLS = 100;
const MAX_URL_LENGTH = 4096;

function asUrl(value: string): string | null {
  if (value.length > MAX_URL_LENGTH || value.includes('\0') || !/^https?:\/\//i.test(value)) return null;
  try {
    return new URL(value).href;
  } catch {
    return null;
  }
}

/**
 * Every http(s) URL in a prediction's `output`: a string, a list, or an object holding URLs (nested a few levels),
 * in the order they appear, each once. Other values (text, numbers, other schemes) are not outputs to copy.
 */
export function outputUrls(output: unknown): string[] {
  const found = new Set<string>();
  const walk = (value: unknown, depth: number): void => {
    if (found.size >= MAX_URLS || depth > MAX_DEPTH) return;
    if (typeof value === 'string') {
      const url = asUrl(value);
      if (url) found.add(url);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, depth + 1);
    } else if (value && typeof value === 'object') {
      for (const item of Object.values(value)) walk(item, depth + 1);
    }
  };
  walk(output, 0);
  return [...found];
}
