import { EXPENSIVE, makeOrg, makeUser, setRuleActive, submit } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startSmtpServer, SmtpServer } from '../support/smtp';
import { startTestApp, TestApp } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * Email through a real SMTP server (smtp-server, started here) and Slack through a local receiver: an approval
 * request reaches the eligible approver of the job's organisation (and not a lead of another), and Slack gets a
 * short text with a link to the job in the dashboard.
 */
describe('email and Slack notifications (PostgreSQL)', () => {
  let app: TestApp;
  let smtp: SmtpServer;
  const slack = new WebhookReceiver();

  beforeAll(async () => {
    smtp = await startSmtpServer();
    await slack.start();
    app = await startTestApp({
      env: {
        SIMPLETUNER_SMTP_URL: smtp.url,
        SIMPLETUNER_SMTP_FROM: 'SimpleTuner <st@example.test>',
        SIMPLETUNER_PUBLIC_URL: 'https://tuner.example.test',
        SIMPLETUNER_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
        SIMPLETUNER_NOTIFY_INTERVAL: '0.2',
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await smtp?.stop();
    await slack.stop();
  });

  it('sends approval.required to the eligible approvers of the job’s org by email, and a Slack message with a link', async () => {
    await setRuleActive(app, 'High Cost Jobs', true);
    const orgA = await makeOrg(app, 'mail-a');
    const orgB = await makeOrg(app, 'mail-b');
    const researcher = await makeUser(app, 'mail-researcher', 'researcher', orgA);
    const leadA = await makeUser(app, 'mail-lead-a', 'lead', orgA);
    const leadB = await makeUser(app, 'mail-lead-b', 'lead', orgB);
    for (const [user, email] of [
      [researcher, 'researcher@a.test'],
      [leadA, 'lead@a.test'],
      [leadB, 'lead@b.test'],
    ] as const) {
      const res = await http(app.url, 'PATCH', `/api/users/${user.id}`, { key: app.adminKey, body: { email } });
      expect(res.status).toBe(200);
    }
    const email = await http(app.url, 'POST', '/api/notifications/channels', {
      key: app.adminKey,
      body: {
        kind: 'email',
        name: 'approvers',
        owner_scope: 'global',
        config: { recipients: ['approvers'] },
        events: ['approval.required'],
      },
    });
    expect(email.status).toBe(201);
    const chat = await http(app.url, 'POST', '/api/notifications/channels', {
      key: app.adminKey,
      body: {
        kind: 'slack',
        name: 'ops',
        owner_scope: 'global',
        config: { url: `${slack.url}/services/T000/B000/XXXX` },
        events: ['approval.required'],
      },
    });
    expect(chat.status).toBe(201);

    const job = await submit(app, researcher.key, EXPENSIVE);
    expect(job.status).toBe(201);
    expect(job.body.requires_approval).toBe(true);
    const jobId = job.body.job_id as string;

    await smtp.waitFor((m) => m.length >= 1);
    await slack.waitFor((r) => r.length >= 1);
    // Let any other (wrong) message arrive before judging.
    await new Promise((r) => setTimeout(r, 1000));
    expect(smtp.messages).toHaveLength(1);
    const [mail] = smtp.messages;
    expect(mail.to).toEqual(['lead@a.test']);
    expect(mail.from).toBe('st@example.test');
    // Quoted-printable: soft line breaks and encoded words undone well enough to read.
    const plain = mail.data.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    expect(plain).toMatch(/Subject: =\?UTF-8\?Q\?=5BSimpleTuner=5D_Approval_required/);
    expect(mail.data).toMatch(/text\/plain/);
    expect(mail.data).toMatch(/text\/html/);
    expect(plain).toContain(`https://tuner.example.test/dashboard#jobs/${jobId}`);

    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0].json.text).toMatch(/^Approval required for job/);
    expect(slack.requests[0].json.text).toContain(`<https://tuner.example.test/dashboard#jobs/${jobId}|`);

    const test = await http(app.url, 'POST', `/api/notifications/channels/${email.body.id}/test`, {
      key: app.adminKey,
    });
    // `approvers` of a test event: nobody to send to.
    expect(test.body).toMatchObject({ status: 'failed', error: 'No recipient has an email address' });
  });
});
