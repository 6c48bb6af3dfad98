import type { TabDef } from './ui/tabs';

/** Where the page is: a tab, and on the Jobs tab possibly one job's detail page (`#jobs/<id>`). */
export interface Route {
  tab: string;
  jobId: string | null;
}

const JOB_PATH = /^jobs\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** The link to a job's detail page: a hash, so a reload or a shared link opens the same job. */
export const jobHref = (jobId: string): string => `#jobs/${jobId}`;

export function routeFromHash(tabs: TabDef[]): Route {
  const hash = location.hash.replace(/^#/, '');
  const job = JOB_PATH.exec(hash);
  if (job) return { tab: 'jobs', jobId: job[1].toLowerCase() };
  return { tab: tabs.some((t) => t.id === hash) ? hash : 'jobs', jobId: null };
}
