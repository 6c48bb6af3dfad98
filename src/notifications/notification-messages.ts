/** The body every channel kind starts from: `{type, timestamp, data}`. */
export interface NotificationPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** One line a person reads: what happened, to which job. */
function summaryOf(p: NotificationPayload): string {
  const d = p.data;
  const job = str(d.config_name) ?? str(d.job_id);
  const jobPart = job ? ` ${job}` : '';
  switch (p.type) {
    case 'job.submitted':
      return `Job${jobPart} was submitted`;
    case 'job.started':
      return `Job${jobPart} started`;
    case 'job.completed':
      return `Job${jobPart} completed`;
    case 'job.failed':
      return `Job${jobPart} failed${str(d.error_message) ? `: ${str(d.error_message)}` : ''}`;
    case 'job.cancelled':
      return `Job${jobPart} was cancelled`;
    case 'approval.required':
      return `Approval required for job${jobPart}: ${str(d.reason) ?? str(d.rule_name) ?? 'a rule matched'}`;
    case 'approval.approved':
      return `Job${jobPart} was approved`;
    case 'approval.rejected':
      return `Job${jobPart} was rejected${str(d.reason) ? `: ${str(d.reason)}` : ''}`;
    case 'approval.expired':
      return `The approval request for job${jobPart} expired`;
    case 'artifact.failed':
      return `Copying artifact ${str(d.name) ?? ''} of job${jobPart} failed`;
    case 'test':
      return 'Test notification from SimpleTuner';
    default:
      return `${p.type}${jobPart}`;
  }
}

/** The dashboard page of the job the notification is about (null: it is about no job). */
function jobLink(publicUrl: string, p: NotificationPayload): string | null {
  const jobId = str(p.data.job_id);
  return jobId ? `${publicUrl.replace(/\/+$/, '')}/dashboard#jobs/${encodeURIComponent(jobId)}` : null;
}

/** A Slack incoming-webhook message: the summary with a link to the job (Slack's `<url|label>` markup). */
export function slackMessage(publicUrl: string, p: NotificationPayload): { text: string } {
  const link = jobLink(publicUrl, p);
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return { text: `${escape(summaryOf(p))}${link ? ` <${link}|Open in SimpleTuner>` : ''}` };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An email: subject, plain text and HTML. */
export function emailMessage(
  publicUrl: string,
  p: NotificationPayload,
): { subject: string; text: string; html: string } {
  const summary = summaryOf(p);
  const link = jobLink(publicUrl, p);
  const details = Object.entries(p.data)
    .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => [k, String(v)] as const);
  const text = [summary, '', ...details.map(([k, v]) => `${k}: ${v}`), ...(link ? ['', link] : [])].join('\n');
  const rows = details.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`);
  const html =
    `<p>${escapeHtml(summary)}</p><table>${rows.join('')}</table>` +
    (link ? `<p><a href="${escapeHtml(link)}">Open in SimpleTuner</a></p>` : '');
  return { subject: `[SimpleTuner] ${summary}`.slice(0, 200), text, html };
}
